"""JSON API of the procedures: the catalogue, published forms, applications and statuses.

Three audiences, three ways in:

- anyone: the catalogue and the published forms (``/procedures…``);
- the logged-in resident (session cookie, CSRF token on writes): their own
  applications, and submitting one (``/me/applications…``, ``POST
  /procedures/{slug}/applications`` with an ``Idempotency-Key``);
- staff and other systems (``/applications…``): an API token of a staff service
  account (``Authorization: Bearer ch_…``, see ``cityhall api-token``) or a staff
  session that passed TOTP. They see and change only the applications of the
  departments the account works in, and every read of an application is audited.

Errors are problem details (see :mod:`cityhall.core.problems`). The views are thin:
they parse, call :mod:`.services`, and shape the answer.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.params import HeaderEx, P
from ninja.security import HttpBearer, SessionAuth

from cityhall.core import audit, ratelimit
from cityhall.core.problems import problem_response
from cityhall.people.api import ResidentAuth
from cityhall.people.models import Department, User
from cityhall.people.services import api_tokens, identity
from cityhall.procedures import dynforms
from cityhall.procedures.formspec import validate
from cityhall.procedures.formspec.schema import Field, FieldType, FormSpec
from cityhall.procedures.formspec.validate import FieldError
from cityhall.procedures.models import (
    Application,
    ApplicationEvent,
    Category,
    FormVersion,
    Procedure,
)
from cityhall.procedures.models import Status as AppStatus
from cityhall.procedures.schemas import (
    ApplicantOut,
    ApplicationDetailOut,
    ApplicationFilters,
    ApplicationIn,
    ApplicationOut,
    ApplicationPage,
    AttachmentOut,
    DepartmentOut,
    EventOut,
    FormOut,
    MyApplicationDetailOut,
    MyApplicationOut,
    Problem,
    ProcedureDetailOut,
    ProcedureFilters,
    ProcedureOut,
    ProcedureRef,
    ResidentEventOut,
    StatusIn,
)
from cityhall.procedures.services import applications, cases, catalogue, prefill

router = Router(tags=["procedures"])

#: Submissions one resident may make through the API (``settings.APPLICATION_SUBMIT_RATE``
#: when set; ``N/s``, ``N/m``, ``N/h`` or ``N/d``).
DEFAULT_SUBMIT_RATE = "30/h"
#: 1–64 visible ASCII characters (a UUID is typical).
IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{1,64}$")
UNKNOWN_FIELD = "unknown_field"
#: A resident's submission holds their lock at most this long; others wait this long for it.
LOCK_SECONDS = 60
LOCK_WAIT_SECONDS = 15
LOCK_POLL_SECONDS = 0.05
MAX_LIMIT = 200


# --- authentication -------------------------------------------------------------------------


class ApiTokenAuth(HttpBearer):
    """``Authorization: Bearer ch_<prefix>_<secret>``: an API token of a staff service account.

    A token that is sent but not valid (unknown, revoked, expired, inactive account) is
    refused at once with 401; the session is not tried instead.
    """

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_tokens.authenticate(token)
        if user is None:
            raise AuthenticationError()
        return user


class StaffSessionAuth(SessionAuth):
    """A staff session that passed TOTP (CSRF checked on unsafe methods). Residents get 403."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is None:
            return None
        if not user.is_staff:
            raise HttpError(403, _("This is for staff and other systems of the city."))
        if not user.is_verified():
            return None  # password only: not logged in as staff yet (401)
        return user


STAFF_AUTH = [ApiTokenAuth(), StaffSessionAuth()]
RESIDENT_AUTH = ResidentAuth()

ERRORS_PUBLIC: dict[int, Any] = {404: Problem, 422: Problem, 429: Problem}
ERRORS_AUTH: dict[int, Any] = {401: Problem, 403: Problem, 404: Problem, 429: Problem}


# --- helpers ----------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]


