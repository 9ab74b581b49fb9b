"""Articles (お知らせ) in the staff console, under /staff/notices/.

Thin views over :mod:`cityhall.notices.services.articles`: the list with each article's
status and language coverage, a new article, an article's settings with its Japanese
text, one language version (save; approve), publish and withdraw (POST), and the files.

Any working member of staff may draft (``permissions.can_write_articles``) — for their
own department unless they may publish; publishing, withdrawing, approving translations
and changing a published article need ``permissions.can_publish``.
``StaffMFAMiddleware`` keeps the pages behind a TOTP-verified staff session.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cityhall.core import i18n
from cityhall.notices import permissions
from cityhall.notices.models import Article, ArticleAttachment, ArticleVersion
from cityhall.notices.services import articles as service
from cityhall.notices.staff.article_forms import (
    ArticleForm,
    AttachmentForm,
    StatusFilterForm,
    VersionForm,
)
from cityhall.people.models import StaffAssignment
from cityhall.people.staff_views import sections

SECTION = "noticestaff:articles"
PER_PAGE = 50


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    context.setdefault("staff_sections", sections(request.user))
    context.setdefault("staff_section", SECTION)
    context.setdefault("can_publish", permissions.can_publish(request.user))
    return render(request, f"notices/staff/{template}", context, status=status)


def _check(request: HttpRequest) -> None:
    if not permissions.can_write_articles(request.user):
        raise PermissionDenied


def _check_publish(request: HttpRequest) -> None:
    if not permissions.can_publish(request.user):
        raise PermissionDenied


def _own_departments(request: HttpRequest) -> set[int]:
    return set(
        StaffAssignment.objects.filter(user_id=request.user.pk or 0).values_list(
            "department_id", flat=True
        )
    )


def _article(request: HttpRequest, pk: int) -> Article:
    """The article, if this member of staff may work on it (else 404)."""
    _check(request)
    article = get_object_or_404(
        Article.objects.select_related("department").prefetch_related("versions", "districts"),
        pk=pk,
    )
    if permissions.can_publish(request.user):
        return article
    if article.created_by_id == request.user.pk or (
        article.department_id and article.department_id in _own_departments(request)
    ):
        return article
    raise Http404("not an article of this member of staff")


def _may_change(request: HttpRequest, article: Article) -> bool:
    return article.status != Article.Status.PUBLISHED or permissions.can_publish(request.user)


def _apply_errors(form: Any, exc: service.ArticleError) -> None:
    for field, problems in exc.errors.items():
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)


# --- list -----------------------------------------------------------------------------------


@require_GET
def article_list(request: HttpRequest) -> HttpResponse:
    _check(request)
    form = StatusFilterForm(request.GET or None)
    qs = (
        Article.objects.select_related("department")
        .prefetch_related("versions", "districts")
        .order_by("-created_at", "-id")
    )
    if not permissions.can_publish(request.user):
        from django.db.models import Q

        qs = qs.filter(Q(created_by=request.user) | Q(department_id__in=_own_departments(request)))
    if form.is_valid() and form.cleaned_data.get("status"):
        qs = qs.filter(status=form.cleaned_data["status"])
    raw = request.GET.get("page", "1")
    page = Paginator(qs, PER_PAGE).get_page(int(raw) if raw.isdigit() and len(raw) < 7 else 1)
    rows = []
    for article in page.object_list:
        original = next((v for v in article.versions.all() if v.language == "ja"), None)
        rows.append(
            {
                "article": article,
                "title": original.title if original else article.slug,
                "coverage": service.coverage(article),
            }
        )
    return _render(
        request,
        "article_list.html",
        {"form": form, "page": page, "rows": rows, "languages": settings.LANGUAGES},
    )


# --- one article ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def article_new(request: HttpRequest) -> HttpResponse:
    _check(request)
    form = ArticleForm(
        request.POST or None,
        user=request.user,
        all_departments=permissions.can_publish(request.user),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            article = service.create_article(
                **form.settings(),
                title=data["title"],
                summary=data.get("summary", ""),
                body_html=data["body_html"],
                actor=request.user,
                request=request,
            )
        except service.ArticleError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The article is saved as a draft."))
            return redirect("noticestaff:article", pk=article.pk)
    return _render(
        request,
        "article_form.html",
        {"form": form, "article": None},
        status=422 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def article_edit(request: HttpRequest, pk: int) -> HttpResponse:
    article = _article(request, pk)
    original = next((v for v in article.versions.all() if v.language == "ja"), None)
    form = ArticleForm(
        request.POST or None,
        initial=ArticleForm.initial_for(article, original),
        user=request.user,
        all_departments=permissions.can_publish(request.user),
    )
    if request.method == "POST":
        if not _may_change(request, article):
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                service.edit_article(
                    article,
                    title=data["title"],
                    summary=data.get("summary", ""),
                    body_html=data["body_html"],
                    actor=request.user,
                    request=request,
                    **form.settings(),
                )
            except service.ArticleError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("The article is saved."))
                return redirect("noticestaff:article", pk=article.pk)
    return _render(
        request,
        "article_form.html",
        {
            "form": form,
            "article": article,
            "coverage": service.coverage(article),
            "may_change": _may_change(request, article),
        },
        status=422 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def version_edit(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    article = _article(request, pk)
    if language == service.ORIGINAL:
        return redirect("noticestaff:article", pk=article.pk)
    if language not in i18n.codes():
        raise Http404("unknown language")
    version = ArticleVersion.objects.filter(article=article, language=language).first()
    original = ArticleVersion.objects.filter(article=article, language=service.ORIGINAL).first()
    initial = (
        {
            "title": version.title,
            "summary": version.summary,
            "body_html": version.body_html,
            "machine_translated": version.machine_translated,
        }
        if version
        else {}
    )
    form = VersionForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if request.POST.get("action") == "approve":
            _check_publish(request)
            if version is None:
                messages.error(request, _("Save the translation before approving it."))
            else:
                service.approve_version(version, request.user, request=request)
                messages.success(request, _("The translation is approved: residents see it now."))
            return redirect("noticestaff:article_version", pk=article.pk, language=language)
        if not _may_change(request, article):
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                service.save_version(
                    article,
                    language,
                    title=data["title"],
                    summary=data.get("summary", ""),
                    body_html=data["body_html"],
                    machine_translated=bool(data.get("machine_translated")),
                    actor=request.user,
                    request=request,
                )
            except service.ArticleError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("The translation is saved. It needs approval before residents see it."),
                )
                return redirect("noticestaff:article_version", pk=article.pk, language=language)
    return _render(
        request,
        "article_version.html",
        {
            "form": form,
            "article": article,
            "version": version,
            "original": original,
            "language": language,
            "language_name": dict(settings.LANGUAGES)[language],
            "language_tag": i18n.html_lang(language),
            "may_change": _may_change(request, article),
        },
        status=422 if form.errors else 200,
    )


@require_POST
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    article = _article(request, pk)
    _check_publish(request)
    try:
        service.publish(article, request.user, request)
    except service.ArticleError as exc:
        for problems in exc.errors.values():
            for problem in problems:
                messages.error(request, problem)
    else:
        messages.success(request, _("The article is published."))
    return redirect("noticestaff:article", pk=article.pk)


@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    article = _article(request, pk)
    _check_publish(request)
    try:
        service.withdraw(article, request.user, request)
    except service.ArticleError as exc:
        for problems in exc.errors.values():
            for problem in problems:
                messages.error(request, problem)
    else:
        messages.success(request, _("The article is withdrawn: residents no longer see it."))
    return redirect("noticestaff:article", pk=article.pk)


@require_http_methods(["GET", "POST"])
def attachments(request: HttpRequest, pk: int) -> HttpResponse:
    article = _article(request, pk)
    form = AttachmentForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not _may_change(request, article):
            raise PermissionDenied
        remove = request.POST.get("remove", "")
        if remove.isdigit():
            item = get_object_or_404(ArticleAttachment, pk=int(remove), article=article)
            service.remove_attachment(item, request.user, request)
            messages.success(request, _("The file is removed."))
            return redirect("noticestaff:article_files", pk=article.pk)
        if form.is_valid():
            try:
                service.add_attachment(
                    article,
                    form.cleaned_data["file"],
                    form.cleaned_data["title"],
                    request.user,
                    request,
                )
            except service.ArticleError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("The file is attached."))
                return redirect("noticestaff:article_files", pk=article.pk)
    return _render(
        request,
        "article_files.html",
        {
            "form": form,
            "article": article,
            "files": list(article.attachments.order_by("created_at")),
            "type_names": service.TYPE_NAMES,
            "max_mb": settings.UPLOAD_MAX_MB,
            "may_change": _may_change(request, article),
        },
        status=422 if form.errors else 200,
    )
