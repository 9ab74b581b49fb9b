"""The write-free counter (書かない窓口) in the staff console (/staff/counter/).

The clerk's screen: find or create the resident, choose procedures (one, or a life
event's bundle), fill each form in step by step, show it on the second screen, submit
after the resident confirmed, print for the back office if needed. The second screen
(``counter_display``) faces the resident: large text, their language, a check box, a
signature and a button. It runs in the clerk's staff session, in a second window.

Thin views over :mod:`cityhall.procedures.services.counter`; the searches and reads of
the resident's data are audited by :mod:`cityhall.people.services.staff`.
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cityhall.core.i18n import html_lang
from cityhall.people import permissions as people_permissions
from cityhall.people.models import User
from cityhall.people.services import staff
from cityhall.people.staff_views import sections
from cityhall.procedures import permissions
from cityhall.procedures.formspec.text import pick
from cityhall.procedures.models import Application, CounterSession, Status
from cityhall.procedures.services import applications, counter, guide
from cityhall.procedures.services.counter import CounterError
from cityhall.procedures.staff.counter_forms import (
    BundleForm,
    ConfirmForm,
    KpiForm,
    LifeEventForm,
    NewResidentForm,
    ProcedureForm,
    ResidentSearchForm,
)

SECTION = "procstaff:counter"
PER_PAGE = 20


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    context.setdefault("staff_sections", sections(request.user))
    context.setdefault("staff_section", SECTION)
    return render(request, f"procedures/staff/counter/{template}", context, status=status)


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _check(request: HttpRequest) -> None:
    if not permissions.can_use_counter(request.user):
        raise PermissionDenied


def _session(request: HttpRequest, pk: int) -> CounterSession:
    _check(request)
    try:
        return counter.get_session(request.user, pk)
    except CounterSession.DoesNotExist as exc:
        raise Http404 from exc


def _application(session: CounterSession, pk: int) -> Application:
    try:
        return counter.application_of(session, pk)
    except Application.DoesNotExist as exc:
        raise Http404 from exc


def _words() -> dict[str, str]:
    return {
        "yes": _("Yes"),
        "no": _("No"),
        "signed": _("Signed"),
        "files": _("{n} files"),
    }


# --- finding the resident ------------------------------------------------------------------


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Find the resident (every search is recorded), or create one; open sessions."""
    _check(request)
    form = ResidentSearchForm(request.GET if "q" in request.GET else None)
    page = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            found = staff.search_residents(_actor(request), form.cleaned_data["q"], request=request)
            page = Paginator(found.filter(is_active=True), PER_PAGE).get_page(
                request.GET.get("page")
            )
        else:
            status = 422
    return _render(
        request,
        "home.html",
        {
            "form": form,
            "page": page,
            "sessions": counter.open_sessions(_actor(request))[:20],
            "can_create": people_permissions.can_edit_residents(request.user),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def resident_new(request: HttpRequest) -> HttpResponse:
    _check(request)
    if not people_permissions.can_edit_residents(request.user):
        raise PermissionDenied
    form = NewResidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            resident = staff.create_resident(
                _actor(request),
                form.cleaned_data["display_name"],
                email=form.cleaned_data["email"] or "",
                profile=form.profile(),
                request=request,
            )
        except ValueError:
            form.add_error("email", _("An account with this e-mail address already exists."))
        else:
            messages.success(request, _("The resident's account is created."))
            return redirect("procstaff:counter_start", resident=resident.pk)
    return _render(
        request,
        "resident_new.html",
        {"form": form},
        status=422 if form.is_bound and form.errors else 200,
    )


# --- choosing procedures -------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def start(request: HttpRequest, resident: int) -> HttpResponse:
    """The resident (their profile read is audited) and the procedures to open."""
    _check(request)
    person = get_object_or_404(User.objects.filter(is_staff=False, is_active=True), pk=resident)
    record = staff.view_resident(_actor(request), person, request, page="counter")
    event = request.GET.get("event") or request.POST.get("event") or ""
    one = ProcedureForm(request.POST if request.POST.get("mode") == "one" else None)
    events = LifeEventForm(request.GET if "event" in request.GET else None)
    bundle: BundleForm | None = None
    if event and event in dict(counter.life_events()):
        bundle = BundleForm(
            request.POST if request.POST.get("mode") == "bundle" else None, event=event
        )
    elif events.is_bound:
        events.is_valid()
    status = 200
    if request.method == "POST":
        chosen: list[Any] = []
        form: Any = one if request.POST.get("mode") == "one" else bundle
        if form is None:
            raise Http404
        if form.is_valid():
            chosen = [form.cleaned_data["procedure"]] if form is one else form.chosen()
            try:
                session = counter.start_session(
                    _actor(request),
                    person,
                    chosen,
                    life_event=event if form is bundle else "",
                    request=request,
                )
            except CounterError as exc:
                form.add_error(None, exc.message)
                status = 422
            else:
                return redirect("procstaff:counter_session", session=session.pk)
        else:
            status = 422
    error_form = (
        one if one.is_bound and one.errors else bundle if bundle and bundle.errors else events
    )
    return _render(
        request,
        "start.html",
        {
            "resident": person,
            "profile": record.profile,
            "one": one,
            "events": events,
            "bundle": bundle,
            "event": event,
            "event_title": guide.life_event_title(event) if event else "",
            "form": error_form,
        },
        status=status if request.method == "POST" else (422 if events.errors else 200),
    )


# --- the session ---------------------------------------------------------------------------


def _progress(app: Application) -> dict[str, Any]:
    spec = applications.spec_of(app.version_id)
    steps = counter.clerk_steps(spec)
    problems = counter.open_problems(app) if app.status == Status.DRAFT else []
    return {
        "app": app,
        "title": app.procedure.title,
        "steps": len(steps),
        "problems": len(problems),
        "first_step": steps[0].key if steps else "",
    }


@require_GET
def session_view(request: HttpRequest, session: int) -> HttpResponse:
    found = _session(request, session)
    rows = [_progress(a) for a in counter.applications_of(found)]
    return _render(
        request,
        "session.html",
        {
            "session": found,
            "rows": rows,
            "resident": found.resident,
            "event_title": guide.life_event_title(found.life_event) if found.life_event else "",
        },
    )


@require_POST
def end(request: HttpRequest, session: int) -> HttpResponse:
    found = _session(request, session)
    counter.end_session(_actor(request), found, request=request)
    messages.success(request, _("The counter session has ended."))
    return redirect("procstaff:counter")


@require_GET
def app_start(request: HttpRequest, session: int, app: int) -> HttpResponse:
    """The first step that still needs answers, or the review."""
    found = _session(request, session)
    application = _application(found, app)
    spec = applications.spec_of(application.version_id)
    steps = counter.clerk_steps(spec)
    if application.status != Status.DRAFT or not steps:
        return redirect("procstaff:counter_review", session=found.pk, app=application.pk)
    waiting = {e.path.split(".")[0] for e in counter.open_problems(application)}
    for step in steps:
        if any(f.key in waiting for f in step.fields):
            return redirect(
                "procstaff:counter_step", session=found.pk, app=application.pk, step=step.key
            )
    return redirect(
        "procstaff:counter_step", session=found.pk, app=application.pk, step=steps[0].key
    )


@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, session: int, app: int, step: str) -> HttpResponse:
    """One step of the form, filled in by the clerk (counter-only questions shown)."""
    from cityhall.procedures import dynforms

    found = _session(request, session)
    application = _application(found, app)
    if application.status != Status.DRAFT or found.ended_at is not None:
        return redirect("procstaff:counter_review", session=found.pk, app=application.pk)
    spec = applications.spec_of(application.version_id)
    steps = counter.clerk_steps(spec)
    keys = [s.key for s in steps]
    if step not in keys:
        raise Http404
    index = keys.index(step)
    current = counter.clerk_step(steps[index])
    language = get_language() or "ja"
    form = dynforms.build_step_form(
        spec,
        current,
        language=language,
        answers=applications.answers(application),
        unchecked=applications.unchecked_input(application, step),
        data=request.POST if request.method == "POST" else None,
        files=request.FILES if request.method == "POST" else None,
        application=application,
        actor=_actor(request),
        counter=True,
    )
    status = 200
    if request.method == "GET":
        counter.record_view(_actor(request), found, application, f"step:{step}", request=request)
    if request.method == "POST":
        if form.action:
            applications.save_unchecked(application, step, form.raw_input())
        elif form.is_valid():
            try:
                counter.save_step(
                    _actor(request), found, application, step, form.answers, request=request
                )
            except CounterError as exc:
                messages.error(request, exc.message)
                return redirect("procstaff:counter_session", session=found.pk)
            if index + 1 < len(steps):
                return redirect(
                    "procstaff:counter_step",
                    session=found.pk,
                    app=application.pk,
                    step=steps[index + 1].key,
                )
            return redirect("procstaff:counter_review", session=found.pk, app=application.pk)
        else:
            applications.save_unchecked(application, step, form.raw_input())
            status = 422
    return _render(
        request,
        "step.html",
        {
            "session": found,
            "application": application,
            "form": form,
            "step_title": pick(current.title, language),
            "step_intro": pick(current.intro, language),
            "number": index + 1,
            "total": len(steps),
            "previous": steps[index - 1].key if index > 0 else "",
            "steps": [
                {"key": s.key, "title": pick(s.title, language), "current": i == index}
                for i, s in enumerate(steps)
            ],
        },
        status=status,
    )


def _review_context(found: CounterSession, application: Application) -> dict[str, Any]:
    from cityhall.procedures import dynforms

    language = get_language() or "ja"
    spec = applications.spec_of(application.version_id)
    problems = []
    if application.status == Status.DRAFT:
        for error in counter.open_problems(application):
            step_key, label, message = dynforms.describe_error(spec, error, language)
            problems.append({"step": step_key, "label": label, "message": message})
    return {
        "session": found,
        "application": application,
        "rows": applications.summary(application, language, _words()),
        "problems": problems,
        "showing": found.showing_id == application.pk,
        "showing_other": found.showing_id not in (None, application.pk),
        "confirmed": application.resident_confirmed_at is not None,
        "submitted": application.status != Status.DRAFT,
        "first_step": next(iter(counter.clerk_steps(spec)), None),
    }


@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, session: int, app: int) -> HttpResponse:
    """The clerk's check page: the answers, then "Show to the resident", then "Submit"."""
    found = _session(request, session)
    application = _application(found, app)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "show":
                counter.show(_actor(request), found, application, request=request)
                messages.success(
                    request,
                    _("The form is on the resident's screen. Ask them to check it and sign."),
                )
            elif action == "stop":
                counter.stop_showing(_actor(request), found)
            else:
                raise Http404
        except CounterError as exc:
            messages.error(request, exc.message)
            status = 422
        else:
            return redirect("procstaff:counter_review", session=found.pk, app=application.pk)
    else:
        counter.record_view(_actor(request), found, application, "review", request=request)
    return _render(request, "review.html", _review_context(found, application), status=status)


