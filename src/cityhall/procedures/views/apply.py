"""The resident's online application: start, fill in step by step, save and resume, check,
submit exactly once, receipt; and "my applications" with status, messages and the PDF copy.

Thin views over :mod:`cityhall.procedures.services.applications`. A resident sees only
their own applications (any other id is a 404); staff accounts are sent to the staff
console. A draft that no longer fits its form (odd saved input, answers that fail
validation) never stops the resident: every step renders, and the draft can always be
continued or deleted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cityhall.core import ratelimit
from cityhall.core.forms import AccessibleFormMixin
from cityhall.people.services import identity
from cityhall.procedures import dynforms
from cityhall.procedures.formspec.schema import FormSpec
from cityhall.procedures.formspec.text import pick
from cityhall.procedures.models import (
    RESIDENT_WITHDRAWABLE,
    Application,
    ApplicationEvent,
    Attachment,
    Procedure,
    Status,
)
from cityhall.procedures.services import applications, attachments, hooks, prefill, receipt_pdf
from cityhall.procedures.services.applications import ApplicationError
from cityhall.procedures.views.common import language, resident_required

log = logging.getLogger(__name__)

#: How many resume links one resident may have e-mailed per hour.
RESUME_MAIL_RATE = "5/h"
INLINE_TYPES = {attachments.JPEG, attachments.PNG, attachments.PDF}


def words() -> dict[str, str]:
    """The words formspec's display needs, in the request's language."""
    return {"yes": _("Yes"), "no": _("No"), "signed": _("Signed"), "files": _("Files: {n}")}


# --- helpers --------------------------------------------------------------------------------


def _own(request: HttpRequest, pk: int) -> Application:
    """The resident's own application, or 404 (never another resident's)."""
    return get_object_or_404(
        Application.objects.select_related("procedure", "procedure__department", "applicant"),
        pk=pk,
        applicant=request.user,
    )


def _own_online_draft(request: HttpRequest, pk: int) -> Application:
    app = _own(request, pk)
    if app.via != Application.Via.ONLINE and app.status == Status.DRAFT:
        raise Http404("a draft made at the counter is finished at the counter")
    return app


def _spec(app: Application) -> FormSpec | None:
    try:
        return applications.spec_of(app.version_id)
    except Exception:  # a version that no longer parses: the draft can still be deleted
        log.exception("form version %s of application %s does not parse", app.version_id, app.pk)
        return None


def step_url(app: Application, step_key: str) -> str:
    return reverse("procedures:apply_step", args=[app.pk, step_key])


def next_url(app: Application, spec: FormSpec | None = None) -> str:
    """Where a resident continues a draft: the first unfinished step, or the check page."""
    spec = spec or _spec(app)
    if spec is None:
        return reverse("procedures:apply_discard", args=[app.pk])
    if app.step >= len(spec.steps):
        return reverse("procedures:apply_check", args=[app.pk])
    return step_url(app, spec.steps[max(app.step, 0)].key)


def needs_card(procedure: Procedure, level: str) -> bool:
    return procedure.requires_identity and prefill.RANK.get(level, 0) < prefill.RANK["card"]


def _title(app: Application) -> str:
    return app.procedure.text("title", language())


def _fee_text(yen: int) -> str:
    return f"{yen:,}"


def _broken(request: HttpRequest, app: Application) -> HttpResponse:
    return render(
        request,
        "procedures/apply/broken.html",
        {"application": app, "procedure_title": _title(app)},
        status=409,
    )


# --- start ----------------------------------------------------------------------------------


@resident_required
def apply_start(request: HttpRequest, slug: str) -> HttpResponse:
    """What the procedure needs, the identity notice, and "Start now" (or continue a draft)."""
    procedure = get_object_or_404(
        Procedure.objects.select_related("department"), slug=slug, is_active=True
    )
    lang = language()
    version = applications.published_version(procedure)
    spec = applications.spec_of(version) if version is not None else None
    level = identity.assurance(request)
    draft = applications.open_draft(procedure, request.user)  # type: ignore[arg-type]
    context: dict[str, Any] = {
        "procedure": procedure,
        "title": procedure.text("title", lang),
        "summary": procedure.text("summary", lang),
        "eligibility": procedure.text("eligibility", lang),
        "bring": procedure.text("bring", lang),
        "fee": procedure.text("fee", lang),
        "fee_yen": _fee_text(procedure.fee_yen) if procedure.fee_yen else "",
        "step_titles": [pick(s.title, lang) for s in spec.steps] if spec else [],
        "online": bool(spec) and procedure.online,
        "needs_card": needs_card(procedure, level),
        "step_up_url": identity.step_up_url(request.get_full_path()),
        "draft": draft,
        "error": "",
    }
    if request.method == "POST":
        try:
            app = applications.start(
                procedure,
                request.user,  # type: ignore[arg-type]
                assurance=level,
                language=lang,
                request=request,
            )
        except ApplicationError as exc:
            context["error"] = exc.message
            return render(request, "procedures/apply/start.html", context, status=409)
        return redirect(next_url(app))
    return render(request, "procedures/apply/start.html", context)


# --- steps ----------------------------------------------------------------------------------


@resident_required
def apply_step(request: HttpRequest, pk: int, step_key: str) -> HttpResponse:
    app = _own_online_draft(request, pk)
    if app.status != Status.DRAFT:
        return redirect("procedures:application", app.pk)
    spec = _spec(app)
    if spec is None:
        return _broken(request, app)
    keys = [s.key for s in spec.steps]
    if step_key not in keys:
        raise Http404("no such step")
    index = keys.index(step_key)
    if index > app.step:
        return redirect(next_url(app, spec))
    step = spec.steps[index]
    lang = language()
    posted = request.method == "POST"
    form = dynforms.build_step_form(
        spec,
        step,
        language=lang,
        answers=applications.answers(app),
        unchecked=applications.unchecked_input(app, step.key),
        data=request.POST if posted else None,
        files=request.FILES if posted else None,
        application=app,
        actor=request.user,
    )
    returning = (request.POST if posted else request.GET).get("return") == "check"
    status = 200
    if posted:
        if form.action:
            applications.save_unchecked(app, step.key, form.raw_input())
        elif "_save" in request.POST:
            if form.is_valid():
                applications.save_step(app, step.key, form.answers)
            else:
                applications.save_unchecked(app, step.key, form.raw_input())
            return redirect("procedures:apply_saved", app.pk)
        elif form.is_valid():
            applications.save_step(app, step.key, form.answers)
            if returning or index + 1 >= len(spec.steps):
                return redirect("procedures:apply_check", app.pk)
            return redirect(step_url(app, spec.steps[index + 1].key))
        else:
            # Keep what was typed, even if it does not pass yet: nothing is lost.
            applications.save_unchecked(app, step.key, form.raw_input())
            status = 422
    if index > 0:
        back = step_url(app, spec.steps[index - 1].key)
    else:
        back = reverse("procedures:apply_start", args=[app.procedure.slug])
    if returning:
        back = reverse("procedures:apply_check", args=[app.pk])
    return render(
        request,
        "procedures/apply/step.html",
        {
            "application": app,
            "procedure_title": _title(app),
            "form": form,
            "step_number": index + 1,
            "step_total": len(spec.steps),
            "back_url": back,
            "returning": returning,
        },
        status=status,
    )


@resident_required
def apply_saved(request: HttpRequest, pk: int) -> HttpResponse:
    """ "We saved your answers", with a button that e-mails a link to come back."""
    app = _own_online_draft(request, pk)
    if app.status != Status.DRAFT:
        return redirect("procedures:application", app.pk)
    if request.method == "POST":
        allowed, _retry = ratelimit.hit("resume-mail", f"user:{request.user.pk}", RESUME_MAIL_RATE)
        if not allowed:
            messages.error(request, _("We already sent several links. Please try again later."))
            return redirect("procedures:apply_saved", app.pk)
        token = applications.resume_token(app)
        url = settings.SITE_URL.rstrip("/") + reverse("procedures:apply_resume", args=[token])
        applications.send_resume_link(app, url)
        messages.success(
            request,
            _("We sent a link to %(email)s. It works for %(days)s days.")
            % {"email": request.user.email, "days": settings.DRAFT_DAYS},  # type: ignore[union-attr]
        )
        return redirect("procedures:apply_saved", app.pk)
    return render(
        request,
        "procedures/apply/saved.html",
        {
            "application": app,
            "procedure_title": _title(app),
            "continue_url": next_url(app),
            "keep_until": app.created_at + timedelta(days=settings.DRAFT_DAYS),
            "can_mail": not request.user.email.endswith(".invalid"),  # type: ignore[union-attr]
        },
    )


@resident_required
def apply_resume(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the e-mail: back to the first unfinished step of the draft."""
    app = applications.from_resume_token(token, request.user)  # type: ignore[arg-type]
    if app is None:
        return render(request, "procedures/apply/resume_invalid.html", status=404)
    if app.status != Status.DRAFT:
        return redirect("procedures:application", app.pk)
    return redirect(next_url(app))


