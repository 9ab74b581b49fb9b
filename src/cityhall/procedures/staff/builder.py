"""The form builder in the staff console (/staff/forms/): build a procedure's form without code.

Thin views over :mod:`cityhall.procedures.services.builder`, which makes every
change in a transaction, audited, and refuses a change made from a stale page.
Every action is an ordinary POST form, so the builder works without JavaScript.
A clerk builds the forms of the departments they work for (administrators: all).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cityhall.core.i18n import html_lang
from cityhall.people.models import User
from cityhall.people.staff_views import sections
from cityhall.procedures import permissions
from cityhall.procedures.formspec.schema import FieldType, SpecError, parse
from cityhall.procedures.formspec.text import LANGUAGES, missing, pick
from cityhall.procedures.models import Procedure
from cityhall.procedures.services import builder, prefill
from cityhall.procedures.services.builder import BuilderError, StaleDraft
from cityhall.procedures.staff.builder_forms import (
    ConfirmForm,
    FieldForm,
    ImportForm,
    MoveForm,
    PublishForm,
    StepForm,
    TitleForm,
    TypeForm,
    language_names,
    text_fields,
    type_name,
)

SECTION = "procstaff:forms"


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    context.setdefault("staff_sections", sections(request.user))
    context.setdefault("staff_section", SECTION)
    return render(request, f"procedures/staff/builder/{template}", context, status=status)


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _language() -> str:
    return get_language() or "ja"


def _procedure(request: HttpRequest, slug: str) -> Procedure:
    procedure = get_object_or_404(Procedure.objects.select_related("department"), slug=slug)
    if not permissions.can_edit_form(request.user, procedure):
        raise PermissionDenied
    return procedure


def _stamp(procedure: Procedure) -> str:
    return builder.stamp_of(builder.definition_of(procedure))


def _editor_url(procedure: Procedure, anchor: str = "") -> str:
    url = reverse("procstaff:form_edit", args=[procedure.slug])
    return f"{url}#{anchor}" if anchor else url


def _status(form: forms.Form) -> int:
    return 422 if form.is_bound and form.errors else 200


def _refresh_stamp(form: forms.Form, stamp: str) -> None:
    """After a refused stale change, the page shows the clerk's input again with the current
    stamp, so saving once more (after checking) applies it."""
    data = form.data.copy() if isinstance(form.data, QueryDict) else dict(form.data)
    data["stamp"] = stamp
    form.data = data


def _apply(
    request: HttpRequest,
    procedure: Procedure,
    form: forms.Form,
    change: Callable[[builder.Draft], Any],
    *,
    action: str,
    details: dict[str, Any] | None = None,
) -> tuple[bool, Any, int]:
    """Run one change from a form; on refusal the form carries the message.

    Returns (saved, what the change returned, status for the page).
    """
    try:
        _definition, result = builder.edit(
            _actor(request),
            procedure,
            form.cleaned_data.get("stamp") or "",
            change,
            action=action,
            details=details,
            request=request,
        )
    except StaleDraft as exc:
        form.add_error(None, exc.message)
        _refresh_stamp(form, _stamp(procedure))
        return False, None, 409
    except BuilderError as exc:
        form.add_error(None, exc.message)
        return False, None, 422
    return True, result, 200


def _apply_button(
    request: HttpRequest,
    procedure: Procedure,
    change: Callable[[builder.Draft], Any],
    *,
    action: str,
    details: dict[str, Any] | None = None,
) -> tuple[bool, Any]:
    """A small action from the outline (move, delete): refusals come back as a message."""
    form = ConfirmForm(request.POST)
    form.is_valid()
    try:
        _definition, result = builder.edit(
            _actor(request),
            procedure,
            form.cleaned_data.get("stamp") or "",
            change,
            action=action,
            details=details,
            request=request,
        )
    except BuilderError as exc:  # StaleDraft too: nothing changed, the page shows it as it is
        messages.error(request, exc.message)
        return False, None
    return True, result


# --- the list and the outline --------------------------------------------------------------


@require_GET
def forms_list(request: HttpRequest) -> HttpResponse:
    if not permissions.can_use_cases(request.user):
        raise PermissionDenied
    rows = builder.form_rows(_actor(request))
    return _render(request, "list.html", {"rows": rows})


def _field_row(
    f: dict[str, Any], language: str, by_key: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    condition = f.get("condition") if isinstance(f.get("condition"), dict) else None
    condition_text = ""
    if condition:
        target = by_key.get(str(condition.get("field")))
        target_label = pick((target or {}).get("label") or {}, language) or condition.get("field")
        if "equals" in condition:
            value = condition["equals"]
            if isinstance(value, bool):
                value = _("yes") if value else _("no")
            condition_text = _("only if “%(question)s” is %(value)s") % {
                "question": target_label,
                "value": value,
            }
        elif "in" in condition:
            condition_text = _("only if “%(question)s” is one of %(values)s") % {
                "question": target_label,
                "values": ", ".join(str(v) for v in condition.get("in") or []),
            }
        else:
            condition_text = _("only if “%(question)s” is answered") % {"question": target_label}
    prefill_names = dict(prefill.sources())
    sources = f.get("prefill") or []
    if isinstance(sources, str):
        sources = [sources]
    return {
        "key": f.get("key"),
        "type": f.get("type"),
        "type_name": type_name(str(f.get("type"))),
        "label": pick(f.get("label") or {}, language) or _("(no label)"),
        "missing": _missing_languages(f.get("label")),
        "required": bool(f.get("required", f.get("type") not in (FieldType.INFO,))),
        "condition": condition_text,
        "prefill": [prefill_names.get(s, s) for s in sources],
        "counter_only": bool(f.get("counter_only")),
        "choices": len(f.get("choices") or []),
        "is_group": f.get("type") == FieldType.GROUP,
        "sub": [],
    }


def _missing_languages(texts: Any) -> list[dict[str, str]]:
    """The languages a text lacks, each named in itself (with its lang tag)."""
    if isinstance(texts, str):
        texts = {"ja": texts}
    names = language_names()
    return [
        {"name": names.get(code, code), "lang": html_lang(code)}
        for code in missing(texts if isinstance(texts, dict) else {})
    ]


def _outline(draft: builder.Draft, language: str) -> list[dict[str, Any]]:
    by_key = {str(f.get("key")): f for _s, f in builder.iter_fields(draft)}
    steps = []
    for step in builder.steps_of(draft):
        if not isinstance(step, dict):
            continue
        rows = []
        for f in step.get("fields") or []:
            if not isinstance(f, dict):
                continue
            row = _field_row(f, language, by_key)
            if row["is_group"]:
                local = dict(by_key)
                local.update({str(s.get("key")): s for s in f.get("fields") or []})
                row["sub"] = [_field_row(s, language, local) for s in f.get("fields") or []]
            rows.append(row)
        steps.append(
            {
                "key": step.get("key"),
                "title": pick(step.get("title") or {}, language) or _("(no title)"),
                "missing": _missing_languages(step.get("title")),
                "fields": rows,
            }
        )
    return steps


def _problems(draft: Any, language: str) -> list[dict[str, str]]:
    return [
        {
            "place": builder.problem_place(draft, p.path, language),
            "path": p.path,
            "message": builder.problem_message(p),
        }
        for p in builder.check(draft)
    ]


@require_GET
def form_edit(request: HttpRequest, slug: str) -> HttpResponse:
    procedure = _procedure(request, slug)
    definition = builder.definition_of(procedure)
    draft = builder.draft_of(procedure)
    language = _language()
    latest = builder.latest_version(definition)
    return _render(
        request,
        "edit.html",
        {
            "procedure": procedure,
            "definition": definition,
            "stamp": builder.stamp_of(definition),
            "form_title": pick(draft.get("title") or {}, language),
            "title_missing": _missing_languages(draft.get("title")),
            "steps": _outline(draft, language),
            "problems": _problems(draft, language),
            "latest": latest,
            "unpublished": builder.has_unpublished_changes(definition),
        },
    )


@require_http_methods(["GET", "POST"])
def form_title(request: HttpRequest, slug: str) -> HttpResponse:
    procedure = _procedure(request, slug)
    draft = builder.draft_of(procedure)
    status = 200
    if request.method == "POST":
        form = TitleForm(request.POST)
        if form.is_valid():
            title = form.title()
            saved, _result, status = _apply(
                request,
                procedure,
                form,
                lambda d: builder.set_title(d, title),
                action="title",
            )
            if saved:
                messages.success(request, _("The title is saved."))
                return redirect(_editor_url(procedure))
        else:
            status = 422
    else:
        form = TitleForm(
            initial={
                "stamp": _stamp(procedure),
                **{
                    f"title_{code.replace('-', '_')}": (draft.get("title") or {}).get(code, "")
                    for code in LANGUAGES
                },
            }
        )
    return _render(
        request,
        "title.html",
        {"procedure": procedure, "form": form, "titles": text_fields(form, "title")},
        status=status,
    )


# --- steps ---------------------------------------------------------------------------------


def _step_page(request: HttpRequest, procedure: Procedure, step_key: str | None) -> HttpResponse:
    draft = builder.draft_of(procedure)
    step: dict[str, Any] | None = None
    if step_key is not None:
        try:
            _index, step = builder.find_step(draft, step_key)
        except BuilderError as exc:
            raise Http404 from exc
    status = 200
    if request.method == "POST":
        form = StepForm(request.POST)
        if form.is_valid():
            from cityhall.procedures.staff.builder_forms import texts_from

            title = texts_from(form.cleaned_data, "title")
            intro = texts_from(form.cleaned_data, "intro")
            key = form.cleaned_data["key"]
            if step_key is None:
                saved, new_key, status = _apply(
                    request,
                    procedure,
                    form,
                    lambda d: builder.add_step(d, title, key, intro or None),
                    action="step.add",
                )
            else:
                saved, new_key, status = _apply(
                    request,
                    procedure,
                    form,
                    lambda d: builder.update_step(d, step_key, title=title, key=key, intro=intro),
                    action="step.edit",
                    details={"step": step_key},
                )
            if saved:
                messages.success(request, _("The step is saved."))
                return redirect(_editor_url(procedure, f"step-{new_key}"))
        else:
            status = 422
    else:
        initial = StepForm.initial_from(step) if step else {}
        form = StepForm(initial={"stamp": _stamp(procedure), **initial})
    return _render(
        request,
        "step.html",
        {
            "procedure": procedure,
            "form": form,
            "step": step,
            "titles": text_fields(form, "title"),
            "intros": text_fields(form, "intro"),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def step_add(request: HttpRequest, slug: str) -> HttpResponse:
    return _step_page(request, _procedure(request, slug), None)


@require_http_methods(["GET", "POST"])
def step_edit(request: HttpRequest, slug: str, step: str) -> HttpResponse:
    return _step_page(request, _procedure(request, slug), step)


@require_POST
def step_move(request: HttpRequest, slug: str, step: str) -> HttpResponse:
    procedure = _procedure(request, slug)
    move = MoveForm(request.POST)
    delta = -1 if move.is_valid() and move.cleaned_data["direction"] == "up" else 1
    saved, _result = _apply_button(
        request,
        procedure,
        lambda d: builder.move_step(d, step, delta),
        action="step.move",
        details={"step": step, "delta": delta},
    )
    if saved:
        messages.success(request, _("The step is moved."))
    return redirect(_editor_url(procedure, f"step-{step}"))


@require_http_methods(["GET", "POST"])
def step_delete(request: HttpRequest, slug: str, step: str) -> HttpResponse:
    procedure = _procedure(request, slug)
    draft = builder.draft_of(procedure)
    try:
        _index, found = builder.find_step(draft, step)
    except BuilderError as exc:
        raise Http404 from exc
    if request.method == "POST":
        saved, _result = _apply_button(
            request,
            procedure,
            lambda d: builder.delete_step(d, step),
            action="step.delete",
            details={"step": step},
        )
        if saved:
            messages.success(request, _("The step is deleted."))
        return redirect(_editor_url(procedure))
    return _render(
        request,
        "confirm_delete.html",
        {
            "procedure": procedure,
            "stamp": _stamp(procedure),
            "what": pick(found.get("title") or {}, _language()),
            "is_step": True,
            "count": len(found.get("fields") or []),
        },
    )


# --- questions -----------------------------------------------------------------------------


def _group_url_args(procedure: Procedure, step: str, group: str | None) -> list[str]:
    return [procedure.slug, step, *([group] if group else [])]


def _field_url(procedure: Procedure, step: str, key: str, group: str | None) -> str:
    if group:
        return reverse("procstaff:subfield_edit", args=[procedure.slug, step, group, key])
    return reverse("procstaff:field_edit", args=[procedure.slug, step, key])


def _back_url(procedure: Procedure, step: str, key: str, group: str | None) -> str:
    if group:
        return reverse("procstaff:field_edit", args=[procedure.slug, step, group])
    return _editor_url(procedure, f"field-{key}")


def _field_add(
    request: HttpRequest, slug: str, step: str, group: str | None = None
) -> HttpResponse:
    procedure = _procedure(request, slug)
    draft = builder.draft_of(procedure)
    try:
        builder.field_list(draft, step, group)
        _index, step_dict = builder.find_step(draft, step)
    except BuilderError as exc:
        raise Http404 from exc
    language = _language()
    chosen = request.GET.get("type", "")
    library = builder.library_choices(language, in_group=group is not None)
    context: dict[str, Any] = {
        "procedure": procedure,
        "step": step_dict,
        "step_title": pick(step_dict.get("title") or {}, language),
        "group": group,
        "group_label": _group_label(draft, step, group, language),
        "back": _back_url(procedure, step, "", group)
        if group
        else _editor_url(procedure, f"step-{step}"),
    }
    if request.method == "POST" and "library" in request.POST:
        type_form = TypeForm(request.POST, library=library, in_group=group is not None)
        stamp = request.POST.get("stamp", "")
        if type_form.is_valid() and type_form.cleaned_data.get("library"):
            item = builder.library_field(type_form.cleaned_data["library"])
            if item is None:
                raise Http404
            try:
                _definition, key = builder.edit(
                    _actor(request),
                    procedure,
                    stamp,
                    lambda d: builder.add_field(d, step, item, group),
                    action="field.add",
                    details={
                        "step": step,
                        "group": group,
                        "library": type_form.cleaned_data["library"],
                    },
                    request=request,
                )
            except BuilderError as exc:
                type_form.add_error(None, exc.message)
                status = 409 if isinstance(exc, StaleDraft) else 422
            else:
                messages.success(request, _("The question is added. Check its texts and settings."))
                return redirect(_field_url(procedure, step, key, group))
        else:
            status = 422
        return _render(
            request,
            "field_type.html",
            {**context, "form": type_form, "stamp": _stamp(procedure)},
            status=status,
        )
    valid_types = {str(t) for t in FieldType if not (group and t == FieldType.GROUP)}
    if chosen not in valid_types:
        type_form = TypeForm(
            request.GET if "choose" in request.GET else None,
            library=library,
            in_group=group is not None,
        )
        if type_form.is_bound:
            type_form.is_valid()
        return _render(
            request,
            "field_type.html",
            {**context, "form": type_form, "stamp": _stamp(procedure)},
            status=_status(type_form),
        )
    earlier = builder.earlier_fields(draft, step, None, group)
    status = 200
    if request.method == "POST":
        form = FieldForm(request.POST, field_type=chosen, earlier=earlier, language=language)
        if form.is_valid():
            new = form.to_field()
            typed_key = bool(new["key"])
            if not new["key"]:
                taken = (
                    {str(f.get("key")) for f in builder.field_list(draft, step, group)}
                    if group
                    else builder.top_keys(draft)
                )
                new["key"] = builder.suggest_key(new["label"].get("en", ""), taken, fallback=chosen)
            saved, key, status = _apply(
                request,
                procedure,
                form,
                lambda d: builder.add_field(d, step, new, group, keep_key=typed_key),
                action="field.add",
                details={"step": step, "group": group, "type": chosen},
            )
            if saved:
                messages.success(request, _("The question is added."))
                if chosen == FieldType.GROUP:
                    return redirect(_field_url(procedure, step, key, group))
                return redirect(_back_url(procedure, step, key, group))
        else:
            status = 422
    else:
        form = FieldForm(
            initial={"stamp": _stamp(procedure), "required": chosen != FieldType.INFO},
            field_type=chosen,
            earlier=earlier,
            language=language,
        )
    return _render(
        request,
        "field.html",
        {
            **context,
            "form": form,
            "field": None,
            "type_name": type_name(chosen),
            "action": f"?type={chosen}",
        },
        status=status,
    )


def _group_label(draft: builder.Draft, step: str, group: str | None, language: str) -> str:
    if not group:
        return ""
    try:
        _index, g = builder.find_field(draft, step, group)
    except BuilderError:
        return group
    return pick(g.get("label") or {}, language) or group


def _field_edit(
    request: HttpRequest, slug: str, step: str, key: str, group: str | None = None
) -> HttpResponse:
    procedure = _procedure(request, slug)
    draft = builder.draft_of(procedure)
    language = _language()
    try:
        _index, current = builder.find_field(draft, step, key, group)
        _sindex, step_dict = builder.find_step(draft, step)
    except BuilderError as exc:
        raise Http404 from exc
    field_type = str(current.get("type"))
    try:
        FieldType(field_type)
    except ValueError as exc:
        raise Http404 from exc
    earlier = builder.earlier_fields(draft, step, key, group)
    status = 200
    if request.method == "POST":
        form = FieldForm(
            request.POST,
            initial=FieldForm.initial_from(current),
            field_type=field_type,
            earlier=earlier,
            language=language,
        )
        if form.is_valid():
            new = form.to_field(current)
            if not new["key"]:
                new["key"] = key
            saved, new_key, status = _apply(
                request,
                procedure,
                form,
                lambda d: builder.update_field(d, step, key, new, group),
                action="field.edit",
                details={"step": step, "group": group, "field": key},
            )
            if saved:
                messages.success(request, _("The question is saved."))
                if field_type == FieldType.GROUP:
                    return redirect(_field_url(procedure, step, new_key, group))
                return redirect(_back_url(procedure, step, new_key, group))
        else:
            status = 422
    else:
        form = FieldForm(
            initial={"stamp": _stamp(procedure), **FieldForm.initial_from(current)},
            field_type=field_type,
            earlier=earlier,
            language=language,
        )
    sub: list[dict[str, Any]] = []
    if field_type == FieldType.GROUP and group is None:
        by_key = {str(f.get("key")): f for _s, f in builder.iter_fields(draft)}
        by_key.update({str(s.get("key")): s for s in current.get("fields") or []})
        sub = [_field_row(s, language, by_key) for s in current.get("fields") or []]
    return _render(
        request,
        "field.html",
        {
            "procedure": procedure,
            "step": step_dict,
            "step_title": pick(step_dict.get("title") or {}, language),
            "group": group,
            "group_label": _group_label(draft, step, group, language),
            "form": form,
            "field": current,
            "field_label": pick(current.get("label") or {}, language),
            "type_name": type_name(field_type),
            "sub": sub,
            "stamp": _stamp(procedure),
            "back": _back_url(procedure, step, key, group),
            "action": "",
        },
        status=status,
    )


def _field_move(
    request: HttpRequest, slug: str, step: str, key: str, group: str | None = None
) -> HttpResponse:
    procedure = _procedure(request, slug)
    move = MoveForm(request.POST)
    delta = -1 if move.is_valid() and move.cleaned_data["direction"] == "up" else 1
    _apply_button(
        request,
        procedure,
        lambda d: builder.move_field(d, step, key, delta, group),
        action="field.move",
        details={"step": step, "group": group, "field": key, "delta": delta},
    )
    return redirect(_back_url(procedure, step, key, group))


def _field_delete(
    request: HttpRequest, slug: str, step: str, key: str, group: str | None = None
) -> HttpResponse:
    procedure = _procedure(request, slug)
    draft = builder.draft_of(procedure)
    try:
        _index, current = builder.find_field(draft, step, key, group)
    except BuilderError as exc:
        raise Http404 from exc
    if request.method == "POST":
        saved, _result = _apply_button(
            request,
            procedure,
            lambda d: builder.delete_field(d, step, key, group),
            action="field.delete",
            details={"step": step, "group": group, "field": key},
        )
        if saved:
            messages.success(request, _("The question is deleted."))
            if group:
                return redirect(_back_url(procedure, step, key, group))
            return redirect(_editor_url(procedure, f"step-{step}"))
        return redirect(_back_url(procedure, step, key, group))
    return _render(
        request,
        "confirm_delete.html",
        {
            "procedure": procedure,
            "stamp": _stamp(procedure),
            "what": pick(current.get("label") or {}, _language()) or key,
            "is_step": False,
            "count": len(current.get("fields") or []),
            "back": _back_url(procedure, step, key, group),
        },
    )


@require_http_methods(["GET", "POST"])
def field_add(request: HttpRequest, slug: str, step: str) -> HttpResponse:
    return _field_add(request, slug, step)


@require_http_methods(["GET", "POST"])
def field_edit(request: HttpRequest, slug: str, step: str, key: str) -> HttpResponse:
    return _field_edit(request, slug, step, key)


@require_POST
def field_move(request: HttpRequest, slug: str, step: str, key: str) -> HttpResponse:
    return _field_move(request, slug, step, key)


@require_http_methods(["GET", "POST"])
def field_delete(request: HttpRequest, slug: str, step: str, key: str) -> HttpResponse:
    return _field_delete(request, slug, step, key)


@require_http_methods(["GET", "POST"])
def subfield_add(request: HttpRequest, slug: str, step: str, group: str) -> HttpResponse:
    return _field_add(request, slug, step, group)


@require_http_methods(["GET", "POST"])
def subfield_edit(request: HttpRequest, slug: str, step: str, group: str, key: str) -> HttpResponse:
    return _field_edit(request, slug, step, key, group)


@require_POST
def subfield_move(request: HttpRequest, slug: str, step: str, group: str, key: str) -> HttpResponse:
    return _field_move(request, slug, step, key, group)


@require_http_methods(["GET", "POST"])
def subfield_delete(
    request: HttpRequest, slug: str, step: str, group: str, key: str
) -> HttpResponse:
    return _field_delete(request, slug, step, key, group)


# --- preview -------------------------------------------------------------------------------


@require_GET
def preview(request: HttpRequest, slug: str, step: str | None = None) -> HttpResponse:
    """The draft as the resident sees it, step by step; nothing can be sent from here."""
    procedure = _procedure(request, slug)
    draft = builder.draft_of(procedure)
    codes = [code for code, _name in language_names().items()]
    language = request.GET.get("lang") or _language()
    if language not in codes:
        language = "ja"
    counter = request.GET.get("counter") == "1"
    try:
        spec = parse(draft)
    except SpecError:
        return _render(
            request,
            "preview.html",
            {
                "procedure": procedure,
                "problems": _problems(draft, _language()),
                "spec": None,
                "languages": language_names().items(),
                "language": language,
            },
        )
    if step is None:
        step = spec.steps[0].key
    try:
        index = spec.step_index(step)
    except StopIteration as exc:
        raise Http404 from exc
    from cityhall.procedures import dynforms

    current = spec.steps[index]
    form = dynforms.build_step_form(spec, current, language=language, answers={}, counter=counter)
    query = f"?lang={language}" + ("&counter=1" if counter else "")

    def step_url(key: str) -> str:
        return reverse("procstaff:form_preview_step", args=[procedure.slug, key]) + query

    with translation.override(language):
        preview_html = render_to_string(
            "procedures/staff/builder/_preview_step.html",
            {
                "form": form,
                "step_title": pick(current.title, language),
                "step_intro": pick(current.intro, language),
                "form_title": pick(spec.title, language),
                "number": index + 1,
                "total": len(spec.steps),
                "preview_html_lang": html_lang(language),
            },
            request=request,
        )
    return _render(
        request,
        "preview.html",
        {
            "procedure": procedure,
            "spec": spec,
            "preview_html": preview_html,
            "previous": step_url(spec.steps[index - 1].key) if index > 0 else "",
            "next": step_url(spec.steps[index + 1].key) if index + 1 < len(spec.steps) else "",
            "steps": [
                {"title": pick(s.title, language), "url": step_url(s.key), "current": i == index}
                for i, s in enumerate(spec.steps)
            ],
            "languages": language_names().items(),
            "language": language,
            "counter": counter,
        },
    )


# --- publish, versions, import and export --------------------------------------------------


@require_http_methods(["GET", "POST"])
def publish(request: HttpRequest, slug: str) -> HttpResponse:
    procedure = _procedure(request, slug)
    definition = builder.definition_of(procedure)
    draft = builder.draft_of(procedure)
    language = _language()
    status = 200
    if request.method == "POST":
        form = PublishForm(request.POST)
        if form.is_valid():
            try:
                version = builder.publish(
                    _actor(request),
                    procedure,
                    form.cleaned_data.get("stamp") or "",
                    note=form.cleaned_data.get("note", ""),
                    request=request,
                )
            except StaleDraft as exc:
                form.add_error(None, exc.message)
                _refresh_stamp(form, _stamp(procedure))
                status = 409
            except BuilderError as exc:
                form.add_error(None, exc.message)
                for problem in exc.problems:
                    place = builder.problem_place(draft, problem.path, language)
                    form.add_error(None, f"{place}: {builder.problem_message(problem)}")
                status = 422
            else:
                if version is None:
                    messages.info(
                        request,
                        _("The draft is the same as the published version: nothing to publish."),
                    )
                else:
                    messages.success(
                        request,
                        _("Version %(number)s is published. New applications use it.")
                        % {"number": version.number},
                    )
                return redirect("procstaff:form_versions", slug=procedure.slug)
        else:
            status = 422
    else:
        form = PublishForm(initial={"stamp": builder.stamp_of(definition)})
    latest = builder.latest_version(definition)
    return _render(
        request,
        "publish.html",
        {
            "procedure": procedure,
            "form": form,
            "problems": _problems(draft, language),
            "latest": latest,
            "unpublished": builder.has_unpublished_changes(definition),
            "has_draft": definition is not None,
        },
        status=status,
    )


@require_GET
def versions(request: HttpRequest, slug: str) -> HttpResponse:
    procedure = _procedure(request, slug)
    definition = builder.definition_of(procedure)
    rows = (
        list(definition.versions.select_related("published_by").order_by("-number"))
        if definition
        else []
    )
    return _render(
        request,
        "versions.html",
        {
            "procedure": procedure,
            "versions": rows,
            "stamp": builder.stamp_of(definition),
            "unpublished": builder.has_unpublished_changes(definition),
        },
    )


@require_GET
def version_detail(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    procedure = _procedure(request, slug)
    version = builder.version_of(procedure, number)
    if version is None:
        raise Http404
    return _render(
        request,
        "version.html",
        {
            "procedure": procedure,
            "version": version,
            "json": json.dumps(version.spec, ensure_ascii=False, indent=2),
            "stamp": _stamp(procedure),
        },
    )


@require_POST
def version_restore(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    procedure = _procedure(request, slug)
    if builder.version_of(procedure, number) is None:
        raise Http404
    form = ConfirmForm(request.POST)
    form.is_valid()
    try:
        builder.restore(
            _actor(request),
            procedure,
            form.cleaned_data.get("stamp") or "",
            number,
            request=request,
        )
    except BuilderError as exc:
        messages.error(request, exc.message)
        return redirect("procstaff:form_versions", slug=procedure.slug)
    messages.success(
        request,
        _("Version %(number)s is back in the draft. Publish it to make it the current form.")
        % {"number": number},
    )
    return redirect(_editor_url(procedure))


@require_GET
def export(request: HttpRequest, slug: str) -> HttpResponse:
    procedure = _procedure(request, slug)
    response = HttpResponse(
        builder.export_json(procedure), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="form-{procedure.slug}.json"'
    return response


@require_http_methods(["GET", "POST"])
def import_form(request: HttpRequest, slug: str) -> HttpResponse:
    procedure = _procedure(request, slug)
    status = 200
    problems: list[dict[str, str]] = []
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            content = upload.read(builder.MAX_IMPORT_BYTES + 1)
            try:
                builder.import_json(
                    _actor(request),
                    procedure,
                    form.cleaned_data.get("stamp") or "",
                    content,
                    request=request,
                )
            except StaleDraft as exc:
                form.add_error(None, exc.message)
                _refresh_stamp(form, _stamp(procedure))
                status = 409
            except BuilderError as exc:
                form.add_error(None, exc.message)
                try:
                    document = json.loads(content.decode("utf-8-sig"))
                except (ValueError, UnicodeDecodeError):
                    document = None
                for problem in exc.problems:
                    place = builder.problem_place(document, problem.path, _language())
                    form.add_error(None, f"{place}: {builder.problem_message(problem)}")
                status = 422
            else:
                messages.success(
                    request, _("The file is imported into the draft. Publish it when ready.")
                )
                return redirect(_editor_url(procedure))
        else:
            status = 422
    else:
        form = ImportForm(initial={"stamp": _stamp(procedure)})
    return _render(
        request,
        "import.html",
        {"procedure": procedure, "form": form, "problems": problems},
        status=status,
    )