@require_POST
def submit(request: HttpRequest, session: int, app: int) -> HttpResponse:
    found = _session(request, session)
    application = _application(found, app)
    try:
        done = counter.submit(_actor(request), found, application, request=request)
    except CounterError as exc:
        messages.error(request, exc.message)
        return _render(request, "review.html", _review_context(found, application), status=409)
    except applications.ApplicationError as exc:
        messages.error(request, exc.message)
        return _render(request, "review.html", _review_context(found, application), status=422)
    messages.success(
        request,
        _("The application is submitted. Its number is %(reference)s.")
        % {"reference": done.reference},
    )
    return redirect("procstaff:counter_review", session=found.pk, app=done.pk)


@require_GET
def print_copy(request: HttpRequest, session: int, app: int) -> HttpResponse:
    """The receipt PDF, for a back office that still needs paper (audited)."""
    found = _session(request, session)
    application = _application(found, app)
    try:
        data = counter.print_copy(_actor(request), found, application, request=request)
    except CounterError as exc:
        messages.error(request, exc.message)
        return redirect("procstaff:counter_review", session=found.pk, app=application.pk)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{application.reference}.pdf"'
    return response


# --- the second screen ---------------------------------------------------------------------


def _display_language(request: HttpRequest, session: CounterSession) -> str:
    """The language the resident chose on the screen, else the one of their profile,
    else Japanese."""
    from cityhall.people.services import accounts

    codes = [code for code, _name in settings.LANGUAGES]
    wanted = request.GET.get("lang") or request.POST.get("lang") or ""
    if wanted in codes:
        return wanted
    preferred = accounts.profile_of(session.resident).preferred_language
    return preferred if preferred in codes else "ja"


