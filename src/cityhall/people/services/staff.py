"""The staff console's use cases: residents seen by staff, departments, staff, TOTP.

Every function takes the acting member of staff first and checks, again, that the
actor may do it (``PermissionDenied`` otherwise), so a view that forgot a check
still cannot change what it should not. Every change, and every read of a
resident's personal data, appends an entry to the audit log in the same
transaction.

New staff accounts and password resets use no password at all until the member
of staff chooses one: the account gets an unusable password and the manager or
administrator is shown, once, a signed link to set it (Django's password-reset
token under its own salt: it stops working as soon as a password is set and after
``PASSWORD_RESET_TIMEOUT``, three days by default). So nobody but the member of
staff ever knows their password, and there is no temporary password to change.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _
from django_otp import verify_token as otp_verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from cityhall.core import audit
from cityhall.core.models import AuditEvent
from cityhall.people import permissions
from cityhall.people.models import Department, ResidentProfile, StaffAssignment, User
from cityhall.people.services import accounts


class StaffError(ValueError):
    """A rule of the staff console refused the change; the message is for the user."""


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


# --- set-password links (new staff, password resets) ------------------------------------


class StaffPasswordTokenGenerator(PasswordResetTokenGenerator):
    """Signed one-time tokens for a member of staff to choose a password."""

    key_salt = "cityhall.people.services.staff.set-password"


set_password_tokens = StaffPasswordTokenGenerator()


def set_password_url(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = set_password_tokens.make_token(user)
    return settings.SITE_URL + reverse("staff:set_password", args=[uid, token])


def user_for_set_password(uidb64: str, token: str) -> User | None:
    """The member of staff a set-password link is for, or None if the link does not work."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    user = User.objects.filter(pk=pk, is_staff=True, is_active=True).first()
    if user is None or not set_password_tokens.check_token(user, token):
        return None
    return user


@transaction.atomic
def set_password(user: User, password: str, *, request: HttpRequest | None = None) -> None:
    user.set_password(password)
    user.save(update_fields=["password"])
    audit.record("staff.password_set", request=request, actor=user, target=user)


# --- TOTP ----------------------------------------------------------------------------------


