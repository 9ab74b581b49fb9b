"""The case board (案件管理): what staff do with submitted applications.

Every change of state goes through here, in a transaction, with its audit entry
(``subject`` is the applicant) and the procedures' signals sent after commit:
status transitions along :data:`~cityhall.procedures.models.TRANSITIONS`,
assignment, internal notes, messages to the resident, bulk actions, and the CSV
export for the 基幹系 (back-office) systems. Every time staff read an application
— the board's list, the case page, an attachment, an export — the audit log says so.

The list is built to stay fast at 100,000+ applications: it filters and sorts on
the composite indexes of :class:`~cityhall.procedures.models.Application`, picks
a page's ids from the index before it reads any row (a deferred join), loads only
the columns it shows (never the encrypted answers), and counts at most
:data:`COUNT_CAP` rows instead of the whole table (bench/case_board.py measures it).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import holidays
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cityhall.core import audit
from cityhall.core.mail import queue_email
from cityhall.people.models import Department, Role, StaffAssignment, User
from cityhall.procedures import permissions, signals
from cityhall.procedures.models import (
    FINAL_STATUSES,
    NEEDS_MESSAGE,
    OPEN_STATUSES,
    TRANSITIONS,
    Application,
    ApplicationEvent,
    Attachment,
    FormVersion,
    Procedure,
    Status,
)
from cityhall.procedures.services import applications

COUNT_CAP = 10_000  # the board counts this many rows at most ("10,000+")
PER_PAGE = 50
MAX_PER_PAGE = 200
TEXT_MAX = 4000  # notes and messages
EXPORT_CHUNK = 500
BOARD_STATUSES = tuple(s for s in Status if s != Status.DRAFT)
NUMBER_PART = re.compile(r"(?:(\d{4})-)?(\d{1,7})")

# Columns the list shows, and nothing else (``data`` is encrypted JSON: never for the list).
LIST_FIELDS = (
    "id",
    "reference",
    "status",
    "via",
    "submitted_at",
    "due_date",
    "applicant_name",
    "department_id",
    "procedure_id",
    "assignee_id",
)
# Orders the composite indexes can give (an index lists equal keys by id, ascending).
# Submitted applications always have a due date; SQLite would list a missing one first.
SORTS: dict[str, tuple[str, ...]] = {
    "newest": ("-submitted_at", "id"),
    "oldest": ("submitted_at", "-id"),
    "due": ("due_date", "id"),
}
SORT_LABELS = {
    "newest": gettext_lazy("Newest first"),
    "oldest": gettext_lazy("Oldest first"),
    "due": gettext_lazy("Due date, soonest first"),
}


class CaseError(ValidationError):
    """A rule of the board refused the change; ``message`` is translated for the user."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message, code=code)

    def __str__(self) -> str:
        return str(self.message)


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def can_work_on(user: Any, application: Application) -> bool:
    """Staff with a case role in the application's department (admins everywhere)."""
    return (
        bool(getattr(user, "is_staff", False))
        and permissions.can_use_cases(user)
        and permissions.can_work_on_department(user, application.department_id)
    )


def _check(user: Any, application: Application) -> None:
    _require(can_work_on(user, application) and application.status != Status.DRAFT)


def staff_next_statuses(application: Application) -> tuple[str, ...]:
    """Where staff may move the application (a draft is the resident's, not the board's)."""
    if application.status == Status.DRAFT:
        return ()
    return TRANSITIONS.get(application.status, ())