@require_http_methods(["GET", "POST"])
def display(request: HttpRequest, session: int) -> HttpResponse:
    """The screen facing the resident: the answers in large text, check, sign, confirm.

    When nothing is shown it waits and looks again every 3 seconds (a script asks the
    server; without script the page refreshes itself); it never refreshes while an
    application is shown, so nothing the resident types is lost.
    """
    found = _session(request, session)
    showing = found.showing if found.ended_at is None else None
    language = _display_language(request, found)
    form: ConfirmForm | None = None
    status = 200
    if request.method == "POST":
        with translation.override(language):
            form = ConfirmForm(request.POST)
            if not form.is_valid():
                status = 422
            elif showing is None or form.cleaned_data["application"] != showing.pk:
                form.add_error(None, _("This application is no longer shown. Ask the clerk."))
                status = 409
            else:
                try:
                    counter.confirm(
                        _actor(request),
                        found,
                        showing,
                        typed_name=form.cleaned_data["signature"],
                        drawn=form.cleaned_data["signature_drawn"],
                        request=request,
                    )
                except CounterError as exc:
                    form.add_error(None, exc.message)
                    status = 409
                else:
                    url = reverse("procstaff:counter_display", args=[found.pk])
                    return redirect(f"{url}?done=1&lang={language}")
        found.refresh_from_db()
        showing = found.showing if found.ended_at is None else None
    rows: list[Any] = []
    title = ""
    if showing is not None:
        counter.record_view(_actor(request), found, showing, "display", request=request)
        with translation.override(language):
            rows = applications.summary(showing, language, _words())
            title = showing.procedure.text("title", language)
            if form is None or form.data.get("application") != str(showing.pk):
                form = ConfirmForm(initial={"application": showing.pk})
    else:
        form = None
    with translation.override(language):
        return render(
            request,
            "procedures/staff/counter/display.html",
            {
                "session": found,
                "showing": showing,
                "rows": rows,
                "procedure_title": title,
                "form": form,
                "done": request.GET.get("done") == "1" and showing is None,
                "ended": found.ended_at is not None,
                "languages": settings.LANGUAGES,
                "language": language,
                "display_lang": html_lang(language),
                "state_url": reverse("procstaff:counter_display_state", args=[found.pk]),
            },
            status=status,
        )


