"""The write-free counter (書かない窓口): a clerk fills in procedures for a resident.

The clerk finds or creates the resident (through :mod:`cityhall.people.services.staff`,
which audits every search and read), chooses one procedure or the bundle of a life
event, and :func:`start_session` opens a :class:`CounterSession` with one prefilled
draft per procedure (:func:`applications.start` with ``via=counter`` and the
``counter`` assurance: the clerk has seen the resident's identity document).

The clerk asks and types, step by step; then :func:`show` puts one application on the
second screen facing the resident, who checks it in large text, signs (a typed name,
and a drawing where there is a pen or a finger) and confirms (:func:`confirm`). Only a
confirmed application can be submitted (:func:`submit`), once; the seconds from opening
the form to submitting it are kept (``counter_seconds``) for the counter-time KPI
(:func:`kpi`).

Counter staff often handle other departments' procedures (市民生活課 takes the moving-in
bundle, say): any member of staff who may use the counter may open any active
procedure there, and the application belongs to the procedure's department, whose
clerks then work on it on their board.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import statistics
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cityhall.core import audit
from cityhall.people.models import User
from cityhall.procedures import permissions
from cityhall.procedures.formspec.schema import FieldType, FormSpec, Step
from cityhall.procedures.models import (
    Application,
    ApplicationEvent,
    CounterSession,
    FormVersion,
    Procedure,
    Status,
)
from cityhall.procedures.services import applications, attachments, guide

SIGNATURE_FIELD_KEY = "_signature"  # the attachment's field_key when the form has no signature


class CounterError(Exception):
    """A counter action that cannot be done now; ``message`` is for the clerk."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


def check_counter(user: Any) -> None:
    if not permissions.can_use_counter(user):
        raise PermissionDenied


# --- what can be opened ----------------------------------------------------------------------


def procedures() -> QuerySet[Procedure]:
    """Active procedures with a published form (any department: see the module docstring)."""
    return (
        Procedure.objects.filter(is_active=True)
        .annotate(
            published=Exists(FormVersion.objects.filter(definition__procedure=OuterRef("pk")))
        )
        .filter(published=True)
        .select_related("department")
        .order_by("order", "title_ja")
    )


def life_events() -> list[tuple[str, Any]]:
    """(slug, title) of the life events that have at least one procedure at the counter."""
    used = {event for p in procedures() for event in (p.life_events or [])}
    return [(slug, title) for slug, title in guide.life_event_choices() if slug in used]


def bundle(life_event: str) -> list[Procedure]:
    """The procedures of a life event (those whose ``life_events`` name it)."""
    return [p for p in procedures() if life_event in (p.life_events or [])]


# --- sessions ------------------------------------------------------------------------------


def start_session(
    clerk: User,
    resident: User,
    chosen: Iterable[Procedure],
    *,
    life_event: str = "",
    request: Any = None,
) -> CounterSession:
    """Open a session with one prefilled draft for each chosen procedure (in order)."""
    check_counter(clerk)
    if resident.is_staff or not resident.is_active:
        raise CounterError("not_resident", _("This account cannot apply at the counter."))
    chosen = list(dict.fromkeys(chosen))
    if not chosen:
        raise CounterError("nothing_chosen", _("Choose at least one procedure."))
    allowed = set(procedures().values_list("pk", flat=True))
    if any(p.pk not in allowed for p in chosen):
        raise CounterError("not_available", _("A chosen procedure is not available."))
    departments = permissions.case_departments(clerk)
    with transaction.atomic():
        session = CounterSession.objects.create(
            clerk=clerk,
            resident=resident,
            department=departments[0] if len(departments) == 1 else None,
            life_event=life_event[:40],
            procedures=[p.slug for p in chosen],
        )
        for procedure in chosen:
            applications.start(
                procedure,
                resident,
                assurance="counter",
                language="ja",
                via=Application.Via.COUNTER,
                actor=clerk,
                counter_session=session,
                request=request,
            )
        audit.record(
            "counter.start",
            request=request,
            actor=clerk,
            target=session,
            subject=resident,
            details={"procedures": session.procedures, "life_event": session.life_event},
        )
    return session