def _forbidden(request: HttpRequest) -> HttpResponse:
    return problem_response("permission-denied", request)


def _not_found(request: HttpRequest) -> HttpResponse:
    return problem_response("not-found", request)


def _invalid(request: HttpRequest, field: str, detail: str) -> HttpResponse:
    items = [{"field": field, "detail": detail}]
    return problem_response("validation-error", request, errors=items)


def _field_at(spec: FormSpec, path: str) -> Field | None:
    """The field an error path names (``children.0.birthdate`` is a group's sub-field)."""
    parts = path.split(".")
    top = spec.field(parts[0])
    if top is not None and top.type == FieldType.GROUP and len(parts) >= 3:
        return next((sub for sub in top.fields if sub.key == parts[2]), top)
    return top


def _error_text(spec: FormSpec, error: FieldError) -> str:
    if error.code == UNKNOWN_FIELD:
        return _("This form has no question with this key.")
    language = get_language() or "ja"
    return dynforms.error_message(error.code, error.params, _field_at(spec, error.path), language)


def _answer_problem(request: HttpRequest, spec: FormSpec, errors: list[FieldError]) -> HttpResponse:
    """422 listing every answer problem: its path, stable code and the online form's sentence
    for it (:func:`dynforms.error_message`, in the reader's language)."""
    items = [{"field": e.path, "code": e.code, "detail": _error_text(spec, e)} for e in errors]
    return problem_response("validation-error", request, errors=items)


def _department(department: Department) -> DepartmentOut:
    return DepartmentOut(code=department.code, name=department.localized_name())


def _procedure_out(procedure: Procedure) -> dict[str, Any]:
    return {
        "slug": procedure.slug,
        "title": procedure.title,
        "summary": procedure.text("summary"),
        "category": procedure.category,
        "category_label": str(Category(procedure.category).label),
        "channel": procedure.channel,
        "online": catalogue.can_apply_online(procedure),
        "requires_identity": procedure.requires_identity,
        "fee_yen": procedure.fee_yen,
        "department": _department(procedure.department),
        "life_events": list(procedure.life_events or []),
    }


def _status_label(status: str) -> str:
    return str(AppStatus(status).label) if status in AppStatus.values else status


def _kind_label(kind: str) -> str:
    kinds = ApplicationEvent.Kind
    return str(kinds(kind).label) if kind in kinds.values else kind


def _ref(procedure: Procedure) -> ProcedureRef:
    return ProcedureRef(slug=procedure.slug, title=procedure.title)


# --- public: the catalogue and the forms -----------------------------------------------------


@router.get(
    "/procedures",
    response={200: list[ProcedureOut], 422: Problem, 429: Problem},
    auth=None,
    summary="The procedure catalogue (手続き一覧)",
)
def procedure_list(request: HttpRequest, filters: Query[ProcedureFilters]) -> Any:
    """Active procedures, in catalogue order (or best match first when searching)."""
    if filters.category and filters.category not in Category.values:
        return _invalid(request, "category", _("Unknown category."))
    found = catalogue.search(
        filters.q, filters.category, filters.life_event, language=get_language()
    )
    return [_procedure_out(p) for p in found]


def _active(slug: str) -> Procedure | None:
    return catalogue.get(slug)


@router.get(
    "/procedures/{slug}",
    response={200: ProcedureDetailOut, **ERRORS_PUBLIC},
    auth=None,
    summary="One procedure",
)
def procedure_detail(request: HttpRequest, slug: str) -> Any:
    procedure = _active(slug)
    if procedure is None:
        return _not_found(request)
    version = applications.published_version(procedure)
    return {
        **_procedure_out(procedure),
        **{key: procedure.text(key) for key in ("eligibility", "bring", "fee", "where", "hours")},
        "sla_days": procedure.sla_days,
        "form_version": version.number if version else None,
    }


