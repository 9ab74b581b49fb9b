"""The staff console under /staff/: login with TOTP, residents, departments, staff, audit log.

``StaffMFAMiddleware`` already keeps everything but the login, logout and
set-password pages behind a TOTP-verified staff session. Each view here is thin:
parse the request, check the role (and the object), call ``services.staff``,
render. A refused object is a 403 (``PermissionDenied``), rendered by core/403.html.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from typing import Any, cast

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login

from cityhall.core.http import safe_next
from cityhall.core.ratelimit import ratelimit
from cityhall.people import permissions
from cityhall.people.forms import AccessibleSetPasswordForm, years_to_text
from cityhall.people.models import Consent, Department, StaffAssignment, User
from cityhall.people.services import staff
from cityhall.people.staff_forms import (
    AssignmentForm,
    AuditFilterForm,
    DepartmentForm,
    ReasonForm,
    ResidentProfileForm,
    ResidentSearchForm,
    StaffCreateForm,
    StaffLoginForm,
    TOTPForm,
)

PER_PAGE = 50
NEXT_KEY = "staff_next"
SHOWN_ONCE_KEY = "staff_set_password_link"

SECTIONS: list[tuple[str, Any, Callable[[Any], bool]]] = [
    ("staff:home", gettext_lazy("Home"), lambda u: True),
    ("staff:residents", gettext_lazy("Residents"), permissions.can_view_residents),
    ("staff:departments", gettext_lazy("Departments"), permissions.can_manage_departments),
    ("staff:members", gettext_lazy("Staff"), permissions.can_manage_staff),
    ("staff:audit", gettext_lazy("Audit log"), permissions.can_view_audit),
]


def add_section(
    url_name: str, label: Any, allowed: Callable[[Any], bool], *, after: str = "staff:home"
) -> None:
    """Let an app above ``people`` put its part of the console in the staff nav."""
    if any(name == url_name for name, _label, _allowed in SECTIONS):
        return
    index = next(i for i, (name, _l, _a) in enumerate(SECTIONS) if name == after) + 1
    SECTIONS.insert(index, (url_name, label, allowed))


def sections(user: Any) -> list[dict[str, Any]]:
    """The parts of the console this member of staff may use (the staff nav)."""
    if not permissions.is_console_user(user) or not user.is_verified():
        return []
    return [
        {"url": reverse(name), "label": label, "name": name}
        for name, label, allowed in SECTIONS
        if allowed(user)
    ]


def _render(
    request: HttpRequest,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    section: str = "",
    status: int = 200,
) -> HttpResponse:
    context = dict(context or {})
    context.setdefault("staff_sections", sections(request.user))
    context.setdefault("staff_section", section)
    return render(request, f"people/staff/{template}", context, status=status)


def _form_status(*forms: Any) -> int:
    return 422 if any(form.is_bound and form.errors for form in forms) else 200


def _actor(request: HttpRequest) -> User:
    """The member of staff (StaffMFAMiddleware has made sure of it)."""
    return cast(User, request.user)


def _check(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _next_url(request: HttpRequest) -> str:
    target = request.session.pop(NEXT_KEY, "")
    if target.startswith("/staff/") and not target.startswith(("/staff/login/", "/staff/mfa/")):
        return target
    return reverse("staff:home")


# --- login, TOTP, logout, set password -----------------------------------------------------


@ratelimit("staff-login", "LOGIN_RATE")
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """E-mail and password; then on to the TOTP step. Failures count towards the axes lockout."""
    user = request.user
    if permissions.is_console_user(user) and user.is_verified():  # type: ignore[union-attr]
        return redirect("staff:home")
    form = StaffLoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        target = safe_next(request, "")
        auth_login(request, form.get_user())
        request.session.set_expiry(dt.timedelta(seconds=settings.STAFF_SESSION_AGE))
        if target:
            request.session[NEXT_KEY] = target
        return redirect("staff:mfa")
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    return _render(
        request, "login.html", {"form": form, "next": next_url}, status=_form_status(form)
    )


def _qr_data_uri(device: Any) -> str:
    return segno.make(device.config_url, error="m").svg_data_uri(
        scale=5, border=4, dark="#000", light="#fff", title=_("QR code for your authenticator app")
    )


def _secret_groups(device: Any) -> str:
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@ratelimit("staff-mfa", "LOGIN_RATE")
@require_http_methods(["GET", "POST"])
def mfa(request: HttpRequest) -> HttpResponse:
    """Second step: enrol an authenticator app the first time, else enter its 6-digit code."""
    if not permissions.is_console_user(request.user):  # StaffMFAMiddleware sees to it too
        return redirect("staff:login")
    user = _actor(request)
    if user.is_verified():  # type: ignore[attr-defined]
        return redirect(_next_url(request))
    device = staff.confirmed_device(user)
    enrolling = device is None
    if device is None:
        device = staff.enrolment_device(user)
    form = TOTPForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = staff.verify_totp(
            user,
            device,
            form.cleaned_data["code"],
            request=request,
        )
        if result.outcome is staff.MfaOutcome.OK:
            otp_login(request, result.device)
            if enrolling:
                messages.success(request, _("Your authenticator app is set up."))
            return redirect(_next_url(request))
        if result.outcome is staff.MfaOutcome.THROTTLED:
            form.add_error(
                "code",
                ngettext(
                    "Too many wrong codes. Wait %(seconds)s second and try again.",
                    "Too many wrong codes. Wait %(seconds)s seconds and try again.",
                    result.wait_seconds,
                )
                % {"seconds": result.wait_seconds},
            )
        else:
            form.add_error("code", _("The code is not right. Check the time on your phone."))
    context: dict[str, Any] = {"form": form, "enrolling": enrolling}
    if enrolling:
        context["qr"] = _qr_data_uri(device)
        context["secret"] = _secret_groups(device)
    return _render(request, "mfa.html", context, status=_form_status(form))


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    messages.info(request, _("You are logged out."))
    return redirect("staff:login")


@ratelimit("staff-set-password", "LOGIN_RATE")
@require_http_methods(["GET", "POST"])
def set_password(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The one-time link a new member of staff (or one whose password was reset) opens."""
    user = staff.user_for_set_password(uidb64, token)
    if user is None:
        return _render(request, "set_password_invalid.html", status=400)
    form = AccessibleSetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        staff.set_password(user, form.cleaned_data["new_password1"], request=request)
        if request.user.is_authenticated:
            auth_logout(request)
        messages.success(request, _("Your password is set. Log in with it now."))
        return redirect("staff:login")
    return _render(
        request, "set_password.html", {"form": form, "member": user}, status=_form_status(form)
    )


