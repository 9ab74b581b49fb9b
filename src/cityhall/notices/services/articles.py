"""Articles (お知らせ): writing, translating, approving, publishing and attaching files.

- An article is written in Japanese (the original, approved by its author when saved);
  other language versions are saved unapproved and shown to residents only after a
  person with the right to publish approves them (:func:`approve_version`). Changing the
  Japanese original afterwards sends every approved translation back for review.
- :func:`publish` needs the Japanese version and a validity window that has not ended;
  :func:`published` is what residents see: published, inside ``valid_from ≤ now <
  valid_until`` (or no end), urgent first, then newest.
- Files are checked by their content (PDF, PNG, JPEG magic bytes), their name must agree
  with it, and they may not be larger than ``settings.UPLOAD_MAX_MB``.
- :func:`publish_alert_article` turns an emergency alert message into an urgent article
  (its preset texts are already approved) so the alert also shows on the portal, in the
  feeds and in the banner (:func:`active_alerts`).

Every change is one transaction with its audit entry.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import secrets
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import nh3
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from cityhall.core import audit, pagecache
from cityhall.core.models import District
from cityhall.notices.models import (
    EMERGENCY,
    TOPICS,
    Article,
    ArticleAttachment,
    ArticleVersion,
    Audience,
)
from cityhall.notices.templating import PLACEHOLDER
from cityhall.people.models import Department

ORIGINAL = "ja"
ALERT_HOURS = 48
DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "demo_articles.json"

# --- HTML ---------------------------------------------------------------------------------

ALLOWED_TAGS = {
    "p",
    "br",
    "h2",
    "h3",
    "h4",
    "ul",
    "ol",
    "li",
    "a",
    "strong",
    "em",
    "table",
    "caption",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href"}, "th": {"scope"}, "td": {"colspan", "rowspan"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}


def sanitize_html(value: str) -> str:
    """The article HTML reduced to a small safe set: paragraphs, headings h2–h4, lists,
    links (http, https, mailto, tel; ``rel="noopener"``), emphasis and simple tables.
    Scripts, styles, event handlers, images and every other URL scheme are removed."""
    return nh3.clean(
        value or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener",
        strip_comments=True,
    ).strip()


def text_to_html(text: str) -> str:
    """Plain text (an alert's body) as paragraphs, lines kept."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text or "") if p.strip()]
    return "".join(
        "<p>" + "<br>".join(html.escape(line) for line in p.splitlines()) + "</p>"
        for p in paragraphs
    )


# --- errors -------------------------------------------------------------------------------


class ArticleError(ValueError):
    """Bad input for an article; ``errors`` maps field names (or ``""``) to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(m for ms in errors.values() for m in ms))


def _fail(field: str, message: str) -> ArticleError:
    return ArticleError({field: [message]})


def language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


# --- queries ------------------------------------------------------------------------------


def _versions_prefetch() -> Prefetch[Any]:
    return Prefetch("versions", queryset=ArticleVersion.objects.order_by("language"))


def live(now: dt.datetime | None = None) -> QuerySet[Article]:
    """Published and inside its validity window now (no ordering, no prefetching)."""
    now = now or timezone.now()
    return Article.objects.filter(status=Article.Status.PUBLISHED, valid_from__lte=now).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=now)
    )


def published(language: str | None = None, *, now: dt.datetime | None = None) -> QuerySet[Article]:
    """Published articles shown now (``valid_from ≤ now < valid_until``, or no end), urgent
    first then newest. With ``language``, only those with an approved version in it."""
    qs = live(now)
    if language and language != ORIGINAL:
        qs = qs.filter(
            pk__in=ArticleVersion.objects.filter(
                language=language, approved_at__isnull=False
            ).values("article_id")
        )
    return (
        qs.select_related("department")
        .prefetch_related(_versions_prefetch(), "districts", "attachments")
        .order_by("-urgent", "-published_at", "-id")
    )


def for_districts(qs: QuerySet[Article], district_code: str | None) -> QuerySet[Article]:
    """City-wide articles, plus those for ``district_code`` when given."""
    links = Article.districts.through.objects.filter(article_id=OuterRef("pk"))
    city_wide = ~Exists(links)
    if not district_code:
        return qs.filter(city_wide)
    return qs.filter(city_wide | Exists(links.filter(district__code=district_code)))


def pick_version(article: Article, language: str | None) -> ArticleVersion | None:
    """Like :func:`version_for`, from prefetched versions (no query when prefetched)."""
    versions = list(article.versions.all())
    if language:
        for version in versions:
            if version.language == language and (
                version.language == ORIGINAL or version.approved_at is not None
            ):
                return version
    for version in versions:
        if version.language == ORIGINAL:
            return version
    return None


def version_for(article: Article, language: str | None) -> ArticleVersion:
    """The approved version in ``language``, else the Japanese original."""
    version = pick_version(article, language)
    if version is None:
        raise ArticleVersion.DoesNotExist(f"article {article.pk} has no Japanese version")
    return version


def coverage(article: Article) -> list[dict[str, Any]]:
    """Per UI language: ``state`` = ``original``, ``approved``, ``review`` or ``missing``."""
    by_language = {v.language: v for v in article.versions.all()}
    rows = []
    for code, name in settings.LANGUAGES:
        version = by_language.get(code)
        if version is None:
            state = "missing"
        elif code == ORIGINAL:
            state = "original"
        elif version.approved_at:
            state = "approved"
        else:
            state = "review"
        rows.append({"code": code, "name": name, "state": state, "version": version})
    return rows


def get_published(slug: str) -> Article:
    return published().get(slug=slug)


def published_attachment(pk: int) -> ArticleAttachment:
    """A file of an article residents can see now (else ``DoesNotExist``)."""
    return ArticleAttachment.objects.select_related("article").get(
        pk=pk, article__in=live().values("pk")
    )


# --- alert banner cache ------------------------------------------------------------------

_ALERT_GENERATION = "notices:alerts:generation"


def alerts_cache_key(*parts: str) -> str:
    generation = cache.get(_ALERT_GENERATION)
    if generation is None:
        generation = secrets.token_hex(4)
        cache.set(_ALERT_GENERATION, generation, None)
    return ":".join(["notices:alerts", str(generation), *parts])


def _bump_alerts() -> None:
    cache.set(_ALERT_GENERATION, secrets.token_hex(4), None)
    pagecache.bump()  # the banner is on every public page: no process may keep an old copy


def invalidate_alerts() -> None:
    """Start a new banner cache generation now and again once the transaction commits
    (so a page rendered meanwhile cannot keep the old list cached)."""
    _bump_alerts()
    transaction.on_commit(_bump_alerts)


def active_alerts(district_code: str | None = None) -> list[Article]:
    """Urgent emergency articles shown now; with a district, city-wide ones and that
    district's, else every one."""
    qs = published().filter(topic=EMERGENCY, urgent=True)
    if district_code:
        qs = for_districts(qs, district_code)
    return list(qs)


# --- writing ------------------------------------------------------------------------------


def _districts(values: Iterable[Any]) -> list[District]:
    items = list(values or [])
    objects = [v for v in items if isinstance(v, District)]
    codes = [str(v) for v in items if not isinstance(v, District)]
    if codes:
        found = list(District.objects.filter(code__in=codes))
        unknown = set(codes) - {d.code for d in found}
        if unknown:
            raise _fail(
                "districts",
                _("Unknown district: %(codes)s") % {"codes": ", ".join(sorted(unknown))},
            )
        objects.extend(found)
    return objects


def _department(value: Any) -> Department | None:
    if value is None or value == "" or isinstance(value, Department):
        return value or None
    try:
        return Department.objects.get(code=str(value))
    except Department.DoesNotExist as exc:
        raise _fail("department", _("Unknown department.")) from exc


def _check_settings(
    *, topic: str, audience: str, valid_from: dt.datetime | None, valid_until: dt.datetime | None
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if topic not in TOPICS:
        errors["topic"] = [_("Choose a topic.")]
    if audience not in Audience.values:
        errors["audience"] = [_("Choose who the article is for.")]
    if valid_from and valid_until and valid_until <= valid_from:
        errors["valid_until"] = [_("The end must be after the start.")]
    return errors


def _check_text(title: str, body_html: str, summary: str) -> tuple[dict[str, list[str]], str]:
    errors: dict[str, list[str]] = {}
    clean = sanitize_html(body_html)
    if not (title or "").strip():
        errors["title"] = [_("Enter a title.")]
    elif len(title.strip()) > 200:
        errors["title"] = [_("The title must be 200 characters or fewer.")]
    if len((summary or "").strip()) > 400:
        errors["summary"] = [_("The summary must be 400 characters or fewer.")]
    if not re.sub(r"<[^>]+>", "", clean).strip():
        errors["body_html"] = [_("Enter the text of the article.")]
    return errors, clean


def _new_slug(prefix: str = "") -> str:
    stamp = timezone.localtime().strftime("%Y%m%d")
    while True:
        slug = f"{prefix or 'news'}-{stamp}-{secrets.token_hex(3)}"
        if not Article.objects.filter(slug=slug).exists():
            return slug


def create_article(
    *,
    topic: str,
    audience: str = Audience.EVERYONE,
    districts: Sequence[Any] = (),
    department: Any = None,
    valid_from: dt.datetime | None = None,
    valid_until: dt.datetime | None = None,
    urgent: bool = False,
    title: str,
    summary: str = "",
    body_html: str,
    actor: Any,
    request: HttpRequest | None = None,
    slug: str | None = None,
) -> Article:
    """A draft article with its Japanese version (approved by its author)."""
    errors = _check_settings(
        topic=topic, audience=audience, valid_from=valid_from, valid_until=valid_until
    )
    text_errors, clean = _check_text(title, body_html, summary)
    errors.update(text_errors)
    if errors:
        raise ArticleError(errors)
    district_objects = _districts(districts)
    department_object = _department(department)
    with transaction.atomic():
        article = Article.objects.create(
            slug=slug or _new_slug(topic),
            topic=topic,
            audience=audience,
            department=department_object,
            valid_from=valid_from or timezone.now(),
            valid_until=valid_until,
            urgent=urgent,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        article.districts.set(district_objects)
        now = timezone.now()
        ArticleVersion.objects.create(
            article=article,
            language=ORIGINAL,
            title=title.strip(),
            summary=(summary or "").strip(),
            body_html=clean,
            approved_by=actor if getattr(actor, "pk", None) else None,
            approved_at=now,
        )
        audit.record(
            "notices.article.created",
            request=request,
            actor=actor,
            target=article,
            details={"topic": topic, "districts": [d.code for d in district_objects]},
        )
    return article


def update_article(
    article: Article,
    *,
    actor: Any,
    request: HttpRequest | None = None,
    **changes: Any,
) -> Article:
    """Change the article's settings: ``topic``, ``audience``, ``districts``, ``department``,
    ``valid_from``, ``valid_until``, ``urgent``."""
    allowed = {
        "topic",
        "audience",
        "districts",
        "department",
        "valid_from",
        "valid_until",
        "urgent",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"unknown article fields: {sorted(unknown)}")
    errors = _check_settings(
        topic=changes.get("topic", article.topic),
        audience=changes.get("audience", article.audience),
        valid_from=changes.get("valid_from", article.valid_from),
        valid_until=changes.get("valid_until", article.valid_until),
    )
    if errors:
        raise ArticleError(errors)
    district_objects = _districts(changes.pop("districts")) if "districts" in changes else None
    if "department" in changes:
        changes["department"] = _department(changes["department"])
    if "valid_from" in changes and changes["valid_from"] is None:
        changes["valid_from"] = article.valid_from
    with transaction.atomic():
        for name, value in changes.items():
            setattr(article, name, value)
        article.save()
        if district_objects is not None:
            article.districts.set(district_objects)
        audit.record(
            "notices.article.updated",
            request=request,
            actor=actor,
            target=article,
            details={
                "fields": sorted(
                    [*changes, *(["districts"] if district_objects is not None else [])]
                )
            },
        )
    if article.status == Article.Status.PUBLISHED:
        invalidate_alerts()
    return article


def edit_article(
    article: Article,
    *,
    title: str,
    summary: str = "",
    body_html: str,
    actor: Any,
    request: HttpRequest | None = None,
    **settings: Any,
) -> Article:
    """Change the settings and the Japanese original together: both or neither (a refused
    text leaves the settings as they were)."""
    with transaction.atomic():
        update_article(article, actor=actor, request=request, **settings)
        save_version(
            article,
            ORIGINAL,
            title=title,
            summary=summary,
            body_html=body_html,
            actor=actor,
            request=request,
        )
    return article


def save_version(
    article: Article,
    language: str,
    *,
    title: str,
    summary: str = "",
    body_html: str,
    machine_translated: bool = False,
    actor: Any,
    request: HttpRequest | None = None,
) -> ArticleVersion:
    """Save the article in ``language``. The Japanese original is approved by whoever saves
    it, and a change to it sends approved translations back for review; any other
    language is saved unapproved until :func:`approve_version`."""
    if language not in language_codes():
        raise _fail("language", _("Unknown language."))
    errors, clean = _check_text(title, body_html, summary)
    if errors:
        raise ArticleError(errors)
    now = timezone.now()
    with transaction.atomic():
        version = ArticleVersion.objects.filter(article=article, language=language).first()
        changed = (
            version is None
            or version.title != title.strip()
            or version.summary != (summary or "").strip()
            or version.body_html != clean
        )
        if version is None:
            version = ArticleVersion(article=article, language=language)
        version.title = title.strip()
        version.summary = (summary or "").strip()
        version.body_html = clean
        reviewing: list[str] = []
        if language == ORIGINAL:
            version.machine_translated = False
            version.approved_by = actor if getattr(actor, "pk", None) else None
            version.approved_at = now
            if changed:
                stale = article.versions.exclude(language=ORIGINAL).filter(
                    approved_at__isnull=False
                )
                reviewing = list(stale.values_list("language", flat=True))
                stale.update(approved_at=None, approved_by=None)
        else:
            version.machine_translated = machine_translated
            if changed or version.approved_at is None:
                version.approved_by = None
                version.approved_at = None
        version.save()
        audit.record(
            "notices.article.version_saved",
            request=request,
            actor=actor,
            target=article,
            details={
                "language": language,
                "changed": changed,
                "machine_translated": version.machine_translated,
                "needs_review": reviewing,
            },
        )
    if article.status == Article.Status.PUBLISHED:
        invalidate_alerts()
    return version


def approve_version(
    version: ArticleVersion, actor: Any, request: HttpRequest | None = None
) -> ArticleVersion:
    """A person checked this translation: residents may see it now."""
    with transaction.atomic():
        version.approved_by = actor if getattr(actor, "pk", None) else None
        version.approved_at = timezone.now()
        version.save(update_fields=["approved_by", "approved_at", "updated_at"])
        audit.record(
            "notices.article.version_approved",
            request=request,
            actor=actor,
            target=version.article,
            details={"language": version.language},
        )
    invalidate_alerts()
    return version


def publish(article: Article, actor: Any, request: HttpRequest | None = None) -> Article:
    """Show the article to residents (from ``valid_from``)."""
    if not ArticleVersion.objects.filter(article=article, language=ORIGINAL).exists():
        raise _fail("", _("The article needs its Japanese text before it can be published."))
    if article.valid_until and article.valid_until <= timezone.now():
        raise _fail(
            "valid_until",
            _("The article's end date has passed: change it before publishing."),
        )
    with transaction.atomic():
        article.status = Article.Status.PUBLISHED
        article.published_at = timezone.now()
        article.save(update_fields=["status", "published_at", "updated_at"])
        audit.record("notices.article.published", request=request, actor=actor, target=article)
    invalidate_alerts()
    return article


def withdraw(article: Article, actor: Any, request: HttpRequest | None = None) -> Article:
    """Take a published article off the portal and the feeds."""
    if article.status != Article.Status.PUBLISHED:
        raise _fail("", _("Only a published article can be withdrawn."))
    with transaction.atomic():
        article.status = Article.Status.WITHDRAWN
        article.save(update_fields=["status", "updated_at"])
        audit.record("notices.article.withdrawn", request=request, actor=actor, target=article)
    invalidate_alerts()
    return article


# --- attachments --------------------------------------------------------------------------

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
EXTENSIONS = {PDF: {".pdf"}, PNG: {".png"}, JPEG: {".jpg", ".jpeg"}}
TYPE_NAMES = {PDF: "PDF", PNG: "PNG", JPEG: "JPEG"}


def sniff(head: bytes) -> str | None:
    """The content type the first bytes show: PDF, PNG or JPEG, else ``None``."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    return None


def add_attachment(
    article: Article,
    upload: Any,
    title: str,
    actor: Any,
    request: HttpRequest | None = None,
) -> ArticleAttachment:
    """Attach a PDF, PNG or JPEG file, checked by its content, to the article."""
    limit = int(settings.UPLOAD_MAX_MB) * 1024 * 1024
    if not (title or "").strip():
        raise _fail("title", _("Enter a title for the file."))
    if upload is None:
        raise _fail("file", _("Choose a file."))
    size = int(getattr(upload, "size", 0) or 0)
    if size > limit:
        raise _fail(
            "file",
            _("The file is larger than %(mb)s MB.") % {"mb": settings.UPLOAD_MAX_MB},
        )
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise _fail(
            "file",
            _("The file is larger than %(mb)s MB.") % {"mb": settings.UPLOAD_MAX_MB},
        )
    if not data:
        raise _fail("file", _("The file is empty."))
    content_type = sniff(data[:16])
    if content_type is None:
        raise _fail("file", _("The file must be a PDF, PNG or JPEG file."))
    suffix = Path(str(getattr(upload, "name", "") or "")).suffix.lower()
    if suffix not in EXTENSIONS[content_type]:
        raise _fail(
            "file",
            _("The file's name does not match its content: it is a %(type)s file.")
            % {"type": TYPE_NAMES[content_type]},
        )
    with transaction.atomic():
        attachment = ArticleAttachment(
            article=article,
            title=title.strip()[:200],
            content_type=content_type,
            size=len(data),
        )
        name = f"{article.slug}-{secrets.token_hex(4)}{sorted(EXTENSIONS[content_type])[0]}"
        attachment.file.save(name, ContentFile(data), save=False)
        attachment.save()
        audit.record(
            "notices.article.attachment_added",
            request=request,
            actor=actor,
            target=article,
            details={"attachment": attachment.pk, "type": content_type, "size": len(data)},
        )
    return attachment


def remove_attachment(
    attachment: ArticleAttachment, actor: Any, request: HttpRequest | None = None
) -> None:
    with transaction.atomic():
        article = attachment.article
        audit.record(
            "notices.article.attachment_removed",
            request=request,
            actor=actor,
            target=article,
            details={"attachment": attachment.pk},
        )
        attachment.file.delete(save=False)
        attachment.delete()


# --- emergency alerts ---------------------------------------------------------------------


def _strip_placeholders(text: str) -> str:
    return PLACEHOLDER.sub("", text or "").strip()


def publish_alert_article(message: Any, actor: Any) -> Article:
    """An urgent, published article from an emergency alert message's texts.

    Every language of ``message.content`` becomes an approved version (the preset alert
    texts were approved when they were written), the districts come from
    ``message.filters["districts"]`` (empty: the whole city), and it is shown for 48 hours.
    Called again for the same message, it returns the same article.
    """
    if getattr(message, "article_id", None):
        existing = Article.objects.filter(pk=message.article_id).first()
        if existing is not None:
            return existing
    content: dict[str, dict[str, str]] = dict(message.content or {})
    if not content:
        raise _fail("", _("The alert has no text."))
    original = content.get(ORIGINAL) or content.get("ja-easy") or next(iter(content.values()))
    codes = list((message.filters or {}).get("districts") or [])
    now = timezone.now()
    approver = actor if getattr(actor, "pk", None) else None
    with transaction.atomic():
        article = Article.objects.create(
            slug=_new_slug(f"alert-{message.pk}"),
            topic=EMERGENCY,
            audience=Audience.EVERYONE,
            valid_from=now,
            valid_until=now + dt.timedelta(hours=ALERT_HOURS),
            urgent=True,
            status=Article.Status.PUBLISHED,
            published_at=now,
            created_by=approver,
        )
        article.districts.set(_districts(codes))
        texts = {ORIGINAL: original, **{k: v for k, v in content.items() if k != ORIGINAL}}
        for language, text in texts.items():
            if language not in language_codes():
                continue
            subject = _strip_placeholders(text.get("subject", ""))
            body = _strip_placeholders(text.get("body", ""))
            first_line = next((line for line in body.splitlines() if line.strip()), "")
            ArticleVersion.objects.create(
                article=article,
                language=language,
                title=(subject or first_line or _("Emergency alert"))[:200],
                summary=first_line[:400],
                body_html=sanitize_html(text_to_html(body)) or "<p></p>",
                approved_by=approver,
                approved_at=now,
            )
        if getattr(message, "pk", None):
            type(message).objects.filter(pk=message.pk, article__isnull=True).update(
                article=article
            )
            message.article_id = article.pk
        audit.record(
            "notices.article.alert_published",
            actor=actor,
            target=article,
            details={"message": getattr(message, "pk", None), "districts": codes},
        )
    invalidate_alerts()
    return article


# --- demo data ----------------------------------------------------------------------------


def seed_demo_articles(path: Path | None = None) -> int:
    """Load the demo news of ``data/demo_articles.json`` (idempotent by slug); returns how
    many articles were added."""
    items = json.loads((path or DATA_FILE).read_text(encoding="utf-8"))["articles"]
    existing = set(Article.objects.values_list("slug", flat=True))
    known_districts = set(District.objects.values_list("code", flat=True))
    known_departments = set(Department.objects.values_list("code", flat=True))
    added = 0
    now = timezone.now()
    for item in items:
        if item["slug"] in existing:
            continue
        ja = item["versions"][ORIGINAL]
        valid_from = now - dt.timedelta(days=int(item.get("days_ago", 0)))
        days = item.get("valid_days")
        with transaction.atomic():
            article = create_article(
                slug=item["slug"],
                topic=item["topic"],
                audience=item.get("audience", Audience.EVERYONE),
                districts=[c for c in item.get("districts", []) if c in known_districts],
                department=(
                    item.get("department") if item.get("department") in known_departments else None
                ),
                valid_from=valid_from,
                valid_until=valid_from + dt.timedelta(days=int(days)) if days else None,
                urgent=bool(item.get("urgent", False)),
                title=ja["title"],
                summary=ja.get("summary", ""),
                body_html=ja["body_html"],
                actor=None,
            )
            for language, text in item["versions"].items():
                if language == ORIGINAL:
                    continue
                version = save_version(
                    article,
                    language,
                    title=text["title"],
                    summary=text.get("summary", ""),
                    body_html=text["body_html"],
                    machine_translated=bool(text.get("machine_translated", False)),
                    actor=None,
                )
                if not text.get("unapproved"):
                    approve_version(version, None)
            publish(article, None)
            Article.objects.filter(pk=article.pk).update(published_at=valid_from)
        added += 1
    return added