def _form_out(procedure: Procedure, version: FormVersion) -> FormOut:
    return FormOut(
        procedure=procedure.slug,
        version=version.number,
        published_at=version.published_at,
        spec=version.spec,
    )


@router.get(
    "/procedures/{slug}/form",
    response={200: FormOut, **ERRORS_PUBLIC},
    auth=None,
    summary="The procedure's published form",
)
def procedure_form(request: HttpRequest, slug: str) -> Any:
    """The newest published version of the form (its specification, as JSON)."""
    procedure = _active(slug)
    version = applications.published_version(procedure) if procedure else None
    if procedure is None or version is None:
        return _not_found(request)
    return _form_out(procedure, version)


@router.get(
    "/procedures/{slug}/form/versions/{number}",
    response={200: FormOut, **ERRORS_PUBLIC},
    auth=None,
    summary="One published version of the form",
)
def procedure_form_version(request: HttpRequest, slug: str, number: int) -> Any:
    """A version applications were made with (published versions never change)."""
    procedure = _active(slug)
    version = (
        FormVersion.objects.filter(definition__procedure=procedure, number=number).first()
        if procedure
        else None
    )
    if procedure is None or version is None:
        return _not_found(request)
    return _form_out(procedure, version)


# --- the resident's own applications ---------------------------------------------------------


def _my_out(app: Application) -> dict[str, Any]:
    return {
        "id": app.pk,
        "reference": app.reference,
        "procedure": _ref(app.procedure),
        "status": app.status,
        "status_label": _status_label(app.status),
        "via": app.via,
        "created_at": app.created_at,
        "updated_at": app.updated_at,
        "submitted_at": app.submitted_at,
    }


def _my_detail(app: Application) -> dict[str, Any]:
    events = [
        ResidentEventOut(
            kind=e.kind,
            kind_label=_kind_label(e.kind),
            from_status=e.from_status,
            to_status=e.to_status,
            text=e.text or "",
            created_at=e.created_at,
        )
        for e in applications.resident_events(app)
    ]
    return {
        **_my_out(app),
        "form_version": app.version.number,
        "answers": applications.answers(app),
        "events": events,
    }


def _mine(user: User) -> QuerySet[Application]:
    return applications.for_resident(user).select_related("version")


@router.get(
    "/me/applications",
    response={200: list[MyApplicationOut], **ERRORS_AUTH},
    auth=RESIDENT_AUTH,
    tags=["applications"],
    summary="My applications",
)
def my_applications(request: HttpRequest) -> Any:
    """The resident's own applications (drafts too), newest first."""
    return [_my_out(app) for app in applications.for_resident(_user(request)).defer("data")]


@router.get(
    "/me/applications/{application_id}",
    response={200: MyApplicationDetailOut, **ERRORS_AUTH},
    auth=RESIDENT_AUTH,
    tags=["applications"],
    summary="One of my applications",
)
def my_application(request: HttpRequest, application_id: int) -> Any:
    """With the answers and the history the resident sees (status changes, messages)."""
    app = _mine(_user(request)).filter(pk=application_id).first()
    if app is None:
        return _not_found(request)
    return _my_detail(app)


def _submit_rate() -> str:
    return str(getattr(settings, "APPLICATION_SUBMIT_RATE", DEFAULT_SUBMIT_RATE))


def _unknown_fields(spec: FormSpec, raw: Mapping[str, Any]) -> list[FieldError]:
    known = {f.key for f in spec.fields()}
    return [FieldError(key, UNKNOWN_FIELD) for key in raw if key not in known]


def _check_answers(
    spec: FormSpec, raw: Mapping[str, Any], known: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], list[FieldError]]:
    """Every step checked in order, as the online form would one page after another.

    ``known`` are the answers the city already has (the draft's prefilled values): a field
    the request leaves out takes its value from there when the field has prefill sources.
    Returns each step's values and every problem.
    """
    merged = {**_prefillable(spec, known, raw), **raw}
    errors = _unknown_fields(spec, raw)
    current: dict[str, Any] = {}
    steps: list[dict[str, Any]] = []
    today = timezone.localdate()  # "today" in date bounds is the city's day
    for step in spec.steps:
        result = validate.validate_step(spec, step, merged, current, today=today)
        errors.extend(result.errors)
        current = result.merge(current)
        steps.append(result.values)
    return steps, errors