# --- check and submit -----------------------------------------------------------------------


@dataclass
class CheckStep:
    key: str
    title: str
    url: str
    rows: list[Any] = field(default_factory=list)


@dataclass
class Problem:
    url: str
    label: str
    message: str


def _check_context(
    request: HttpRequest, app: Application, spec: FormSpec, errors: list[Any] | None = None
) -> dict[str, Any]:
    lang = language()
    step_of = {f.key: s.key for s in spec.steps for f in s.fields}
    steps = [
        CheckStep(s.key, pick(s.title, lang), step_url(app, s.key) + "?return=check")
        for s in spec.steps[: max(app.step, 0) + 1]
    ]
    by_key = {s.key: s for s in steps}
    try:
        rows = applications.summary(app, lang, words())
    except Exception:  # odd saved answers: show the steps, the problems say what to fix
        log.exception("summary of application %s failed", app.pk)
        rows = []
    for row in rows:
        target = by_key.get(step_of.get(row.path.split(".")[0], ""))
        if target is not None:
            target.rows.append(row)
    try:
        found = errors if errors is not None else applications.problems(app)
    except Exception:
        log.exception("checking application %s failed", app.pk)
        found = []
    problems = []
    for error in found:
        step_key, label, message = dynforms.describe_error(spec, error, lang)
        url = step_url(app, step_key) + "?return=check" if step_key else ""
        problems.append(Problem(url, label, message))
    unfinished = [s for s in spec.steps[max(app.step, 0) :]]
    level = identity.assurance(request)
    return {
        "application": app,
        "procedure_title": _title(app),
        "steps": steps,
        "problems": problems,
        "unfinished": [(pick(s.title, lang), step_url(app, s.key)) for s in unfinished],
        "fee_yen": _fee_text(app.fee_yen) if app.fee_yen else "",
        "needs_card": needs_card(app.procedure, level),
        "step_up_url": identity.step_up_url(reverse("procedures:apply_check", args=[app.pk])),
        "back_url": step_url(app, spec.steps[-1].key)
        if app.step >= len(spec.steps)
        else next_url(app, spec),
    }