# --- SLA due dates ------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _closed_days(year: int) -> frozenset[dt.date]:
    """Public holidays of Japan, and the city's year-end closure (12/29–1/3, 年末年始)."""
    days = set(holidays.country_holidays("JP", years=year))  # same as holidays.Japan()
    days |= {dt.date(year, 12, d) for d in (29, 30, 31)}
    days |= {dt.date(year, 1, d) for d in (1, 2, 3)}
    return frozenset(days)


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _closed_days(day.year)


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The ``days``-th working day after ``start`` (``start`` itself does not count)."""
    day = start
    left = days
    while left > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def due_date_for(procedure: Procedure, submitted_at: dt.datetime | dt.date) -> dt.date:
    """The SLA due date: ``procedure.sla_days`` working days after submission.

    Weekends, Japanese public holidays (``holidays.Japan``, with 振替休日) and the
    year-end closure do not count. ``sla_days = 0`` means the same working day.
    """
    if isinstance(submitted_at, dt.datetime):
        submitted_at = timezone.localtime(submitted_at).date()
    if not procedure.sla_days:
        return submitted_at if is_working_day(submitted_at) else add_working_days(submitted_at, 1)
    return add_working_days(submitted_at, procedure.sla_days)


# --- the list -------------------------------------------------------------------------------


def _visible(user: Any) -> QuerySet[Application]:
    """Submitted applications of the departments ``user`` works on (never drafts)."""
    _require(bool(getattr(user, "is_staff", False)) and permissions.can_use_cases(user))
    qs = Application.objects.exclude(status=Status.DRAFT)
    ids = permissions.case_department_ids(user)
    if ids is not None:
        qs = (
            qs.filter(department_id=next(iter(ids)))
            if len(ids) == 1
            else qs.filter(department_id__in=sorted(ids))
        )
    return qs


def normalize_reference(text: str) -> str:
    """Full-width digits and dashes typed by a clerk, as a reference is stored."""
    text = unicodedata.normalize("NFKC", text or "")
    text = text.replace("ー", "-").replace("−", "-").replace("‐", "-")
    return "".join(text.split()).upper()


def _reference_lookup(reference: str) -> Q:
    """A reference number, whole or in part, as a lookup an index answers where it can.

    References are ``YYYY-NNNNNNN-C`` with the application's id as ``NNNNNNN``
    (:func:`applications.reference_for`): the whole number is found by its unique
    index; ``NNNNNNN`` or ``YYYY-NNNNNNN`` (what a resident reads out) by the id;
    anything else by a substring search.
    """
    if applications.is_valid_reference(reference):
        return Q(reference=reference)
    if match := NUMBER_PART.fullmatch(reference):
        year, number = match.groups()
        lookup = Q(pk=int(number))
        return lookup & Q(reference__startswith=f"{year}-") if year else lookup
    return Q(reference__contains=reference)


@dataclass(frozen=True)
class Filters:
    """What the board is asked to show (all optional)."""

    department: int | None = None
    status: tuple[str, ...] = ()
    procedure: int | None = None
    assignee: str | int | None = None  # "me", "none", a user id; None: anyone
    overdue: bool = False
    due_before: dt.date | None = None
    submitted_from: dt.date | None = None
    submitted_to: dt.date | None = None
    reference: str = ""
    via: str = ""
    sort: str = "newest"

    def statuses(self) -> tuple[str, ...]:
        chosen = tuple(s for s in self.status if s in BOARD_STATUSES)
        return chosen or tuple(OPEN_STATUSES)

    def as_details(self) -> dict[str, Any]:
        """For the audit log: only what was asked."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if value not in (None, "", (), False) and not (name == "sort" and value == "newest"):
                out[name] = list(value) if isinstance(value, tuple) else value
        return out


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def board_queryset(user: Any, filters: Filters | None = None) -> QuerySet[Application]:
    """The applications ``user`` may see that match ``filters``, sorted; not yet sliced.

    Raises :class:`PermissionDenied` for a department the user does not work on.
    """
    f = filters or Filters()
    qs = _visible(user)
    if f.department is not None:
        _require(permissions.can_work_on_department(user, f.department))
        qs = qs.filter(department_id=f.department)
    statuses = f.statuses()
    if f.overdue:
        statuses = tuple(s for s in statuses if s in OPEN_STATUSES) or tuple(OPEN_STATUSES)
        qs = qs.filter(due_date__lt=timezone.localdate())
    qs = qs.filter(status=statuses[0]) if len(statuses) == 1 else qs.filter(status__in=statuses)
    if f.procedure is not None:
        qs = qs.filter(procedure_id=f.procedure)
    if f.assignee == "me":
        qs = qs.filter(assignee_id=user.pk)
    elif f.assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif f.assignee not in (None, ""):
        qs = qs.filter(assignee_id=int(f.assignee))
    if f.due_before is not None:
        qs = qs.filter(due_date__lte=f.due_before)
    if f.submitted_from is not None:
        qs = qs.filter(submitted_at__gte=_day_start(f.submitted_from))
    if f.submitted_to is not None:
        qs = qs.filter(submitted_at__lt=_day_start(f.submitted_to + dt.timedelta(days=1)))
    reference = normalize_reference(f.reference)
    if reference:
        qs = qs.filter(_reference_lookup(reference))
    if f.via:
        qs = qs.filter(via=f.via)
    return qs.order_by(*SORTS.get(f.sort, SORTS["newest"]))


