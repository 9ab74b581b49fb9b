"""The FAQ (よくある質問) in the staff console, under /staff/faq/.

Thin views over :mod:`cityhall.inquiries.services.faq`: the list (search or filters,
paging), a new entry, an entry's settings with its Japanese text, one language version
(save, delete) and the CSV upload. Any working member of staff may open the FAQ
(``permissions.can_edit_faq``); an entry is changed only by those who may edit it
(``permissions.can_edit_faq_entry``: admins, its department, or anyone when it has none).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cityhall.core import i18n
from cityhall.inquiries import permissions
from cityhall.inquiries.forms_faq import EntryForm, ImportForm, StaffFilterForm, TextForm
from cityhall.inquiries.models import FaqEntry, FaqImport, FaqText
from cityhall.inquiries.services import faq as service
from cityhall.inquiries.services import search
from cityhall.people.staff_views import sections

SECTION = "inqstaff:faq"
PER_PAGE = 50


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    context.setdefault("staff_sections", sections(request.user))
    context.setdefault("staff_section", SECTION)
    return render(request, f"inquiries/staff/faq/{template}", context, status=status)


def _check(request: HttpRequest) -> None:
    if not permissions.can_edit_faq(request.user):
        raise PermissionDenied


def _entry(request: HttpRequest, pk: int) -> FaqEntry:
    _check(request)
    entry = get_object_or_404(
        FaqEntry.objects.select_related("department").prefetch_related("texts"), pk=pk
    )
    if not permissions.can_edit_faq_entry(request.user, entry):
        raise PermissionDenied
    return entry


def _search_keys(query: str) -> list[str]:
    """Keys found by the FAQ search, then by a plain text match (drafts are not indexed)."""
    keys = [hit.key for hit in search.search(query, service.ORIGINAL, limit=PER_PAGE)]
    plain = (
        FaqEntry.objects.filter(
            Q(key__icontains=query)
            | Q(texts__question__icontains=query)
            | Q(texts__keywords__icontains=query)
        )
        .values_list("key", flat=True)
        .distinct()
    )
    for key in plain[: PER_PAGE * 4]:
        if key not in keys:
            keys.append(key)
    return keys


def _filtered(form: StaffFilterForm) -> tuple[QuerySet[FaqEntry] | list[FaqEntry], bool]:
    entries = FaqEntry.objects.select_related("department").prefetch_related("texts")
    if not form.is_valid():
        return entries.order_by("key"), False
    data = form.cleaned_data
    query = (data.get("q") or "").strip()
    if query:
        keys = _search_keys(query)
        found = {e.key: e for e in entries.filter(key__in=keys)}
        return [found[k] for k in keys if k in found], True
    filtered = False
    if data.get("category"):
        entries = entries.filter(category=data["category"])
        filtered = True
    if data.get("department"):
        entries = entries.filter(department=data["department"])
        filtered = True
    if data.get("missing"):
        entries = entries.exclude(texts__language=data["missing"])
        filtered = True
    if data.get("due"):
        entries = entries.filter(review_on__lte=timezone.localdate())
        filtered = True
    return entries.order_by("key"), filtered


@require_GET
def entry_list(request: HttpRequest) -> HttpResponse:
    _check(request)
    form = StaffFilterForm(request.GET or None)
    entries, filtered = _filtered(form)
    raw = request.GET.get("page", "1")
    page = Paginator(entries, PER_PAGE).get_page(int(raw) if raw.isdigit() and len(raw) < 7 else 1)
    today = timezone.localdate()
    rows = []
    for entry in page.object_list:
        original = service.text_for(entry, service.ORIGINAL)
        rows.append(
            {
                "entry": entry,
                "question": original.question if original else entry.key,
                "languages": sorted(t.language for t in entry.texts.all()),
                "missing": len(service.missing_languages(entry)),
                "due": bool(entry.review_on and entry.review_on <= today),
                "editable": permissions.can_edit_faq_entry(request.user, entry),
            }
        )
    return _render(
        request,
        "list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "filtered": filtered,
            "last_import": FaqImport.objects.first(),
        },
        status=422 if form.is_bound and form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def entry_new(request: HttpRequest) -> HttpResponse:
    _check(request)
    form = EntryForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            entry = service.create_entry(
                key=data["key"],
                question=data["question"],
                answer=data["answer"],
                keywords=data.get("keywords", ""),
                category=data["category"],
                department=data.get("department"),
                procedures=data["procedures"],
                url=data.get("url", ""),
                review_on=data.get("review_on"),
                published=bool(data.get("published")),
                actor=request.user,
                request=request,
            )
        except service.FaqError as exc:
            form.add_error("key", str(exc))
        else:
            messages.success(request, _("The FAQ entry is saved."))
            return redirect("inqstaff:faq_entry", pk=entry.pk)
    return _render(
        request,
        "entry_form.html",
        {"form": form, "entry": None},
        status=422 if form.errors else 200,
    )


def _coverage(entry: FaqEntry) -> list[dict[str, Any]]:
    have = {t.language for t in entry.texts.all()}
    return [
        {"code": code, "name": name, "lang": i18n.html_lang(code), "present": code in have}
        for code, name in settings.LANGUAGES
        if code != service.ORIGINAL
    ]


@require_http_methods(["GET", "POST"])
def entry_edit(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _entry(request, pk)
    original = service.text_for(entry, service.ORIGINAL)
    form = EntryForm(
        request.POST or None,
        user=request.user,
        entry=entry,
        initial=EntryForm.initial_for(entry, original),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        service.update_entry(
            entry,
            question=data["question"],
            answer=data["answer"],
            keywords=data.get("keywords", ""),
            category=data["category"],
            department=data.get("department"),
            procedures=data["procedures"],
            url=data.get("url", ""),
            review_on=data.get("review_on"),
            published=bool(data.get("published")),
            actor=request.user,
            request=request,
        )
        messages.success(request, _("The FAQ entry is saved."))
        return redirect("inqstaff:faq_entry", pk=entry.pk)
    return _render(
        request,
        "entry_form.html",
        {"form": form, "entry": entry, "coverage": _coverage(entry)},
        status=422 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def text_edit(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    entry = _entry(request, pk)
    if language == service.ORIGINAL:
        return redirect("inqstaff:faq_entry", pk=entry.pk)
    if language not in i18n.codes():
        raise Http404("unknown language")
    text = FaqText.objects.filter(entry=entry, language=language).first()
    original = service.text_for(entry, service.ORIGINAL)
    initial = (
        {"question": text.question, "answer": text.answer, "keywords": text.keywords}
        if text
        else {}
    )
    if request.method == "POST" and request.POST.get("action") == "delete":
        if service.delete_text(entry, language, actor=request.user, request=request):
            messages.success(request, _("The translation is deleted."))
        return redirect("inqstaff:faq_entry", pk=entry.pk)
    form = TextForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        service.save_text(
            entry,
            language,
            data["question"],
            data["answer"],
            data.get("keywords", ""),
            actor=request.user,
            request=request,
        )
        messages.success(request, _("The translation is saved."))
        return redirect("inqstaff:faq_text", pk=entry.pk, language=language)
    return _render(
        request,
        "text_form.html",
        {
            "form": form,
            "entry": entry,
            "text": text,
            "original": original,
            "language": language,
            "language_name": dict(settings.LANGUAGES)[language],
            "language_tag": i18n.html_lang(language),
        },
        status=422 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def import_csv(request: HttpRequest) -> HttpResponse:
    _check(request)
    form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
    report = None
    row_errors: list[service.RowError] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = service.import_csv(
                upload.read(), upload.name or "faq.csv", actor=request.user, request=request
            )
        except service.FaqImportError as exc:
            row_errors = exc.errors
            form.add_error(
                "file",
                _("The file has problems (listed below): nothing was imported."),
            )
    return _render(
        request,
        "import.html",
        {
            "form": form,
            "report": report,
            "row_errors": row_errors,
            "imports": FaqImport.objects.select_related("imported_by")[:10],
        },
        status=422 if form.errors else 200,
    )
