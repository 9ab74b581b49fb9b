"""The case board in the staff console: the list, one case, its actions, the CSV export.

Thin views over :mod:`cityhall.procedures.services.cases`: every read of an
application is audited there, every change goes through it. ``StaffMFAMiddleware``
keeps these pages behind a TOTP-verified staff session; the services refuse
other departments' applications (403).
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cityhall.people.models import User
from cityhall.people.staff_views import sections
from cityhall.procedures import permissions
from cityhall.procedures.models import Application, Attachment, Status
from cityhall.procedures.services import applications, cases, hooks
from cityhall.procedures.staff.board_forms import (
    AssignForm,
    BoardFilterForm,
    BulkForm,
    ExportForm,
    MessageForm,
    NoteForm,
    TransitionForm,
)

SECTION = "procstaff:board"
FILTER_KEYS = (
    "department",
    "status",
    "procedure",
    "assignee",
    "overdue",
    "submitted_from",
    "submitted_to",
    "reference",
    "via",
    "sort",
)


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    context.setdefault("staff_sections", sections(request.user))
    context.setdefault("staff_section", SECTION)
    return render(request, f"procedures/staff/board/{template}", context, status=status)


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _check_board(request: HttpRequest) -> None:
    if not permissions.can_use_cases(request.user):
        raise PermissionDenied


def _filter_query(data: QueryDict) -> QueryDict:
    """Only the filter parameters (no page, no CSRF token), as a fresh query."""
    query = QueryDict(mutable=True)
    for key in FILTER_KEYS:
        values = [v for v in data.getlist(key) if v]
        if values:
            query.setlist(key, values)
    return query


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < len(raw) < 7 else 1


def _words() -> dict[str, str]:
    return {"yes": _("Yes"), "no": _("No"), "signed": _("Signed"), "files": _("{n} files")}


# --- the list -------------------------------------------------------------------------------


def _board_page(
    request: HttpRequest,
    query: QueryDict,
    *,
    bulk_form: BulkForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _actor(request)
    form = BoardFilterForm(query or None, user=user)
    page = None
    if not form.is_bound or form.is_valid():
        page = cases.board(user, **form.filters(), page=_page_number(request), request=request)
    filters = _filter_query(query).urlencode()
    if bulk_form is None:
        bulk_form = BulkForm(user=user, initial={"filters": filters})
    return _render(
        request,
        "list.html",
        {
            "form": form,
            "page": page,
            "rows": _list_rows(page.rows) if page else [],
            "board_tabs": hooks.board_tabs(user, SECTION),
            "bulk_form": bulk_form,
            "filters": filters,
            "several_departments": form.several_departments,
        },
        status=422 if form.errors or (bulk_form.is_bound and bulk_form.errors) else status,
    )


def _list_rows(applications: list[Application]) -> list[dict[str, Any]]:
    """What each row of the list shows, as text: labels are looked up once per page."""
    statuses = {value: str(label) for value, label in Status.choices}
    channels = {value: str(label) for value, label in Application.Via.choices}
    today = timezone.localdate()
    return [
        {
            "pk": a.pk,
            "url": reverse("procstaff:case", args=[a.pk]),
            "reference": a.reference,
            "procedure": a.procedure.title,
            "applicant": a.applicant_name,
            "status": statuses.get(a.status, a.status),
            "due_date": a.due_date,
            "overdue": bool(a.due_date and a.is_open and a.due_date < today),
            "assignee": cases.staff_label(a.assignee),
            "via": channels.get(a.via, a.via),
            "department": a.department.localized_name(),
        }
        for a in applications
    ]


@require_GET
def board(request: HttpRequest) -> HttpResponse:
    _check_board(request)
    return _board_page(request, request.GET)


@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Ticked applications + one action; all of them change or none (then 422 with why)."""
    _check_board(request)
    user = _actor(request)
    form = BulkForm(request.POST, user=user)
    query = QueryDict(request.POST.get("filters", ""))
    if form.is_valid():
        data = form.cleaned_data
        try:
            changed = cases.bulk(
                data["ids"],
                data["action"],
                actor=user,
                request=request,
                assignee=data.get("assignee"),
                to_status=data.get("to_status") or "",
                message=data.get("message") or "",
            )
        except cases.CaseError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)s application is changed.",
                    "%(count)s applications are changed.",
                    changed,
                )
                % {"count": changed},
            )
            target = reverse("procstaff:board")
            filters = _filter_query(query).urlencode()
            return HttpResponseRedirect(f"{target}?{filters}" if filters else target)
    return _board_page(request, _filter_query(query), bulk_form=form, status=422)


# --- one case -------------------------------------------------------------------------------


def _case(pk: int) -> Application:
    return get_object_or_404(cases.case_queryset(), pk=pk)


def _case_page(
    request: HttpRequest, application: Application, *, status: int = 200, **forms: Any
) -> HttpResponse:
    cases.record_view(application, request)
    language = get_language() or "ja"
    rows = applications.summary(application, language, _words())
    context: dict[str, Any] = {
        "application": application,
        "rows": rows,
        "attachments": application.attachments.all(),
        "events": cases.history(application),
        "today": timezone.localdate(),
        "overdue": bool(
            application.due_date
            and application.is_open
            and application.due_date < timezone.localdate()
        ),
        "transition_form": forms.get("transition_form") or TransitionForm(application=application),
        "assign_form": forms.get("assign_form") or AssignForm(application=application),
        "note_form": forms.get("note_form") or NoteForm(),
        "message_form": forms.get("message_form") or MessageForm(),
        "can_message": application.status != Status.WITHDRAWN,
    }
    context["form"] = next(
        (f for f in forms.values() if f is not None and f.is_bound and f.errors), None
    )
    return _render(request, "case.html", context, status=status)