class MfaOutcome(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    THROTTLED = "throttled"


@dataclass
class MfaResult:
    outcome: MfaOutcome
    device: TOTPDevice | None = None
    wait_seconds: int = 0


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def enrolment_device(user: User) -> TOTPDevice:
    """The unconfirmed device being set up; the same one on every visit until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def verify_totp(
    user: User, device: TOTPDevice, token: str, *, request: HttpRequest | None = None
) -> MfaResult:
    """Check a code with django-otp (throttled, no replay); confirm a new device on success."""
    allowed, info = device.verify_is_allowed()
    if not allowed:
        locked_until = (info or {}).get("locked_until")
        wait = int((locked_until - timezone.now()).total_seconds()) + 1 if locked_until else 1
        audit.record(
            "staff.mfa_throttled",
            request=request,
            actor=user,
            target=user,
            details={"failures": device.throttling_failure_count},
        )
        return MfaResult(MfaOutcome.THROTTLED, wait_seconds=max(1, wait))
    verified = otp_verify_token(user, device.persistent_id, token)
    if verified is None:
        device.refresh_from_db()
        audit.record(
            "staff.mfa_failed",
            request=request,
            actor=user,
            target=user,
            details={
                "failures": device.throttling_failure_count,
                "enrolment": not device.confirmed,
            },
        )
        return MfaResult(MfaOutcome.WRONG)
    with transaction.atomic():
        if not verified.confirmed:
            verified.confirmed = True
            verified.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            audit.record("staff.totp_enrolled", request=request, actor=user, target=user)
        audit.record("staff.mfa_verified", request=request, actor=user, target=user)
    return MfaResult(MfaOutcome.OK, device=verified)


@transaction.atomic
def reset_totp(actor: User, member: User, *, request: HttpRequest | None = None) -> int:
    """Remove a member's TOTP devices: at the next login they enrol a new one."""
    _require(permissions.can_reset_totp(actor, member))
    removed, _detail = TOTPDevice.objects.filter(user=member).delete()
    audit.record(
        "staff.totp_reset",
        request=request,
        actor=actor,
        target=member,
        details={"devices": removed},
    )
    return removed


# --- residents -----------------------------------------------------------------------------


@dataclass
class ResidentRecord:
    user: User
    profile: ResidentProfile
    consents: dict[str, bool]


def search_residents(
    actor: User, query: str, *, request: HttpRequest | None = None
) -> QuerySet[User]:
    """Residents whose e-mail address or name contains ``query`` (the search is audited)."""
    _require(permissions.can_view_residents(actor))
    query = query.strip()
    audit.record("staff.resident_search", request=request, actor=actor, details={"query": query})
    return (
        User.objects.filter(is_staff=False)
        .filter(Q(email__icontains=query) | Q(display_name__icontains=query))
        .select_related("profile__district")
        .order_by("email", "pk")
    )


def view_resident(
    actor: User, resident: User, request: HttpRequest | None = None, *, page: str = "detail"
) -> ResidentRecord:
    """A resident's profile with the decrypted phone and address; the read is audited."""
    _require(permissions.can_view_resident(actor, resident))
    with transaction.atomic():
        profile = accounts.profile_of(resident)
        audit.record(
            "staff.resident_view",
            request=request,
            actor=actor,
            target=resident,
            subject=resident,
            details={"page": page},
        )
    return ResidentRecord(resident, profile, accounts.consents(resident))


def create_resident(
    actor: User,
    display_name: str,
    *,
    email: str = "",
    profile: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> User:
    """An account for a resident who comes to the counter without one (書かない窓口).

    Without an e-mail address the account gets a placeholder address under the
    reserved ``.invalid`` domain: nothing is ever sent there, and the resident can
    add a real address later. The account has no usable password until the
    resident sets one through "forgot password" with a real address.
    """
    _require(permissions.can_edit_residents(actor))
    display_name = display_name.strip()
    if not display_name:
        raise ValueError("a name is required")
    email = email.strip().lower()
    with transaction.atomic():
        if not email:
            email = f"counter-{uuid.uuid4().hex[:16]}@residents.invalid"
        elif User.objects.filter(email__iexact=email).exists():
            raise ValueError("an account with this e-mail address already exists")
        user = User.objects.create_user(email=email, password=None, display_name=display_name)
        audit.record(
            "staff.resident_create",
            request=request,
            actor=actor,
            target=user,
            subject=user,
            details={"with_email": user.has_real_email},
        )
        if profile:
            accounts.update_profile(user, profile, request=request, actor=actor)
    return user


def update_resident(
    actor: User,
    resident: User,
    changes: dict[str, Any],
    *,
    display_name: str | None = None,
    request: HttpRequest | None = None,
) -> ResidentProfile:
    """Change a resident's profile for them (書かない窓口); audited with the staff actor."""
    _require(permissions.can_edit_resident(actor, resident))
    return accounts.update_profile(
        resident, changes, display_name=display_name, request=request, actor=actor
    )


@transaction.atomic
def _set_active(
    actor: User, user: User, active: bool, reason: str, request: HttpRequest | None
) -> bool:
    if user.is_staff:
        _require(permissions.can_change_staff_member(actor, user))
        kind = "member"
    else:
        _require(permissions.can_edit_resident(actor, user))
        kind = "resident"
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.is_active == active:
        return False
    locked.is_active = active
    locked.save(update_fields=["is_active"])
    user.is_active = active
    audit.record(
        f"staff.{kind}_{'reactivate' if active else 'deactivate'}",
        request=request,
        actor=actor,
        target=user,
        subject=None if user.is_staff else user,
        details={"reason": reason},
    )
    return True


def deactivate_user(
    actor: User, user: User, *, reason: str, request: HttpRequest | None = None
) -> bool:
    """Close an account (resident or staff); it can no longer log in. False if already closed."""
    return _set_active(actor, user, False, reason, request)


def reactivate_user(
    actor: User, user: User, *, reason: str, request: HttpRequest | None = None
) -> bool:
    return _set_active(actor, user, True, reason, request)


# --- departments ---------------------------------------------------------------------------

DEPARTMENT_FIELDS = (
    "code",
    "name",
    "kana",
    "names",
    "parent",
    "phone",
    "email",
    "location",
    "duties",
    "is_active",
)


def _check_parent(department: Department | None, parent: Department | None) -> None:
    seen: set[int] = set()
    node = parent
    while node is not None and node.pk not in seen:
        if department is not None and node.pk == department.pk:
            raise StaffError(_("A department cannot be inside itself."))
        seen.add(node.pk)
        node = node.parent


def _department_values(department: Department) -> dict[str, Any]:
    return {name: getattr(department, name) for name in DEPARTMENT_FIELDS}


@transaction.atomic
def create_department(
    actor: User, data: dict[str, Any], *, request: HttpRequest | None = None
) -> Department:
    _require(permissions.can_manage_departments(actor))
    unknown = set(data) - set(DEPARTMENT_FIELDS)
    if unknown:
        raise ValueError(f"not department fields: {sorted(unknown)}")
    if Department.objects.filter(code=data["code"]).exists():
        raise StaffError(_("A department with this code already exists."))
    _check_parent(None, data.get("parent"))
    department = Department.objects.create(**data)
    audit.record(
        "staff.department_create",
        request=request,
        actor=actor,
        target=department,
        details={"code": department.code},
    )
    return department


@transaction.atomic
def update_department(
    actor: User,
    department: Department,
    data: dict[str, Any],
    *,
    request: HttpRequest | None = None,
) -> list[str]:
    """Apply the changes; returns the names of the fields that changed (audited)."""
    _require(permissions.can_manage_departments(actor))
    locked = Department.objects.select_for_update().get(pk=department.pk)
    unknown = set(data) - set(DEPARTMENT_FIELDS)
    if unknown:
        raise ValueError(f"not department fields: {sorted(unknown)}")
    if (
        "code" in data
        and Department.objects.filter(code=data["code"]).exclude(pk=locked.pk).exists()
    ):
        raise StaffError(_("A department with this code already exists."))
    if "parent" in data:
        _check_parent(locked, data["parent"])
    before = _department_values(locked)
    changed = [name for name, value in data.items() if before[name] != value]
    if changed:
        for name in changed:
            setattr(locked, name, data[name])
        locked.save()
        audit.record(
            "staff.department_update",
            request=request,
            actor=actor,
            target=locked,
            details={"code": locked.code, "fields": sorted(changed)},
        )
    return changed


# --- staff ---------------------------------------------------------------------------------


@dataclass
class CreatedStaff:
    user: User
    set_password_url: str


def staff_members(actor: User) -> QuerySet[User]:
    """The members of staff the actor may see: everyone for admins, own departments for managers."""
    _require(permissions.can_manage_staff(actor))
    members = User.objects.filter(is_staff=True)
    if not permissions.is_admin(actor):
        managed = [d.pk for d in permissions.managed_departments(actor)]
        members = members.filter(assignments__department_id__in=managed)
    return members.distinct().order_by("email")


def _check_assignment(actor: User, department: Department, role: str) -> None:
    _require(permissions.can_manage_department(actor, department))
    _require(role in permissions.assignable_roles(actor))


def _assignment_values(assignment: StaffAssignment) -> dict[str, str]:
    return {
        "department": assignment.department.code,
        "role": assignment.role,
        "title": assignment.title,
    }


@transaction.atomic
def create_staff(
    actor: User,
    *,
    email: str,
    display_name: str,
    department: Department,
    role: str,
    title: str = "",
    request: HttpRequest | None = None,
) -> CreatedStaff:
    """A new staff account with one assignment and a one-time set-password link."""
    _require(permissions.can_manage_staff(actor))
    _check_assignment(actor, department, role)
    email = User.objects.normalize_email(email).strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise StaffError(_("An account with this e-mail address already exists."))
    user = User.objects.create_user(
        email=email, password=None, is_staff=True, display_name=display_name
    )
    assignment = StaffAssignment.objects.create(
        user=user, department=department, role=role, title=title
    )
    audit.record(
        "staff.member_create",
        request=request,
        actor=actor,
        target=user,
        details=_assignment_values(assignment),
    )
    return CreatedStaff(user, set_password_url(user))


@transaction.atomic
def add_assignment(
    actor: User,
    member: User,
    *,
    department: Department,
    role: str,
    title: str = "",
    request: HttpRequest | None = None,
) -> StaffAssignment:
    """Place a member of staff in one more department."""
    _require(permissions.can_change_staff_member(actor, member))
    _check_assignment(actor, department, role)
    if StaffAssignment.objects.filter(user=member, department=department).exists():
        raise StaffError(_("This person already works in that department."))
    assignment = StaffAssignment.objects.create(
        user=member, department=department, role=role, title=title
    )
    audit.record(
        "staff.assignment_create",
        request=request,
        actor=actor,
        target=assignment,
        details={"member": member.pk, **_assignment_values(assignment)},
    )
    return assignment


@transaction.atomic
def update_assignment(
    actor: User,
    assignment: StaffAssignment,
    *,
    department: Department,
    role: str,
    title: str = "",
    request: HttpRequest | None = None,
) -> StaffAssignment:
    """Change the department, role or title of one assignment."""
    member = assignment.user
    _require(permissions.can_change_staff_member(actor, member))
    _require(permissions.can_manage_department(actor, assignment.department))
    _check_assignment(actor, department, role)
    locked = StaffAssignment.objects.select_for_update().get(pk=assignment.pk)
    if (
        StaffAssignment.objects.filter(user=member, department=department)
        .exclude(pk=locked.pk)
        .exists()
    ):
        raise StaffError(_("This person already works in that department."))
    before = _assignment_values(locked)
    locked.department = department
    locked.role = role
    locked.title = title
    after = _assignment_values(locked)
    if before != after:
        locked.save()
        audit.record(
            "staff.assignment_update",
            request=request,
            actor=actor,
            target=locked,
            details={"member": member.pk, "before": before, "after": after},
        )
    return locked


@transaction.atomic
def reset_password(actor: User, member: User, *, request: HttpRequest | None = None) -> str:
    """Take the member's password away (their sessions end) and return a new set-password link."""
    _require(permissions.can_change_staff_member(actor, member))
    member.set_unusable_password()
    member.save(update_fields=["password"])
    audit.record("staff.password_reset", request=request, actor=actor, target=member)
    return set_password_url(member)


# --- audit log -----------------------------------------------------------------------------


@dataclass
class AuditFilters:
    action: str = ""
    actor: str = ""
    subject: int | None = None
    target_type: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def as_details(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in ("", None)}


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_events(actor: User, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """The audit log, newest first, narrowed by the filters (action matches by prefix)."""
    _require(permissions.can_view_audit(actor))
    events = AuditEvent.objects.all()
    if filters.action:
        events = events.filter(action__startswith=filters.action)
    if filters.actor:
        if filters.actor.isdigit():
            events = events.filter(actor_id=int(filters.actor))
        else:
            events = events.filter(actor_label__iexact=filters.actor)
    if filters.subject is not None:
        events = events.filter(subject_id=filters.subject)
    if filters.target_type:
        events = events.filter(target_type=filters.target_type)
    if filters.date_from:
        events = events.filter(created_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        events = events.filter(created_at__lt=_day_start(filters.date_to + dt.timedelta(days=1)))
    return events.order_by("-seq")


AUDIT_CSV_COLUMNS = (
    "seq",
    "created_at",
    "actor_id",
    "actor_label",
    "actor_kind",
    "action",
    "target_type",
    "target_id",
    "subject_id",
    "ip_address",
    "details",
    "hash",
)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    # A spreadsheet would run a cell that starts like a formula (CSV injection).
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


def audit_csv(
    actor: User, filters: AuditFilters, *, request: HttpRequest | None = None
) -> Iterator[str]:
    """The filtered log as CSV text chunks (UTF-8 with BOM, so Excel reads Japanese)."""
    events = audit_events(actor, filters)
    audit.record("staff.audit_export", request=request, actor=actor, details=filters.as_details())

    def rows() -> Iterable[list[str]]:
        yield list(AUDIT_CSV_COLUMNS)
        for event in events.iterator(chunk_size=2000):
            yield [_csv_cell(getattr(event, name)) for name in AUDIT_CSV_COLUMNS]

    def chunks() -> Iterator[str]:
        yield "\ufeff"
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in rows():
            writer.writerow(row)
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return chunks()


def verify_audit(actor: User, *, request: HttpRequest | None = None) -> audit.VerifyResult:
    """Recompute the audit chain (``cityhall audit verify``) and log that it was checked."""
    _require(permissions.can_view_audit(actor))
    result = audit.verify()
    audit.record(
        "staff.audit_verify",
        request=request,
        actor=actor,
        details={"ok": result.ok, "checked": result.checked, "breaks": len(result.breaks)},
    )
    return result