@resident_required
def apply_check(request: HttpRequest, pk: int) -> HttpResponse:
    """Every answer by step with "Change" links, what still blocks, the fee and Submit."""
    app = _own_online_draft(request, pk)
    if app.status != Status.DRAFT:
        return redirect("procedures:apply_done", app.pk)
    spec = _spec(app)
    if spec is None:
        return _broken(request, app)
    return render(request, "procedures/apply/check.html", _check_context(request, app, spec))


@resident_required
@require_POST
def apply_submit(request: HttpRequest, pk: int) -> HttpResponse:
    """Submit exactly once: a second press or a retried request shows the same receipt."""
    app = _own_online_draft(request, pk)
    if app.status != Status.DRAFT:
        return redirect("procedures:apply_done", app.pk)
    spec = _spec(app)
    if spec is None:
        return _broken(request, app)
    try:
        app = applications.submit(
            app,
            actor=request.user,  # type: ignore[arg-type]
            assurance=identity.assurance(request),
            request=request,
        )
    except ApplicationError as exc:
        if exc.code == "identity_required":
            return redirect(identity.step_up_url(reverse("procedures:apply_check", args=[app.pk])))
        context = _check_context(request, app, spec, exc.errors or None)
        context["failed"] = exc.message
        return render(request, "procedures/apply/check.html", context, status=422)
    try:
        attachments.purge_unreferenced(app)
    except Exception:  # tidying files never undoes a submission
        log.exception("could not purge files of application %s", app.pk)
    return redirect("procedures:apply_done", app.pk)


@resident_required
def apply_done(request: HttpRequest, pk: int) -> HttpResponse:
    """The receipt: reference number, what happens next, due date, fee, the PDF copy."""
    app = _own(request, pk)
    if app.status == Status.DRAFT:
        return redirect("procedures:apply_check", app.pk)
    fee_url = hooks.fee_url(app) if app.fee_yen and app.fee_status == "due" else None
    return render(
        request,
        "procedures/apply/done.html",
        {
            "application": app,
            "procedure_title": _title(app),
            "department": app.procedure.department,
            "fee_yen": _fee_text(app.fee_yen) if app.fee_yen else "",
            "fee_url": fee_url,
            "mailed": app.applicant.has_real_email,
        },
    )