@dataclass
class BoardPage:
    """One page of the board. ``count`` stops at :data:`COUNT_CAP` (then ``capped``)."""

    rows: list[Application]
    number: int
    per_page: int
    count: int
    capped: bool

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.count // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def has_other_pages(self) -> bool:
        return self.num_pages > 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.rows)


def board(
    user: Any,
    *,
    department: int | None = None,
    status: Sequence[str] | None = None,
    procedure: int | None = None,
    assignee: str | int | None = None,
    overdue: bool = False,
    due_before: dt.date | None = None,
    submitted_from: dt.date | None = None,
    submitted_to: dt.date | None = None,
    reference: str = "",
    via: str = "",
    sort: str = "newest",
    page: int = 1,
    per_page: int | None = None,
    request: HttpRequest | None = None,
) -> BoardPage:
    """One page of the case board for ``user``, filtered; the read is audited.

    ``status`` defaults to the open statuses. The count stops at :data:`COUNT_CAP`
    and so do the pages: beyond that the clerk narrows the filter (no COUNT(*) over
    the whole table, no OFFSET deeper than the cap, and that only over index entries).
    """
    filters = Filters(
        department=department,
        status=tuple(status or ()),
        procedure=procedure,
        assignee=assignee,
        overdue=overdue,
        due_before=due_before,
        submitted_from=submitted_from,
        submitted_to=submitted_to,
        reference=reference,
        via=via,
        sort=sort if sort in SORTS else "newest",
    )
    qs = board_queryset(user, filters)
    per_page = max(1, min(int(per_page or PER_PAGE), MAX_PER_PAGE))
    count = qs.order_by().values("id")[: COUNT_CAP + 1].count()  # no sort just to count
    capped = count > COUNT_CAP
    count = min(count, COUNT_CAP)
    last = max(1, -(-count // per_page))
    number = min(max(1, int(page)), last)
    start = (number - 1) * per_page
    # Deferred join: pick the page's ids from the index alone, then load just those rows
    # (no sort or OFFSET ever carries the wide rows), then their related rows by id.
    ids = list(qs.values_list("id", flat=True)[start : start + per_page])
    rows = _list_rows(ids)
    audit.record(
        "application.list",
        request=request,
        actor=user,
        details={
            "filters": filters.as_details(),
            "page": number,
            "applications": [a.pk for a in rows],
        },
    )
    return BoardPage(rows, number, per_page, count, capped)


def _list_rows(ids: list[int]) -> list[Application]:
    found = {
        a.pk: a
        for a in Application.objects.filter(pk__in=ids)
        .only(*LIST_FIELDS)
        .prefetch_related(
            Prefetch("procedure", Procedure.objects.only("id", "slug", "texts", "title_ja")),
            Prefetch("department", Department.objects.only("id", "name", "names")),
            Prefetch("assignee", User.objects.only("id", "email", "display_name")),
        )
    }
    return [found[pk] for pk in ids if pk in found]


def visible_procedures(user: Any) -> QuerySet[Procedure]:
    qs = Procedure.objects.all()
    ids = permissions.case_department_ids(user)
    if ids is not None:
        qs = qs.filter(department_id__in=ids)
    return qs.only("id", "slug", "texts", "title_ja", "department_id").order_by("title_ja")


def department_staff(department_ids: Iterable[int] | None) -> QuerySet[User]:
    """Staff who may be given applications of these departments (all departments: None)."""
    assignments = StaffAssignment.objects.filter(role__in=[Role.CLERK, Role.MANAGER])
    if department_ids is not None:
        assignments = assignments.filter(department_id__in=list(department_ids))
    return (
        User.objects.filter(is_staff=True, is_active=True, pk__in=assignments.values("user_id"))
        .only("id", "email", "display_name")
        .order_by("display_name", "email")
    )


def _can_be_assigned(user: User, application: Application) -> bool:
    return (
        user.is_staff
        and user.is_active
        and StaffAssignment.objects.filter(
            user=user,
            department_id=application.department_id,
            role__in=[Role.CLERK, Role.MANAGER],
        ).exists()
    )


def staff_label(user: User | None) -> str:
    if user is None:
        return ""
    return user.display_name or user.email


# --- reading one application ------------------------------------------------------------------


def case_queryset() -> QuerySet[Application]:
    return Application.objects.exclude(status=Status.DRAFT).select_related(
        "procedure", "department", "assignee", "applicant", "version"
    )


def record_view(
    application: Application,
    request: HttpRequest | None,
    *,
    actor: Any = None,
    page: str = "case",
    details: dict[str, Any] | None = None,
) -> None:
    """Audit that staff read this application ("application.view"); refuse other departments."""
    actor = actor if actor is not None else getattr(request, "user", None)
    _check(actor, application)
    audit.record(
        "application.view",
        request=request,
        actor=actor,
        target=application,
        subject=application.applicant_id,
        details={"page": page, "reference": application.reference, **(details or {})},
    )


def history(application: Application) -> QuerySet[ApplicationEvent]:
    """Everything that happened, notes included (staff only)."""
    return application.events.select_related("actor").order_by("created_at", "id")


def open_attachment(
    application: Application, attachment_id: int, *, actor: Any, request: HttpRequest | None = None
) -> Attachment:
    """An attachment of the application, for download; the read is audited."""
    _check(actor, application)
    attachment = Attachment.objects.get(application=application, pk=attachment_id)
    record_view(
        application,
        request,
        actor=actor,
        page="attachment",
        details={"attachment": attachment.pk, "field": attachment.field_key},
    )
    return attachment


# --- changes ----------------------------------------------------------------------------------


def _locked(application: Application) -> Application:
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("procedure", "applicant", "department")
        .get(pk=application.pk)
    )


def _mail_resident(app: Application, template: str, context: dict[str, Any]) -> None:
    if not app.applicant.has_real_email:
        return
    queue_email(
        app.applicant.email,
        template,
        {
            "application": app,
            "reference": app.reference,
            "procedure_title": app.procedure.text("title", app.language),
            "url": applications.application_url(app),  # /my/applications/<id>/
            **context,
        },
        app.language,
    )


def _sync(target: Application, source: Application, *names: str) -> None:
    """Let the caller's object see what was saved."""
    for name in names:
        setattr(target, name, getattr(source, name))


def _clean_text(text: str, *, required_message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise CaseError(required_message, code="required")
    if len(text) > TEXT_MAX:
        raise CaseError(
            _("Write at most %(max)s characters.") % {"max": TEXT_MAX}, code="max_length"
        )
    return text


def transition_problem(application: Application, to_status: str, message: str = "") -> str | None:
    """Why staff cannot move ``application`` to ``to_status`` now (translated), or None."""
    if to_status not in staff_next_statuses(application):
        return _("%(reference)s is “%(current)s” and cannot become “%(new)s”.") % {
            "reference": application.reference or application.pk,
            "current": Status(application.status).label,
            "new": Status(to_status).label if to_status in Status.values else to_status,
        }
    if to_status in NEEDS_MESSAGE and not (message or "").strip():
        return _("Write a message to the resident that says why (“%(new)s”).") % {
            "new": Status(to_status).label
        }
    return None


def transition(
    application: Application,
    to_status: str,
    *,
    actor: User,
    message: str = "",
    request: HttpRequest | None = None,
) -> ApplicationEvent:
    """Move the application to ``to_status`` along :data:`TRANSITIONS`, tell the resident.

    "More information needed" and "Not accepted" need a message saying why. A final
    status sets ``decided_at``. The resident gets an e-mail (in the application's
    language) that points to their application page.
    """
    _check(actor, application)
    message = (message or "").strip()
    if len(message) > TEXT_MAX:
        raise CaseError(
            _("Write at most %(max)s characters.") % {"max": TEXT_MAX}, code="max_length"
        )
    with transaction.atomic():
        app = _locked(application)
        problem = transition_problem(app, to_status, message)
        if problem:
            raise CaseError(
                problem, code="message_required" if to_status in NEEDS_MESSAGE else "transition"
            )
        previous = app.status
        app.status = to_status
        fields = ["status", "updated_at"]
        if to_status in FINAL_STATUSES:
            app.decided_at = timezone.now()
            fields.append("decided_at")
        app.save(update_fields=fields)
        event = ApplicationEvent.objects.create(
            application=app,
            kind=ApplicationEvent.Kind.STATUS,
            from_status=previous,
            to_status=to_status,
            text=message,
            actor=actor,
            visible_to_resident=True,
        )
        audit.record(
            "application.status",
            request=request,
            actor=actor,
            target=app,
            subject=app.applicant_id,
            details={"from": previous, "to": to_status, "message": bool(message)},
        )
        _mail_resident(
            app,
            "procedures/email/status_changed",
            {"status": Status(to_status).label, "has_message": bool(message)},
        )
        transaction.on_commit(
            lambda: signals.application_status_changed.send(
                sender=Application,
                application=app,
                from_status=previous,
                to_status=to_status,
                actor=actor,
            )
        )
    _sync(application, app, "status", "decided_at", "updated_at")
    return event


def assign(
    application: Application,
    assignee: User | None,
    *,
    actor: User,
    request: HttpRequest | None = None,
) -> ApplicationEvent | None:
    """Give the application to a member of staff of its department (or to nobody)."""
    _check(actor, application)
    if assignee is not None and not _can_be_assigned(assignee, application):
        raise CaseError(
            _("%(name)s does not work in this department.") % {"name": staff_label(assignee)},
            code="assignee",
        )
    with transaction.atomic():
        app = _locked(application)
        new_id = assignee.pk if assignee is not None else None
        if app.assignee_id == new_id:
            return None
        previous = app.assignee_id
        app.assignee_id = new_id
        app.save(update_fields=["assignee", "updated_at"])
        event = ApplicationEvent.objects.create(
            application=app,
            kind=ApplicationEvent.Kind.ASSIGNED,
            text=staff_label(assignee),
            actor=actor,
        )
        audit.record(
            "application.assign",
            request=request,
            actor=actor,
            target=app,
            subject=app.applicant_id,
            details={"from": previous, "to": new_id},
        )
    application.assignee = assignee
    return event


def add_note(
    application: Application, text: str, *, actor: User, request: HttpRequest | None = None
) -> ApplicationEvent:
    """An internal note for colleagues; never shown to the resident."""
    _check(actor, application)
    text = _clean_text(text, required_message=_("Write the note."))
    with transaction.atomic():
        event = ApplicationEvent.objects.create(
            application=application,
            kind=ApplicationEvent.Kind.NOTE,
            text=text,
            actor=actor,
            visible_to_resident=False,
        )
        audit.record(
            "application.note",
            request=request,
            actor=actor,
            target=application,
            subject=application.applicant_id,
            details={"length": len(text)},
        )
    return event


def message_resident(
    application: Application, text: str, *, actor: User, request: HttpRequest | None = None
) -> ApplicationEvent:
    """A message the resident reads on their application page; the e-mail only says one came."""
    _check(actor, application)
    text = _clean_text(text, required_message=_("Write the message."))
    with transaction.atomic():
        app = _locked(application)
        event = ApplicationEvent.objects.create(
            application=app,
            kind=ApplicationEvent.Kind.MESSAGE_TO_RESIDENT,
            text=text,
            actor=actor,
            visible_to_resident=True,
        )
        audit.record(
            "application.message",
            request=request,
            actor=actor,
            target=app,
            subject=app.applicant_id,
            details={"length": len(text)},
        )
        _mail_resident(app, "procedures/email/staff_message", {})
        transaction.on_commit(
            lambda: signals.resident_message_posted.send(
                sender=Application, application=app, event=event
            )
        )
    return event


# --- bulk actions ---------------------------------------------------------------------------

BULK_ACTIONS = ("assign_me", "assign", "unassign", "transition")


def bulk(
    application_ids: Iterable[int],
    action: str,
    *,
    actor: User,
    request: HttpRequest | None = None,
    assignee: User | None = None,
    to_status: str = "",
    message: str = "",
) -> int:
    """Do one action to many applications: all of them, or none (every item is checked first).

    ``action``: ``assign_me``, ``assign`` (``assignee``), ``unassign``, ``transition``
    (``to_status``, ``message``). Returns how many applications were changed.
    """
    if action not in BULK_ACTIONS:
        raise CaseError(_("Choose what to do."), code="action")
    ids = list(dict.fromkeys(int(i) for i in application_ids))
    if not ids:
        raise CaseError(_("Choose at least one application."), code="empty")
    if len(ids) > MAX_PER_PAGE:
        raise CaseError(
            _("Choose at most %(max)s applications at a time.") % {"max": MAX_PER_PAGE},
            code="too_many",
        )
    if action == "assign" and assignee is None:
        raise CaseError(_("Choose who gets the applications."), code="assignee")
    with transaction.atomic():
        apps = {
            a.pk: a
            for a in Application.objects.select_for_update(of=("self",))
            .select_related("procedure", "applicant", "department")
            .filter(pk__in=ids)
        }
        problems: list[str] = []
        for pk in ids:
            app = apps.get(pk)
            if app is None or not can_work_on(actor, app) or app.status == Status.DRAFT:
                raise PermissionDenied
            if action == "transition":
                problem = transition_problem(app, to_status, message)
                if problem:
                    problems.append(problem)
            elif (
                action == "assign" and assignee is not None and not _can_be_assigned(assignee, app)
            ):
                problems.append(
                    _("%(name)s does not work in the department of %(reference)s.")
                    % {"name": staff_label(assignee), "reference": app.reference}
                )
        if problems:
            raise CaseError(
                ngettext(
                    "Nothing was changed: %(count)s application cannot take this action. %(why)s",
                    "Nothing was changed: %(count)s applications cannot take this action. %(why)s",
                    len(problems),
                )
                % {"count": len(problems), "why": " ".join(problems[:5])},
                code="bulk",
            )
        changed = 0
        for pk in ids:
            app = apps[pk]
            if action == "transition":
                transition(app, to_status, actor=actor, message=message, request=request)
                changed += 1
            else:
                target = {"assign_me": actor, "assign": assignee, "unassign": None}[action]
                if assign(app, target, actor=actor, request=request) is not None:
                    changed += 1
        audit.record(
            "application.bulk",
            request=request,
            actor=actor,
            details={"action": action, "applications": ids, "changed": changed, "to": to_status},
        )
    return changed


# --- CSV export for the 基幹系 side -------------------------------------------------------------

ENCODINGS = {
    "utf-8-sig": gettext_lazy("UTF-8 (with BOM)"),
    "cp932": gettext_lazy("Shift_JIS (CP932)"),
}
ANSWER_PREFIX = "answer:"
STANDARD_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("reference", gettext_lazy("Reference number")),
    ("procedure", gettext_lazy("Procedure")),
    ("status", gettext_lazy("Status")),
    ("submitted_at", gettext_lazy("Submitted")),
    ("due_date", gettext_lazy("Due date")),
    ("applicant_name", gettext_lazy("Applicant's name")),
    ("assignee", gettext_lazy("Assigned to")),
    ("via", gettext_lazy("Channel")),
    ("department", gettext_lazy("Department")),
    ("decided_at", gettext_lazy("Decided")),
    ("status_code", gettext_lazy("Status code")),
)
DEFAULT_COLUMNS = (
    "reference",
    "procedure",
    "status",
    "submitted_at",
    "due_date",
    "applicant_name",
    "assignee",
    "via",
)
# Characters Unicode-to-CP932 converters disagree on (the "wave dash problem"):
# written as the character CP932 has for them, instead of '?'.
CP932_FIXES = str.maketrans(
    {
        "\u301c": "\uff5e",  # 〜 WAVE DASH → ～
        "\u2016": "\u2225",  # ‖ → ∥
        "\u2212": "\uff0d",  # − MINUS SIGN → －
        "\u00a2": "\uffe0",  # ¢
        "\u00a3": "\uffe1",  # £
        "\u00ac": "\uffe2",  # ¬
        "\u2014": "\u2015",  # — EM DASH → ―
    }
)
FORMULA_START = ("=", "+", "@", "\t", "\r")


def _display() -> Any:
    from cityhall.procedures.formspec import display

    return display


def answer_columns(procedure: Procedure | int) -> list[tuple[str, str]]:
    """The form's answer columns (newest version's order first, then older-only ones)."""
    procedure_id = procedure if isinstance(procedure, int) else procedure.pk
    versions = FormVersion.objects.filter(definition__procedure_id=procedure_id).order_by("-number")
    seen: dict[str, str] = {}
    for version_id in versions.values_list("id", flat=True):
        for path, label in _display().columns(applications.spec_of(version_id)):
            seen.setdefault(ANSWER_PREFIX + path, label)
    return list(seen.items())


def export_columns(procedure: Procedure | int | None = None) -> list[tuple[str, str]]:
    """Every column the clerk may choose: the standard ones, then the form's answers."""
    columns = [(key, str(label)) for key, label in STANDARD_COLUMNS]
    if procedure is not None:
        columns += answer_columns(procedure)
    return columns


def _safe_cell(value: str) -> str:
    """Keep spreadsheet programs from running a cell as a formula (CSV injection)."""
    if value.startswith(FORMULA_START) or (value.startswith("-") and not value[1:2].isdigit()):
        return "'" + value
    return value


def _local(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _standard_value(app: Application, key: str) -> str:
    if key == "reference":
        return app.reference or ""
    if key == "procedure":
        return app.procedure.title
    if key == "status":
        return str(Status(app.status).label)
    if key == "status_code":
        return app.status
    if key == "submitted_at":
        return _local(app.submitted_at)
    if key == "decided_at":
        return _local(app.decided_at)
    if key == "due_date":
        return app.due_date.isoformat() if app.due_date else ""
    if key == "applicant_name":
        return app.applicant_name or ""
    if key == "assignee":
        return staff_label(app.assignee)
    if key == "via":
        return str(Application.Via(app.via).label)
    if key == "department":
        return app.department.localized_name()
    raise KeyError(key)


def _resolve(source: QuerySet[Application] | Iterable[int], actor: Any) -> list[int]:
    """Ids in export order, every one of them visible to ``actor``."""
    visible = _visible(actor)
    if isinstance(source, QuerySet):
        return list(source.filter(pk__in=visible.values("pk")).values_list("pk", flat=True))
    ids = list(dict.fromkeys(int(i) for i in source))
    found = set(visible.filter(pk__in=ids).values_list("pk", flat=True))
    _require(found == set(ids))
    return ids


def _rows(ids: list[int], columns: list[str], *, choice_labels: bool) -> Iterator[list[str]]:
    """Each application's cells in the chosen order (answers decrypted a chunk at a time)."""
    want_answers = any(c.startswith(ANSWER_PREFIX) for c in columns)
    for start in range(0, len(ids), EXPORT_CHUNK):
        chunk = ids[start : start + EXPORT_CHUNK]
        qs = Application.objects.filter(pk__in=chunk).select_related(
            "procedure", "assignee", "department"
        )
        if not want_answers:
            qs = qs.defer("data")
        apps = {a.pk: a for a in qs}
        for pk in chunk:
            app = apps.get(pk)
            if app is None:  # deleted meanwhile
                continue
            answers: dict[str, str] = {}
            if want_answers:
                spec = applications.spec_of(app.version_id)
                answers = _display().flatten(spec, applications.answers(app), labels=choice_labels)
            yield [
                answers.get(c[len(ANSWER_PREFIX) :], "")
                if c.startswith(ANSWER_PREFIX)
                else _standard_value(app, c)
                for c in columns
            ]


def _cp932(value: str) -> tuple[str, bool]:
    value = value.translate(CP932_FIXES)
    try:
        value.encode("cp932")
    except UnicodeEncodeError:
        return value.encode("cp932", errors="replace").decode("cp932"), True
    return value, False


def _check_columns(columns: Sequence[str]) -> list[str]:
    """The chosen columns in order: standard keys, or ``answer:<path>`` of the form."""
    known = {key for key, _label in STANDARD_COLUMNS}
    chosen = list(dict.fromkeys(columns))
    if not chosen or any(c not in known and not c.startswith(ANSWER_PREFIX) for c in chosen):
        raise CaseError(_("Choose at least one column."), code="columns")
    return chosen


def _header(ids: list[int], chosen: list[str]) -> list[str]:
    labels = dict(export_columns())
    if any(c.startswith(ANSWER_PREFIX) for c in chosen):
        procedure_ids: set[int] = set()
        for start in range(0, len(ids), EXPORT_CHUNK):
            procedure_ids.update(
                Application.objects.filter(pk__in=ids[start : start + EXPORT_CHUNK])
                .values_list("procedure_id", flat=True)
                .distinct()
            )
        for procedure_id in sorted(procedure_ids):
            for key, label in answer_columns(procedure_id):
                labels.setdefault(key, label)
    return [labels.get(c) or c[len(ANSWER_PREFIX) :] for c in chosen]


@dataclass
class CsvExport:
    """A CSV file being written: iterate ``chunks`` (bytes) once."""

    filename: str
    content_type: str
    rows: int
    encoding: str
    chunks: Iterator[bytes] = field(default_factory=lambda: iter(()))
    replaced_cells: int = 0  # CP932: cells with a character written as '?' (counted as streamed)

    def cells(self, cells: list[str]) -> list[str]:
        if self.encoding != "cp932":
            return cells
        out = []
        for cell in cells:
            text, replaced = _cp932(cell)
            self.replaced_cells += replaced
            out.append(text)
        return out


def count_unencodable(
    source: QuerySet[Application] | Iterable[int],
    *,
    columns: Sequence[str],
    actor: Any,
    choice_labels: bool = False,
) -> int:
    """How many cells of this export CP932 cannot hold (they would get '?')."""
    ids = _resolve(source, actor)
    chosen = _check_columns(columns)
    return sum(
        1
        for row in _rows(ids, chosen, choice_labels=choice_labels)
        for cell in row
        if _cp932(_safe_cell(cell))[1]
    )


def export_csv(
    source: QuerySet[Application] | Iterable[int],
    *,
    columns: Sequence[str],
    encoding: str,
    actor: User,
    request: HttpRequest | None = None,
    choice_labels: bool = False,
) -> CsvExport:
    """Stream the applications as CSV, the columns in the clerk's order.

    ``encoding``: ``utf-8-sig`` (a BOM first, so spreadsheet programs read UTF-8) or
    ``cp932`` (Shift_JIS as Windows has it; characters it lacks become '?' and are
    counted in ``replaced_cells``; :func:`count_unencodable` tells beforehand).
    Answers are the form's codes, or their Japanese labels with ``choice_labels``.
    The export is audited with its row count and an "Exported" event is added to
    each application's history.
    """
    if encoding not in ENCODINGS:
        raise CaseError(_("Choose an encoding."), code="encoding")
    chosen = _check_columns(columns)
    ids = _resolve(source, actor)
    header = _header(ids, chosen)
    with transaction.atomic():
        audit.record(
            "application.export",
            request=request,
            actor=actor,
            details={
                "rows": len(ids),
                "columns": chosen,
                "encoding": encoding,
                "applications": ids,
            },
        )
        now = timezone.now()
        ApplicationEvent.objects.bulk_create(
            [
                ApplicationEvent(
                    application_id=pk,
                    kind=ApplicationEvent.Kind.EXPORTED,
                    text=f"CSV {encoding}",
                    actor=actor,
                    created_at=now,
                )
                for pk in ids
            ],
            batch_size=1000,
        )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    export = CsvExport(
        filename=f"applications-{stamp}.csv",
        content_type="text/csv; charset=" + ("shift_jis" if encoding == "cp932" else "utf-8"),
        rows=len(ids),
        encoding=encoding,
    )
    export.chunks = _stream(export, header, _rows(ids, chosen, choice_labels=choice_labels))
    return export


def _stream(export: CsvExport, header: list[str], rows: Iterator[list[str]]) -> Iterator[bytes]:
    codec = "cp932" if export.encoding == "cp932" else "utf-8"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(export.cells(header))
    if export.encoding == "utf-8-sig":
        yield b"\xef\xbb\xbf"
    for number, row in enumerate(rows, start=1):
        writer.writerow(export.cells([_safe_cell(cell) for cell in row]))
        if number % 200 == 0:
            yield buffer.getvalue().encode(codec)
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode(codec)