# --- home ----------------------------------------------------------------------------------


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    assignments = StaffAssignment.objects.filter(user=_actor(request)).select_related("department")
    return _render(
        request,
        "home.html",
        {
            "assignments": assignments,
            "is_superuser": user.is_superuser,
            "admin_site": permissions.is_admin(user),
            "links": [s for s in sections(user) if s["name"] != "staff:home"],
            "device": staff.confirmed_device(_actor(request)),
        },
        section="staff:home",
    )


# --- residents -----------------------------------------------------------------------------


def _resident(pk: int) -> User:
    return get_object_or_404(User.objects.filter(is_staff=False), pk=pk)


@require_GET
def residents(request: HttpRequest) -> HttpResponse:
    _check(permissions.can_view_residents(request.user))
    form = ResidentSearchForm(request.GET if "q" in request.GET else None)
    page = None
    if form.is_bound and form.is_valid():
        found = staff.search_residents(
            _actor(request),
            form.cleaned_data["q"],
            request=request,
        )
        page = Paginator(found, PER_PAGE).get_page(request.GET.get("page"))
    return _render(
        request,
        "residents.html",
        {"form": form, "page": page},
        section="staff:residents",
        status=_form_status(form),
    )


@require_GET
def resident(request: HttpRequest, pk: int) -> HttpResponse:
    resident = _resident(pk)
    _check(permissions.can_view_resident(request.user, resident))
    record = staff.view_resident(_actor(request), resident, request)
    consents = [
        (Consent.Purpose(purpose).label, granted) for purpose, granted in record.consents.items()
    ]
    languages = dict(settings.LANGUAGES)
    return _render(
        request,
        "resident.html",
        {
            "resident": resident,
            "profile": record.profile,
            "consents": consents,
            "language": languages.get(record.profile.preferred_language, ""),
            "children": years_to_text(record.profile.children_birth_years),
            "can_edit": permissions.can_edit_resident(request.user, resident),
        },
        section="staff:residents",
    )


@require_http_methods(["GET", "POST"])
def resident_edit(request: HttpRequest, pk: int) -> HttpResponse:
    resident = _resident(pk)
    _check(permissions.can_edit_resident(request.user, resident))
    if request.method == "POST":
        form = ResidentProfileForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            display_name = data.pop("display_name")
            staff.update_resident(
                _actor(request),
                resident,
                data,
                display_name=display_name,
                request=request,
            )
            messages.success(request, _("The profile is saved."))
            return redirect("staff:resident", pk=resident.pk)
    else:
        record = staff.view_resident(_actor(request), resident, request, page="edit")
        profile = record.profile
        form = ResidentProfileForm(
            initial={
                "display_name": resident.display_name,
                "district": str(profile.district_id or ""),
                "birth_year": profile.birth_year,
                "household_size": profile.household_size,
                "children_birth_years": years_to_text(profile.children_birth_years),
                "care_in_household": profile.care_in_household,
                "preferred_language": profile.preferred_language,
                "phone": profile.phone,
                "postal_code": profile.postal_code,
                "address": profile.address,
            }
        )
    return _render(
        request,
        "resident_edit.html",
        {"form": form, "resident": resident},
        section="staff:residents",
        status=_form_status(form),
    )