def _prefillable(
    spec: FormSpec, known: Mapping[str, Any], raw: Mapping[str, Any]
) -> dict[str, Any]:
    out = {}
    for key, value in known.items():
        field = spec.field(key)
        if key not in raw and field is not None and field.prefill:
            out[key] = value
    return out


def _same_request(app: Application, raw: Mapping[str, Any]) -> bool:
    """Whether ``raw`` is the request that made ``app`` (a retry), judged by the answers kept."""
    spec = applications.spec_of(app.version_id)
    stored = applications.answers(app)
    steps, errors = _check_answers(spec, raw, stored)
    if errors:
        return False
    given: dict[str, Any] = {}
    for values in steps:
        given.update(values)
    return validate.prune(spec, given) == stored


def _replay(
    request: HttpRequest, app: Application, user: User, procedure: Procedure, raw: dict[str, Any]
) -> Any:
    if app.applicant_id != user.pk or app.procedure_id != procedure.pk:
        return problem_response(
            "conflict", request, detail=_("This Idempotency-Key was used for another request.")
        )
    if not _same_request(app, raw):
        return problem_response(
            "conflict",
            request,
            detail=_("This Idempotency-Key was used before with different answers."),
        )
    return Status(200, _my_detail(app))


def _application_error(
    request: HttpRequest, error: applications.ApplicationError, spec: FormSpec | None
) -> HttpResponse:
    if error.code == "identity_required":
        return problem_response("identity-required", request, detail=error.message)
    if error.errors and spec is not None:
        return _answer_problem(request, spec, error.errors)
    return problem_response("conflict", request, detail=error.message)


class _Busy(Exception):
    """Another submission of the same resident did not finish in time."""


@contextmanager
def _one_at_a_time(name: str) -> Iterator[None]:
    """One holder at a time across processes (the shared cache's atomic ``add``).

    A resident's API submissions run one after another: a retry that arrives while the
    first request is still working waits for it and then gets its answer, and two
    submissions never fill in the same draft. The database still guarantees one
    application per key (its unique ``idempotency_key``) should the cache not be shared
    between the processes (``locmem://``).
    """
    token = secrets.token_hex(8)
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while not cache.add(name, token, timeout=LOCK_SECONDS):
        if time.monotonic() > deadline:
            raise _Busy(name)
        time.sleep(LOCK_POLL_SECONDS)
    try:
        yield
    finally:
        if cache.get(name) == token:
            cache.delete(name)


@router.post(
    "/procedures/{slug}/applications",
    response={200: MyApplicationDetailOut, 201: MyApplicationDetailOut, 409: Problem, 422: Problem}
    | ERRORS_AUTH,
    auth=RESIDENT_AUTH,
    tags=["applications"],
    summary="Submit an application",
)
def submit_application(
    request: HttpRequest,
    slug: str,
    payload: ApplicationIn,
    idempotency_key: HeaderEx[
        str | None,
        P(
            alias="Idempotency-Key",
            description="Required: 1–64 visible ASCII characters, new for each application "
            "(a UUID). Sending the same request again with the same key returns the same "
            "application (200) instead of a second one (201); the same key with other "
            "answers is a 409.",
        ),
    ] = None,
) -> Any:
    """Fill in and submit the procedure's form in one request, exactly once.

    Every step is checked as the online form checks it; any problem answers 422 with every
    field's path and a sentence in the request's language, and nothing is kept. A
    procedure that needs the My Number Card answers 403 `identity-required` until the
    session has done the step-up.
    """
    user = _user(request)
    key = (idempotency_key or "").strip()
    if not IDEMPOTENCY_KEY_RE.match(key):
        return _invalid(
            request,
            "Idempotency-Key",
            _("Send an Idempotency-Key header of 1 to 64 visible characters, e.g. a UUID."),
        )
    procedure = _active(slug)
    if procedure is None:
        return _not_found(request)
    try:
        with _one_at_a_time(f"api.application_submit:{user.pk}"):
            return _submit(request, user, procedure, key, dict(payload.answers))
    except _Busy:
        return problem_response(
            "conflict",
            request,
            detail=_("Another request of yours is being handled. Try again in a moment."),
            headers={"Retry-After": "1"},
        )