def can_see_session(user: Any, session: CounterSession) -> bool:
    """The clerk who runs the session (and administrators)."""
    if not permissions.can_use_counter(user):
        return False
    return session.clerk_id == user.pk or permissions.case_department_ids(user) is None


def get_session(user: Any, pk: int) -> CounterSession:
    session = (
        CounterSession.objects.select_related("resident", "clerk", "showing").filter(pk=pk).first()
    )
    if session is None:
        raise CounterSession.DoesNotExist
    if not can_see_session(user, session):
        raise PermissionDenied
    return session


def open_sessions(clerk: User) -> QuerySet[CounterSession]:
    return CounterSession.objects.filter(clerk=clerk, ended_at__isnull=True).select_related(
        "resident"
    )


def applications_of(session: CounterSession) -> list[Application]:
    found = {
        a.procedure.slug: a
        for a in session.applications.select_related("procedure", "version").order_by("id")
    }
    ordered = [found.pop(slug) for slug in session.procedures if slug in found]
    return ordered + list(found.values())


def application_of(session: CounterSession, pk: int) -> Application:
    app = (
        Application.objects.select_related("procedure", "version", "applicant")
        .filter(pk=pk, counter_session=session)
        .first()
    )
    if app is None:
        raise Application.DoesNotExist
    return app


def end_session(clerk: User, session: CounterSession, *, request: Any = None) -> CounterSession:
    check_counter(clerk)
    if not can_see_session(clerk, session):
        raise PermissionDenied
    with transaction.atomic():
        locked = CounterSession.objects.select_for_update().get(pk=session.pk)
        if locked.ended_at is None:
            locked.ended_at = timezone.now()
            locked.showing = None
            locked.save(update_fields=["ended_at", "showing"])
            unsent = [a.pk for a in locked.applications.filter(status=Status.DRAFT)]
            audit.record(
                "counter.end",
                request=request,
                actor=clerk,
                target=locked,
                subject=locked.resident_id,
                details={"unsent": unsent},
            )
    return locked


def record_view(
    clerk: User, session: CounterSession, app: Application, page: str, *, request: Any = None
) -> None:
    """Every staff view of an application is in the audit log, at the counter too."""
    audit.record(
        "counter.view",
        request=request,
        actor=clerk,
        target=app,
        subject=app.applicant_id,
        details={"session": session.pk, "page": page},
    )


def _check_open(session: CounterSession, app: Application | None = None) -> None:
    if session.ended_at is not None:
        raise CounterError("ended", _("This counter session has ended."))
    if app is not None and app.status != Status.DRAFT:
        raise CounterError("submitted", _("This application is already submitted."))


# --- filling in ----------------------------------------------------------------------------


def signature_keys(spec: FormSpec) -> set[str]:
    return {f.key for f in spec.fields() if f.type == FieldType.SIGNATURE}


def clerk_step(step: Step) -> Step:
    """A step as the clerk fills it in: signatures are given by the resident on the second
    screen, so they are left out here."""
    return replace(step, fields=tuple(f for f in step.fields if f.type != FieldType.SIGNATURE))


def clerk_steps(spec: FormSpec) -> list[Step]:
    """The steps the clerk goes through (a step with only a signature is the resident's)."""
    return [s for s in spec.steps if clerk_step(s).fields]


def open_problems(app: Application) -> list[Any]:
    """What still has to be answered before the resident can check it (signatures aside)."""
    spec = applications.spec_of(app.version_id)
    skip = signature_keys(spec)
    return [e for e in applications.problems(app) if e.path.split(".")[0] not in skip]


def save_step(
    clerk: User,
    session: CounterSession,
    app: Application,
    step_key: str,
    values: dict[str, Any],
    *,
    request: Any = None,
) -> Application:
    """Keep a step the clerk filled in. A change after the resident confirmed needs a new
    confirmation: the resident confirms what they saw."""
    check_counter(clerk)
    _check_open(session, app)
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=app.pk)
        applications.save_step(locked, step_key, values)
        if locked.resident_confirmed_at is not None:
            locked.resident_confirmed_at = None
            locked.save(update_fields=["resident_confirmed_at", "updated_at"])
        audit.record(
            "counter.step",
            request=request,
            actor=clerk,
            target=locked,
            subject=locked.applicant_id,
            details={"step": step_key, "session": session.pk},
        )
    return locked