@resident_required
def apply_discard(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a draft (asks first); a broken draft can always be thrown away."""
    app = _own_online_draft(request, pk)
    if app.status != Status.DRAFT:
        return redirect("procedures:application", app.pk)
    if request.method == "POST":
        with transaction.atomic():
            attachments.delete_all(app)
            applications.discard(app, actor=request.user, request=request)  # type: ignore[arg-type]
        messages.success(request, _("The unfinished application was deleted."))
        return redirect("procedures:applications")
    return render(
        request,
        "procedures/apply/discard.html",
        {"application": app, "procedure_title": _title(app)},
    )


# --- my applications ------------------------------------------------------------------------


@dataclass
class Listed:
    application: Application
    title: str
    url: str
    status: str


@resident_required
def application_list(request: HttpRequest) -> HttpResponse:
    lang = language()
    drafts: list[Listed] = []
    sent: list[Listed] = []
    for app in applications.for_resident(request.user):  # type: ignore[arg-type]
        title = app.procedure.text("title", lang)
        if app.status == Status.DRAFT:
            if app.via == Application.Via.ONLINE:
                drafts.append(Listed(app, title, next_url(app), app.get_status_display()))
            continue
        sent.append(
            Listed(
                app,
                title,
                reverse("procedures:application", args=[app.pk]),
                app.get_status_display(),
            )
        )
    return render(
        request,
        "procedures/apply/list.html",
        {"drafts": drafts, "sent": sent, "draft_days": settings.DRAFT_DAYS},
    )


class ReplyForm(AccessibleFormMixin, forms.Form):
    message = forms.CharField(
        label=gettext_lazy("Your message"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


@resident_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Status history, messages from the clerk, a reply form, files, withdraw, the PDF."""
    app = _own(request, pk)
    if app.status == Status.DRAFT:
        if app.via != Application.Via.ONLINE:
            raise Http404("a draft made at the counter")
        return redirect(next_url(app))
    form = ReplyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                applications.reply(
                    app,
                    form.cleaned_data["message"],
                    actor=request.user,  # type: ignore[arg-type]
                    request=request,
                )
            except ApplicationError as exc:
                form.add_error("message", exc.message)
            else:
                messages.success(request, _("Your message was sent."))
                return redirect("procedures:application", app.pk)
        status = 422
    lang = language()
    try:
        rows = applications.summary(app, lang, words())
    except Exception:
        log.exception("summary of application %s failed", app.pk)
        rows = []
    events = list(applications.resident_events(app))
    return render(
        request,
        "procedures/apply/detail.html",
        {
            "application": app,
            "procedure_title": app.procedure.text("title", lang),
            "department": app.procedure.department,
            "events": events,
            "status_labels": dict(Status.choices),
            "kinds": ApplicationEvent.Kind,
            "rows": rows,
            "files": attachments.for_application(app),
            "form": form,
            "can_reply": app.status not in (Status.WITHDRAWN,),
            "can_withdraw": app.status in RESIDENT_WITHDRAWABLE,
            "fee_yen": _fee_text(app.fee_yen) if app.fee_yen else "",
            "fee_url": hooks.fee_url(app) if app.fee_yen and app.fee_status == "due" else None,
        },
        status=status,
    )


@resident_required
def application_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdraw a submitted application, after a confirmation."""
    app = _own(request, pk)
    if app.status == Status.DRAFT:
        return redirect("procedures:apply_discard", app.pk)
    error = ""
    if request.method == "POST":
        try:
            applications.withdraw(app, actor=request.user, request=request)  # type: ignore[arg-type]
        except ApplicationError as exc:
            error = exc.message
        else:
            messages.success(request, _("Your application was withdrawn."))
            return redirect("procedures:application", app.pk)
    elif app.status not in RESIDENT_WITHDRAWABLE:
        error = _("This application can no longer be withdrawn.")
    return render(
        request,
        "procedures/apply/withdraw.html",
        {"application": app, "procedure_title": _title(app), "error": error},
        status=409 if error else 200,
    )


@resident_required
def application_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The copy (控え) of a submitted application, in Japanese."""
    app = _own(request, pk)
    if app.status == Status.DRAFT:
        raise Http404("a draft has no copy yet")
    data = receipt_pdf.render(app)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{app.reference or app.pk}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@resident_required
def application_file(request: HttpRequest, pk: int, file_pk: int) -> FileResponse:
    """A file the resident gave with their application (never served by a public URL)."""
    app = _own(request, pk)
    attachment = get_object_or_404(Attachment, pk=file_pk, application=app)
    handle = attachments.open_for(request.user, attachment, request=request)
    extension = {
        attachments.JPEG: "jpg",
        attachments.PNG: "png",
        attachments.PDF: "pdf",
        attachments.HEIC: "heic",
    }.get(attachment.content_type, "bin")
    response = FileResponse(
        handle,
        content_type=attachment.content_type,
        as_attachment=attachment.content_type not in INLINE_TYPES,
        filename=f"file-{attachment.pk}.{extension}",
    )
    response["Cache-Control"] = "private, no-store"
    return response