@require_GET
def display_state(request: HttpRequest, session: int) -> JsonResponse:
    """What the second screen should show now (its script asks every few seconds)."""
    found = _session(request, session)
    return JsonResponse(
        {
            "showing": found.showing_id if found.ended_at is None else None,
            "ended": found.ended_at is not None,
        }
    )


# --- the KPI -------------------------------------------------------------------------------


def _kpi_report(request: HttpRequest) -> tuple[KpiForm, counter.Kpi | None]:
    form = KpiForm(request.GET)
    if not form.is_valid():
        return form, None
    return form, counter.kpi(_actor(request), form.cleaned_data["start"], form.cleaned_data["end"])


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    total = round(seconds)
    return f"{total // 60}:{total % 60:02d}"


@require_GET
def kpi(request: HttpRequest) -> HttpResponse:
    """Counter time per procedure (median and p90, opening to submitting) and channel share."""
    _check(request)
    form, report = _kpi_report(request)
    rows = []
    if report is not None:
        for row in [*report.rows, report.total]:
            rows.append(
                {
                    "row": row,
                    "title": row.procedure.title if row.procedure else _("All procedures"),
                    "department": row.procedure.department.name if row.procedure else "",
                    "median": _duration(row.median),
                    "p90": _duration(row.p90),
                    "is_total": row.procedure is None,
                }
            )
    query = request.GET.urlencode()
    return _render(
        request,
        "kpi.html",
        {"form": form, "report": report, "rows": rows, "query": query},
        status=422 if form.errors else 200,
    )


@require_GET
def kpi_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    _check(request)
    form, report = _kpi_report(request)
    if report is None:
        return _render(
            request, "kpi.html", {"form": form, "report": None, "rows": [], "query": ""}, status=422
        )
    response = StreamingHttpResponse(
        counter.kpi_csv(_actor(request), report, request=request),
        content_type="text/csv; charset=utf-8",
    )
    name = f"counter-kpi-{report.start:%Y%m%d}-{report.end:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