def show(
    clerk: User, session: CounterSession, app: Application, *, request: Any = None
) -> CounterSession:
    """Put ``app`` on the resident's screen (it must be complete but for the signature)."""
    check_counter(clerk)
    _check_open(session, app)
    if open_problems(app):
        raise CounterError(
            "incomplete", _("Some answers are missing. Fill them in before showing the form.")
        )
    with transaction.atomic():
        locked = CounterSession.objects.select_for_update().get(pk=session.pk)
        locked.showing = app
        locked.save(update_fields=["showing"])
        audit.record(
            "counter.show",
            request=request,
            actor=clerk,
            target=app,
            subject=app.applicant_id,
            details={"session": session.pk},
        )
    return locked


def stop_showing(clerk: User, session: CounterSession) -> None:
    check_counter(clerk)
    CounterSession.objects.filter(pk=session.pk).update(showing=None)


def confirm(
    clerk: User,
    session: CounterSession,
    app: Application,
    *,
    typed_name: str,
    drawn: str = "",
    request: Any = None,
) -> Application:
    """The resident checked the answers on the second screen and signed.

    The signature is kept as the answer of the form's signature question when it has
    one, else as an attachment; an event ``confirmed`` records it either way.
    """
    check_counter(clerk)
    _check_open(session, app)
    typed_name = " ".join((typed_name or "").split())[:200]
    if not typed_name and not drawn:
        raise CounterError("no_signature", _("Sign by typing your full name."))
    with transaction.atomic():
        locked_session = CounterSession.objects.select_for_update().get(pk=session.pk)
        if locked_session.showing_id != app.pk:
            raise CounterError(
                "not_showing", _("This application is no longer shown. Ask the clerk.")
            )
        locked = Application.objects.select_for_update().get(pk=app.pk)
        spec = applications.spec_of(locked.version_id)
        keys = [f.key for f in spec.fields() if f.type == FieldType.SIGNATURE]
        attachment = None
        if drawn:
            try:
                attachment = attachments.store_signature(
                    locked, keys[0] if keys else SIGNATURE_FIELD_KEY, drawn, actor=clerk
                )
            except attachments.AttachmentProblem as exc:
                raise CounterError("invalid_signature", exc.message) from exc
        if keys:
            data = dict(locked.data or {})
            value: dict[str, Any] = {}
            if typed_name:
                value["typed"] = typed_name
            if attachment is not None:
                value["attachment"] = attachment.pk
            for key in keys:
                data[key] = dict(value)
            locked.data = data
        locked.resident_confirmed_at = timezone.now()
        locked.save(update_fields=["data", "resident_confirmed_at", "updated_at"])
        text = typed_name
        if attachment is not None:
            text = f"{typed_name} [signature {attachment.pk}]".strip()
        ApplicationEvent.objects.create(
            application=locked,
            kind=ApplicationEvent.Kind.CONFIRMED,
            text=text,
            actor=locked.applicant,
            visible_to_resident=True,
        )
        locked_session.showing = None
        locked_session.save(update_fields=["showing"])
        audit.record(
            "application.confirm",
            request=request,
            actor=clerk,
            target=locked,
            subject=locked.applicant_id,
            details={
                "session": session.pk,
                "drawn": attachment is not None,
                "attachment": attachment.pk if attachment else None,
            },
        )
    return locked


def submit(
    clerk: User, session: CounterSession, app: Application, *, request: Any = None
) -> Application:
    """Submit once the resident confirmed; the seconds since the form was opened are kept."""
    check_counter(clerk)
    if app.status != Status.DRAFT:
        return app  # pressed twice: the one submission stands
    _check_open(session, app)
    if app.resident_confirmed_at is None:
        raise CounterError(
            "not_confirmed",
            _("The resident has not confirmed this application on their screen yet."),
        )
    seconds = max(0, int((timezone.now() - app.created_at).total_seconds()))
    return applications.submit(
        app, actor=clerk, assurance="counter", request=request, counter_seconds=seconds
    )