def _account_active(request: HttpRequest, account: User, back: str, section: str) -> HttpResponse:
    """Close or reopen an account (resident or staff), with a reason for the audit log."""
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data["reason"]
        if account.is_active:
            staff.deactivate_user(_actor(request), account, reason=reason, request=request)
            messages.success(request, _("The account is closed."))
        else:
            staff.reactivate_user(_actor(request), account, reason=reason, request=request)
            messages.success(request, _("The account is open again."))
        return redirect(back, pk=account.pk)
    return _render(
        request,
        "account_active.html",
        {"form": form, "account": account, "back": reverse(back, args=[account.pk])},
        section=section,
        status=_form_status(form),
    )


@require_http_methods(["GET", "POST"])
def resident_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Close or reopen a resident's account, with a reason for the audit log."""
    resident = _resident(pk)
    _check(permissions.can_edit_resident(request.user, resident))
    return _account_active(request, resident, "staff:resident", "staff:residents")


# --- departments ---------------------------------------------------------------------------


@require_GET
def departments(request: HttpRequest) -> HttpResponse:
    _check(permissions.can_manage_departments(request.user))
    rows = Department.objects.select_related("parent").order_by("code")
    return _render(request, "departments.html", {"departments": rows}, section="staff:departments")


@require_http_methods(["GET", "POST"])
def department_create(request: HttpRequest) -> HttpResponse:
    _check(permissions.can_manage_departments(request.user))
    form = DepartmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            department = staff.create_department(
                _actor(request),
                form.department_data(),
                request=request,
            )
        except staff.StaffError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("Department %(name)s is created.") % {"name": department.name}
            )
            return redirect("staff:departments")
    return _render(
        request,
        "department_form.html",
        {"form": form, "department": None},
        section="staff:departments",
        status=_form_status(form),
    )


@require_http_methods(["GET", "POST"])
def department_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _check(permissions.can_manage_departments(request.user))
    department = get_object_or_404(Department, pk=pk)
    form = DepartmentForm(request.POST or None, department=department)
    if request.method == "POST" and form.is_valid():
        try:
            staff.update_department(
                _actor(request),
                department,
                form.department_data(),
                request=request,
            )
        except staff.StaffError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The department is saved."))
            return redirect("staff:departments")
    return _render(
        request,
        "department_form.html",
        {"form": form, "department": department},
        section="staff:departments",
        status=_form_status(form),
    )


# --- staff ---------------------------------------------------------------------------------


def _member(request: HttpRequest, pk: int) -> User:
    member = get_object_or_404(User.objects.filter(is_staff=True), pk=pk)
    _check(permissions.can_view_staff_member(request.user, member))
    return member


@require_GET
def members(request: HttpRequest) -> HttpResponse:
    _check(permissions.can_manage_staff(request.user))
    found = staff.staff_members(_actor(request)).prefetch_related("assignments__department")
    page = Paginator(found, PER_PAGE).get_page(request.GET.get("page"))
    return _render(request, "members.html", {"page": page}, section="staff:members")


@require_http_methods(["GET", "POST"])
def member_create(request: HttpRequest) -> HttpResponse:
    _check(permissions.can_manage_staff(request.user))
    form = StaffCreateForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = staff.create_staff(
                _actor(request),
                email=data["email"],
                display_name=data["display_name"],
                department=data["department"],
                role=data["role"],
                title=data["title"],
                request=request,
            )
        except staff.StaffError as exc:
            form.add_error(None, str(exc))
        else:
            request.session[SHOWN_ONCE_KEY] = {
                "member": created.user.pk,
                "url": created.set_password_url,
            }
            messages.success(request, _("The staff account is created."))
            return redirect("staff:member", pk=created.user.pk)
    return _render(
        request,
        "member_form.html",
        {"form": form},
        section="staff:members",
        status=_form_status(form),
    )