@require_GET
def case(request: HttpRequest, pk: int) -> HttpResponse:
    return _case_page(request, _case(pk))


def _case_action(
    request: HttpRequest, application: Application, form_name: str, form: Any, act: Any, done: str
) -> HttpResponse:
    """Run one action of the case page; on a refusal show the page again with the reason."""
    if form.is_valid():
        try:
            act(application, form.cleaned_data)
        except cases.CaseError as exc:
            field = "message" if exc.code == "message_required" else None
            form.add_error(field if field in form.fields else None, exc.message)
        else:
            messages.success(request, done)
            return redirect("procstaff:case", pk=application.pk)
    return _case_page(request, application, status=422, **{form_name: form})


def _case_for_change(request: HttpRequest, pk: int) -> Application:
    application = _case(pk)
    if not cases.can_work_on(request.user, application):
        raise PermissionDenied
    return application


@require_POST
def case_status(request: HttpRequest, pk: int) -> HttpResponse:
    application = _case_for_change(request, pk)
    return _case_action(
        request,
        application,
        "transition_form",
        TransitionForm(request.POST, application=application),
        lambda app, d: cases.transition(
            app, d["to_status"], actor=_actor(request), message=d["message"], request=request
        ),
        _("The status is changed. The resident is told by e-mail."),
    )


@require_POST
def case_assign(request: HttpRequest, pk: int) -> HttpResponse:
    application = _case_for_change(request, pk)
    return _case_action(
        request,
        application,
        "assign_form",
        AssignForm(request.POST, application=application),
        lambda app, d: cases.assign(app, d["assignee"], actor=_actor(request), request=request),
        _("The assignment is saved."),
    )


@require_POST
def case_note(request: HttpRequest, pk: int) -> HttpResponse:
    return _case_action(
        request,
        _case_for_change(request, pk),
        "note_form",
        NoteForm(request.POST),
        lambda app, d: cases.add_note(app, d["text"], actor=_actor(request), request=request),
        _("The note is saved."),
    )


@require_POST
def case_message(request: HttpRequest, pk: int) -> HttpResponse:
    return _case_action(
        request,
        _case_for_change(request, pk),
        "message_form",
        MessageForm(request.POST),
        lambda app, d: cases.message_resident(
            app, d["text"], actor=_actor(request), request=request
        ),
        _("The message is sent. The resident is told by e-mail."),
    )


@require_GET
def case_attachment(request: HttpRequest, pk: int, attachment_pk: int) -> FileResponse:
    """Download an attachment: permission checked and the read audited; never shown inline."""
    application = _case(pk)
    try:
        attachment = cases.open_attachment(
            application, attachment_pk, actor=_actor(request), request=request
        )
    except Attachment.DoesNotExist as exc:
        raise Http404 from exc
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name or f"attachment-{attachment.pk}",
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


# --- CSV export -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Choose columns (tick + position number) and encoding; the filters come in the query."""
    _check_board(request)
    user = _actor(request)
    query = _filter_query(request.GET)
    filter_form = BoardFilterForm(query or None, user=user)
    if filter_form.is_bound and not filter_form.is_valid():
        return redirect(f"{reverse('procstaff:board')}?{query.urlencode()}")
    filters = cases.Filters(**filter_form.filters())
    columns = cases.export_columns(filters.procedure)
    form = ExportForm(request.POST or None, columns=columns)
    replaced = 0
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        selection = cases.board_queryset(user, filters)
        if data["encoding"] == "cp932" and not data.get("confirm"):
            replaced = cases.count_unencodable(
                selection,
                columns=data["chosen"],
                actor=user,
                choice_labels=data["choice_labels"],
            )
        if not replaced:
            result = cases.export_csv(
                selection,
                columns=data["chosen"],
                encoding=data["encoding"],
                actor=user,
                request=request,
                choice_labels=data["choice_labels"],
            )
            response = StreamingHttpResponse(result.chunks, content_type=result.content_type)
            response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
            response["Cache-Control"] = "private, no-store"
            return response
        data_copy = request.POST.copy()
        data_copy["confirm"] = "True"
        form = ExportForm(data_copy, columns=columns)
        form.is_valid()
    return _render(
        request,
        "export.html",
        {
            "form": form,
            "filters": query.urlencode(),
            "filter_summary": _filter_summary(filter_form),
            "replaced": replaced,
        },
        status=422 if form.is_bound and form.errors else 200,
    )


def _filter_summary(form: BoardFilterForm) -> list[tuple[str, str]]:
    """The filters in words, so the clerk sees what the export will hold."""
    if not form.is_bound:
        return [(_("Status"), _("Open"))]
    out: list[tuple[str, str]] = []
    for name in FILTER_KEYS:
        if name == "sort":
            continue
        bound = form[name]
        value = form.cleaned_data.get(name)
        if value in (None, "", [], False):
            continue
        choices = dict(getattr(form.fields[name], "choices", []))
        if isinstance(value, list):
            text = ", ".join(str(choices.get(v, v)) for v in value)
        elif value is True:
            text = _("Yes")
        else:
            text = str(choices.get(value, value))
        out.append((str(bound.label), text))
    if not form.cleaned_data.get("status"):
        out.insert(0, (_("Status"), _("Open")))
    return out