def _submit(
    request: HttpRequest, user: User, procedure: Procedure, key: str, raw: dict[str, Any]
) -> Any:
    """The submission itself; the caller holds the resident's lock."""
    existing = applications.by_idempotency_key(key)
    if existing is not None:  # a retry, or the same request that finished while this one waited
        return _replay(request, existing, user, procedure, raw)
    assurance = identity.assurance(request)
    if procedure.requires_identity and prefill.RANK.get(assurance, 0) < prefill.RANK["card"]:
        return problem_response(
            "identity-required",
            request,
            detail=_("This procedure needs you to prove who you are with your My Number Card."),
        )
    allowed, retry = ratelimit.hit("api.application_submit", str(user.pk), _submit_rate())
    if not allowed:
        return problem_response("rate-limited", request, headers={"Retry-After": str(retry)})
    spec: FormSpec | None = None
    try:
        # One transaction from the draft to the submission: all or nothing (answers with
        # mistakes leave no draft behind), and on PostgreSQL every submission takes its
        # locks in the same order (the audit log's head first), never in a circle.
        with transaction.atomic():
            app = applications.start(
                procedure,
                user,
                assurance=assurance,
                language=get_language() or "ja",
                request=request,
            )
            spec = applications.spec_of(app.version_id)
            steps, errors = _check_answers(spec, raw, applications.answers(app))
            if errors:
                raise _Refused(_answer_problem(request, spec, errors))
            if not _still_a_draft(app):  # submitted by another request meanwhile
                raise _Refused(
                    problem_response(
                        "conflict",
                        request,
                        detail=_("Another request of yours submitted this application. Try again."),
                    )
                )
            for step, values in zip(spec.steps, steps, strict=True):
                applications.save_step(app, step.key, values)
            app = applications.submit_with_key(
                app, idempotency_key=key, actor=user, assurance=assurance, request=request
            )
    except _Refused as refused:
        return refused.response
    except applications.ApplicationError as error:
        return _application_error(request, error, spec)
    if app.idempotency_key != key or app.applicant_id != user.pk:
        return _taken(request)
    return Status(201, _my_detail(_mine(user).get(pk=app.pk)))


class _Refused(Exception):
    """Leaves the submission's transaction (so nothing of it is kept) with this answer."""

    def __init__(self, response: HttpResponse) -> None:
        self.response = response
        super().__init__("refused")


def _still_a_draft(app: Application) -> bool:
    """Lock the draft's row and check it was not submitted meanwhile.

    Answers are only ever written into a draft: should the resident's lock not be shared
    between processes (a ``locmem://`` cache), two submissions that picked the same draft
    queue here (the row lock on PostgreSQL, the writer lock on SQLite), and the second
    one stops instead of writing over the first one's answers.
    """
    return (
        Application.objects.select_for_update().filter(pk=app.pk, status=AppStatus.DRAFT).exists()
    )


def _taken(request: HttpRequest) -> HttpResponse:
    return problem_response(
        "conflict", request, detail=_("This Idempotency-Key was used for another request.")
    )


# --- staff and other systems -------------------------------------------------------------------