def print_copy(
    clerk: User, session: CounterSession, app: Application, *, request: Any = None
) -> bytes:
    """The receipt PDF for the back office (only for a submitted application); audited."""
    from cityhall.procedures.services import receipt_pdf

    check_counter(clerk)
    if app.status == Status.DRAFT:
        raise CounterError("not_submitted", _("Submit the application before printing it."))
    data = receipt_pdf.render(app)
    audit.record(
        "counter.print",
        request=request,
        actor=clerk,
        target=app,
        subject=app.applicant_id,
        details={"session": session.pk, "reference": app.reference},
    )
    return data


# --- the counter-time KPI ------------------------------------------------------------------


def percentile(values: list[int], fraction: float) -> float | None:
    """The nearest-rank percentile (p90 of 10 values is the 9th smallest)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return float(ordered[rank - 1])


@dataclass
class KpiRow:
    procedure: Procedure | None
    counter: int = 0
    online: int = 0
    seconds: list[int] = field(default_factory=list)

    @property
    def median(self) -> float | None:
        return float(statistics.median(self.seconds)) if self.seconds else None

    @property
    def p90(self) -> float | None:
        return percentile(self.seconds, 0.9)

    @property
    def total(self) -> int:
        return self.counter + self.online

    @property
    def counter_share(self) -> float | None:
        """Share of submissions made at the counter, in percent."""
        return round(100 * self.counter / self.total, 1) if self.total else None

    @property
    def online_share(self) -> float | None:
        return round(100 * self.online / self.total, 1) if self.total else None


@dataclass
class Kpi:
    start: dt.date
    end: dt.date
    rows: list[KpiRow]
    total: KpiRow


def month_bounds(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    today = today or timezone.localdate()
    first = today.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def kpi(user: Any, start: dt.date, end: dt.date) -> Kpi:
    """Per procedure, submissions from ``start`` to ``end`` (inclusive, local days):
    counter count with median and p90 seconds from opening to submitting, online count,
    and the shares."""
    check_counter(user)
    submitted = Application.objects.filter(
        submitted_at__gte=_day_start(start),
        submitted_at__lt=_day_start(end + dt.timedelta(days=1)),
    ).exclude(status=Status.DRAFT)
    rows: dict[int, KpiRow] = {}
    total = KpiRow(None)
    for procedure_id, via, seconds in submitted.values_list(
        "procedure_id", "via", "counter_seconds"
    ).iterator():
        row = rows.setdefault(procedure_id, KpiRow(None))
        for target in (row, total):
            if via == Application.Via.COUNTER:
                target.counter += 1
                if seconds is not None:
                    target.seconds.append(seconds)
            else:
                target.online += 1
    by_id = Procedure.objects.select_related("department").in_bulk(list(rows))
    for pk, row in rows.items():
        row.procedure = by_id.get(pk)
    ordered = sorted(
        rows.values(), key=lambda r: (-r.counter, r.procedure.title_ja if r.procedure else "")
    )
    return Kpi(start, end, ordered, total)


KPI_COLUMNS = (
    "procedure",
    "title",
    "department",
    "counter_submissions",
    "median_seconds",
    "p90_seconds",
    "online_submissions",
    "counter_share_percent",
)


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def kpi_csv(user: Any, report: Kpi, *, request: Any = None) -> Iterator[str]:
    """The KPI as CSV (UTF-8 with BOM, so spreadsheet programs read Japanese)."""
    audit.record(
        "counter.kpi_export",
        request=request,
        actor=user,
        details={"start": report.start.isoformat(), "end": report.end.isoformat()},
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(KPI_COLUMNS)
    for row in [*report.rows, report.total]:
        procedure = row.procedure
        writer.writerow(
            [
                procedure.slug if procedure else "total",
                procedure.title_ja if procedure else "合計",
                procedure.department.name if procedure else "",
                row.counter,
                _number(row.median),
                _number(row.p90),
                row.online,
                _number(row.counter_share),
            ]
        )
    yield "\ufeff"
    yield buffer.getvalue()