@require_GET
def member(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member(request, pk)
    shown = request.session.get(SHOWN_ONCE_KEY) or {}
    link = ""
    if shown.get("member") == member.pk:
        link = shown["url"]
        del request.session[SHOWN_ONCE_KEY]  # shown once, never again
    can_change = permissions.can_change_staff_member(request.user, member)
    managed = {d.pk for d in permissions.managed_departments(request.user)}
    assignments = [
        {"row": a, "editable": can_change and a.department_id in managed}
        for a in StaffAssignment.objects.filter(user=member).select_related("department")
    ]
    return _render(
        request,
        "member.html",
        {
            "member": member,
            "assignments": assignments,
            "set_password_link": link,
            "has_device": staff.confirmed_device(member) is not None,
            "can_change": can_change,
            "can_reset_totp": permissions.can_reset_totp(request.user, member),
            "has_password": member.has_usable_password(),
        },
        section="staff:members",
    )


def _assignment_view(
    request: HttpRequest, member: User, assignment: StaffAssignment | None
) -> HttpResponse:
    _check(permissions.can_change_staff_member(request.user, member))
    if assignment is not None:
        _check(permissions.can_manage_department(request.user, assignment.department))
    form = AssignmentForm(
        request.POST or None, actor=request.user, member=member, assignment=assignment
    )
    if request.method == "POST" and form.is_valid():
        values = {key: form.cleaned_data[key] for key in ("department", "role", "title")}
        try:
            if assignment is None:
                staff.add_assignment(_actor(request), member, request=request, **values)
            else:
                staff.update_assignment(_actor(request), assignment, request=request, **values)
        except staff.StaffError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The assignment is saved."))
            return redirect("staff:member", pk=member.pk)
    return _render(
        request,
        "assignment_form.html",
        {"form": form, "member": member, "assignment": assignment},
        section="staff:members",
        status=_form_status(form),
    )


@require_http_methods(["GET", "POST"])
def assignment_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _assignment_view(request, _member(request, pk), None)


@require_http_methods(["GET", "POST"])
def assignment_edit(request: HttpRequest, pk: int, assignment_pk: int) -> HttpResponse:
    member = _member(request, pk)
    assignment = get_object_or_404(
        StaffAssignment.objects.select_related("department", "user"), pk=assignment_pk, user=member
    )
    return _assignment_view(request, member, assignment)


@require_http_methods(["GET", "POST"])
def member_active(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member(request, pk)
    _check(permissions.can_change_staff_member(request.user, member))
    return _account_active(request, member, "staff:member", "staff:members")


@require_http_methods(["GET", "POST"])
def member_reset_totp(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member(request, pk)
    _check(permissions.can_reset_totp(request.user, member))
    if request.method == "POST":
        staff.reset_totp(_actor(request), member, request=request)
        messages.success(
            request, _("The authenticator app is removed. A new one is set up at the next login.")
        )
        return redirect("staff:member", pk=member.pk)
    return _render(
        request,
        "member_confirm.html",
        {"member": member, "action": "reset_totp"},
        section="staff:members",
    )


@require_http_methods(["GET", "POST"])
def member_reset_password(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member(request, pk)
    _check(permissions.can_change_staff_member(request.user, member))
    if request.method == "POST":
        url = staff.reset_password(_actor(request), member, request=request)
        request.session[SHOWN_ONCE_KEY] = {"member": member.pk, "url": url}
        messages.success(request, _("The password is removed. Give the person the new link."))
        return redirect("staff:member", pk=member.pk)
    return _render(
        request,
        "member_confirm.html",
        {"member": member, "action": "reset_password"},
        section="staff:members",
    )


# --- audit log -----------------------------------------------------------------------------


def _audit_filters(request: HttpRequest) -> AuditFilterForm:
    return AuditFilterForm(request.GET if request.GET else None)


@require_GET
def audit(request: HttpRequest) -> HttpResponse:
    _check(permissions.can_view_audit(request.user))
    form = _audit_filters(request)
    page = None
    if not form.is_bound or form.is_valid():
        filters = form.filters() if form.is_bound else staff.AuditFilters()
        events = staff.audit_events(_actor(request), filters)
        page = Paginator(events, PER_PAGE).get_page(request.GET.get("page"))
        for event in page.object_list:
            event.details_text = (  # type: ignore[attr-defined]
                json.dumps(event.details, ensure_ascii=False, sort_keys=True)
                if event.details
                else ""
            )
    query = request.GET.copy()
    query.pop("page", None)
    return _render(
        request,
        "audit.html",
        {"form": form, "page": page, "query": query.urlencode()},
        section="staff:audit",
        status=_form_status(form),
    )


@require_GET
def audit_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    _check(permissions.can_view_audit(request.user))
    form = _audit_filters(request)
    if form.is_bound and not form.is_valid():
        return _render(
            request,
            "audit.html",
            {"form": form, "page": None, "query": ""},
            section="staff:audit",
            status=422,
        )
    filters = form.filters() if form.is_bound else staff.AuditFilters()
    chunks = staff.audit_csv(_actor(request), filters, request=request)
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response


@require_POST
def audit_verify(request: HttpRequest) -> HttpResponse:
    _check(permissions.can_view_audit(request.user))
    result = staff.verify_audit(_actor(request), request=request)
    return _render(request, "audit_verify.html", {"result": result}, section="staff:audit")