def _staff_out(app: Application) -> dict[str, Any]:
    return {
        "id": app.pk,
        "reference": app.reference or "",
        "procedure": _ref(app.procedure),
        "department": _department(app.department),
        "status": app.status,
        "status_label": _status_label(app.status),
        "via": app.via,
        "submitted_at": app.submitted_at,
        "updated_at": app.updated_at,
        "due_date": app.due_date,
        "decided_at": app.decided_at,
        "assignee": app.assignee.email if app.assignee_id and app.assignee else None,
    }


def _audit_details(request: HttpRequest) -> dict[str, Any]:
    details: dict[str, Any] = {"via": "api"}
    token = getattr(_user(request), "api_token", None)
    if token is not None:
        details["token"] = token.prefix
    return details


def _case(reference: str) -> Application | None:
    return cases.case_queryset().filter(reference=cases.normalize_reference(reference)).first()


def _encode_cursor(app: Application) -> str:
    assert app.submitted_at is not None
    text = f"{app.submitted_at.isoformat()}|{app.pk}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[dt.datetime, int] | None:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _sep, pk = text.partition("|")
        when = dt.datetime.fromisoformat(stamp)
        if timezone.is_naive(when):
            return None
        return when, int(pk)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        return None


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


@router.get(
    "/applications",
    response={200: ApplicationPage, 422: Problem} | ERRORS_AUTH,
    auth=STAFF_AUTH,
    tags=["applications"],
    summary="Submitted applications (staff and other systems)",
)
def application_list(request: HttpRequest, filters: Query[ApplicationFilters]) -> Any:
    """Applications of the departments the account works in, oldest submission first.

    Follow ``next`` for the following page: the order is (submitted_at, id), so pages stay
    right while new applications arrive. The read is audited (``application.list``).
    """
    user = _user(request)
    department, procedure, cursor = filters.department, filters.procedure, filters.cursor
    updated_since, submitted_since, limit = (
        filters.updated_since,
        filters.submitted_since,
        filters.limit,
    )
    chosen = list(dict.fromkeys(filters.status))
    unknown = [s for s in chosen if s not in cases.BOARD_STATUSES]
    if unknown:
        return _invalid(request, "status", _("Unknown status: %(s)s.") % {"s": ", ".join(unknown)})
    department_id = None
    if department:
        found = Department.objects.filter(code=department).values_list("pk", flat=True).first()
        if found is None:
            return _invalid(request, "department", _("Unknown department code."))
        department_id = found
    procedure_id = None
    if procedure:
        found = Procedure.objects.filter(slug=procedure).values_list("pk", flat=True).first()
        if found is None:
            return _invalid(request, "procedure", _("Unknown procedure."))
        procedure_id = found
    position = _decode_cursor(cursor) if cursor else None
    if cursor and position is None:
        return _invalid(request, "cursor", _("This cursor is not valid."))
    wanted = cases.Filters(
        department=department_id,
        status=tuple(chosen or cases.BOARD_STATUSES),
        procedure=procedure_id,
    )
    try:
        qs = cases.board_queryset(user, wanted)
    except PermissionDenied:
        return _forbidden(request)
    if updated_since is not None:
        qs = qs.filter(updated_at__gte=_aware(updated_since))
    if submitted_since is not None:
        qs = qs.filter(submitted_at__gte=_aware(submitted_since))
    if position is not None:
        when, pk = position
        qs = qs.filter(Q(submitted_at__gt=when) | Q(submitted_at=when, pk__gt=pk))
    rows = list(
        qs.order_by("submitted_at", "pk")
        .select_related("procedure", "department", "assignee")
        .defer("data", "applicant_name")[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    audit.record(
        "application.list",
        request=request,
        actor=user,
        details={
            **_audit_details(request),
            "filters": {
                k: v
                for k, v in {
                    "department": department,
                    "status": chosen,
                    "procedure": procedure,
                    "updated_since": updated_since,
                    "submitted_since": submitted_since,
                    "cursor": cursor,
                }.items()
                if v
            },
            "applications": [a.pk for a in rows],
        },
    )
    next_url = None
    if more and rows:
        params = [
            (name, value)
            for name, values in request.GET.lists()
            if name != "cursor"
            for value in values
        ]
        params.append(("cursor", _encode_cursor(rows[-1])))
        next_url = request.build_absolute_uri(f"{request.path}?{urlencode(params)}")
    return {"items": [_staff_out(a) for a in rows], "next": next_url}


def _viewed(request: HttpRequest, reference: str, page: str) -> Application | HttpResponse:
    """The application, its read audited as a staff view; 404 or 403 as a problem."""
    app = _case(reference)
    if app is None:
        return _not_found(request)
    try:
        cases.record_view(
            app, request, actor=_user(request), page=page, details=_audit_details(request)
        )
    except PermissionDenied:
        return _forbidden(request)
    return app


@router.get(
    "/applications/{reference}",
    response={200: ApplicationDetailOut} | ERRORS_AUTH,
    auth=STAFF_AUTH,
    tags=["applications"],
    summary="One application with its answers",
)
def application_detail(request: HttpRequest, reference: str) -> Any:
    """The read is written to the audit log (``application.view``, ``via: api``)."""
    app = _viewed(request, reference, "api")
    if isinstance(app, HttpResponse):
        return app
    return {
        **_staff_out(app),
        "applicant": ApplicantOut(name=app.applicant_name or "", email=app.applicant.email),
        "language": app.language,
        "assurance": app.assurance,
        "form_version": app.version.number,
        "answers": applications.answers(app),
        "attachments": [
            AttachmentOut(
                id=a.pk,
                field=a.field_key,
                content_type=a.content_type,
                size=a.size,
                sha256=a.sha256,
                name=a.original_name,
            )
            for a in app.attachments.all()
        ],
        "next_statuses": list(cases.staff_next_statuses(app)),
    }


@router.get(
    "/applications/{reference}/events",
    response={200: list[EventOut]} | ERRORS_AUTH,
    auth=STAFF_AUTH,
    tags=["applications"],
    summary="What happened to an application",
)
def application_events(request: HttpRequest, reference: str) -> Any:
    """Status changes, messages, internal notes and assignments, oldest first (audited)."""
    app = _viewed(request, reference, "api.events")
    if isinstance(app, HttpResponse):
        return app
    return [
        EventOut(
            id=e.pk,
            kind=e.kind,
            kind_label=_kind_label(e.kind),
            from_status=e.from_status,
            to_status=e.to_status,
            text=e.text or "",
            actor=e.actor.email if e.actor else None,
            visible_to_resident=e.visible_to_resident,
            created_at=e.created_at,
        )
        for e in cases.history(app)
    ]


@router.post(
    "/applications/{reference}/status",
    response={200: ApplicationOut, 409: Problem, 422: Problem} | ERRORS_AUTH,
    auth=STAFF_AUTH,
    tags=["applications"],
    summary="Change an application's status",
)
def application_status(request: HttpRequest, reference: str, payload: StatusIn) -> Any:
    """Moves the application along the allowed transitions and tells the resident.

    409 when the status cannot follow the current one; 422 when a message to the
    resident is needed (`needs_info`, `rejected`) or the status is unknown.
    """
    app = _case(reference)
    if app is None:
        return _not_found(request)
    if payload.status not in cases.BOARD_STATUSES:
        return _invalid(request, "status", _("Unknown status: %(s)s.") % {"s": payload.status})
    try:
        cases.transition(
            app, payload.status, actor=_user(request), message=payload.message, request=request
        )
    except PermissionDenied:
        return _forbidden(request)
    except cases.CaseError as error:
        if error.code == "transition":
            return problem_response("conflict", request, detail=str(error))
        return _invalid(request, "message", str(error))
    updated = _case(reference)
    assert updated is not None
    return _staff_out(updated)
