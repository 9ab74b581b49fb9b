"""The FAQ knowledge base (よくある質問): import from CSV, edit, publish, feedback.

Every change goes through here, in a transaction, with an audit entry. The search index
follows the FAQ through the signal receivers (``cityhall.inquiries.receivers``); an import
also calls :func:`cityhall.inquiries.services.search.invalidate` once at its end.

CSV import (``import_csv``) never half-applies: the whole file is checked first and every
problem is reported with its row number (the header is row 1, as in a spreadsheet); only a
file without problems is applied, in one transaction, and recorded by its SHA-256 so that
importing the same bytes again is a no-op. A changed file applies only what changed.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from cityhall.core import audit
from cityhall.inquiries.models import FaqCategory, FaqEntry, FaqImport, FaqText
from cityhall.inquiries.services import search
from cityhall.people.models import Department

ORIGINAL = "ja"
DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "faq"

#: Largest CSV file accepted (bytes).
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ANSWER_LENGTH = 10_000
KEY_MAX = FaqEntry._meta.get_field("key").max_length or 64
QUESTION_MAX = FaqText._meta.get_field("question").max_length or 500
KEYWORDS_MAX = FaqText._meta.get_field("keywords").max_length or 500
URL_MAX = FaqEntry._meta.get_field("url").max_length or 300

REQUIRED_COLUMNS = ("id", "question", "answer")
OPTIONAL_COLUMNS = (
    "category",
    "language",
    "url",
    "department",
    "keywords",
    "procedures",
    "review_on",
)
#: Column names as Japanese spreadsheets write them → ours.
HEADER_ALIASES = {
    "番号": "id",
    "no": "id",
    "no.": "id",
    "質問": "question",
    "問い": "question",
    "回答": "answer",
    "答え": "answer",
    "分類": "category",
    "カテゴリ": "category",
    "カテゴリー": "category",
    "言語": "language",
    "担当課": "department",
    "キーワード": "keywords",
}
KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

#: Other spellings of our language codes met in spreadsheets.
LANGUAGE_ALIASES = {
    "jp": "ja",
    "ja-jp": "ja",
    "easy-ja": "ja-easy",
    "ja-yasashii": "ja-easy",
    "pt": "pt-br",
    "pt-br": "pt-br",
    "zh": "zh-hans",
    "zh-cn": "zh-hans",
    "zh-hans-cn": "zh-hans",
    "zh-sg": "zh-hans",
    "en-us": "en",
    "en-gb": "en",
    "es-es": "es",
    "es-mx": "es",
    "vi-vn": "vi",
}

#: Japanese names of the categories (the Japanese city sites' own words).
CATEGORY_NAMES_JA = {
    "ごみ": FaqCategory.GARBAGE,
    "ゴミ": FaqCategory.GARBAGE,
    "ごみ・リサイクル": FaqCategory.GARBAGE,
    "リサイクル": FaqCategory.GARBAGE,
    "住民票": FaqCategory.RESIDENCY,
    "戸籍": FaqCategory.RESIDENCY,
    "住民票・戸籍": FaqCategory.RESIDENCY,
    "届出": FaqCategory.RESIDENCY,
    "税": FaqCategory.TAX,
    "税金": FaqCategory.TAX,
    "保険": FaqCategory.INSURANCE,
    "年金": FaqCategory.INSURANCE,
    "保険・年金": FaqCategory.INSURANCE,
    "国民健康保険": FaqCategory.INSURANCE,
    "子育て": FaqCategory.CHILDCARE,
    "こども": FaqCategory.CHILDCARE,
    "子ども": FaqCategory.CHILDCARE,
    "介護": FaqCategory.CARE,
    "福祉": FaqCategory.CARE,
    "高齢者": FaqCategory.CARE,
    "介護・福祉": FaqCategory.CARE,
    "健康": FaqCategory.HEALTH,
    "医療": FaqCategory.HEALTH,
    "健康・医療": FaqCategory.HEALTH,
    "防災": FaqCategory.DISASTER,
    "災害": FaqCategory.DISASTER,
    "外国人": FaqCategory.FOREIGN,
    "多文化共生": FaqCategory.FOREIGN,
    "住まい": FaqCategory.HOUSING,
    "住宅": FaqCategory.HOUSING,
    "道路": FaqCategory.HOUSING,
    "水道": FaqCategory.HOUSING,
    "上下水道": FaqCategory.HOUSING,
    "教育": FaqCategory.EDUCATION,
    "学校": FaqCategory.EDUCATION,
    "マイナンバー": FaqCategory.MYNUMBER,
    "マイナンバーカード": FaqCategory.MYNUMBER,
    "電子申請": FaqCategory.DIGITAL,
    "オンライン": FaqCategory.DIGITAL,
    "デジタル": FaqCategory.DIGITAL,
    "その他": FaqCategory.OTHER,
}


class FaqError(Exception):
    """A change the FAQ refuses (a message for the member of staff)."""


@dataclass(frozen=True)
class RowError:
    row: int  # 1 = the header, 2 = the first data row (as a spreadsheet numbers them)
    message: str

    def __str__(self) -> str:
        return _("Row %(row)d: %(message)s") % {"row": self.row, "message": self.message}


class FaqImportError(Exception):
    """The file was refused; nothing was applied. ``errors`` lists every problem."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


@dataclass
class ImportReport:
    filename: str
    sha256: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    #: Set when the very same file was imported before: nothing was done this time.
    already_imported_at: dt.datetime | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def applied(self) -> bool:
        return self.already_imported_at is None

    def summary(self) -> str:
        if self.already_imported_at is not None:
            return _("%(file)s was already imported on %(when)s: nothing changed.") % {
                "file": self.filename,
                "when": self.already_imported_at.strftime("%Y-%m-%d %H:%M"),
            }
        return _(
            "%(file)s: %(rows)d rows — %(created)d created, %(updated)d updated, "
            "%(unchanged)d unchanged."
        ) % {
            "file": self.filename,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


# --- helpers ------------------------------------------------------------------------------


def language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def normalise_language(value: str) -> str | None:
    """Our language code for ``value`` (``pt_BR`` → ``pt-br``); ``ja`` when empty."""
    raw = unicodedata.normalize("NFKC", value or "").strip().lower().replace("_", "-")
    if not raw:
        return ORIGINAL
    raw = LANGUAGE_ALIASES.get(raw, raw)
    return raw if raw in language_codes() else None


def normalise_category(value: str) -> str | None:
    """Our category value for a value, an English label or a Japanese name; ``other`` if empty."""
    raw = unicodedata.normalize("NFKC", value or "").strip()
    if not raw:
        return FaqCategory.OTHER.value
    folded = raw.casefold()
    for choice_value, label in FaqCategory.choices:
        if folded in (choice_value, str(label).casefold()):
            return str(choice_value)
    found = CATEGORY_NAMES_JA.get(raw)
    return found.value if found is not None else None


def split_slugs(value: str) -> list[str]:
    """Procedure slugs separated by ``|``, commas or spaces, duplicates dropped, in order."""
    found: list[str] = []
    for part in re.split(r"[|,\s]+", unicodedata.normalize("NFKC", value or "")):
        if part and part not in found:
            found.append(part)
    return found


def decode(data: bytes) -> str:
    """The text of a CSV file: UTF-8 (with or without BOM) or CP932 (Shift_JIS), else refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        raise FaqImportError(
            [RowError(1, _("The file is not a CSV text file in UTF-8 or Shift_JIS (CP932)."))]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932")
    except UnicodeDecodeError:
        raise FaqImportError(
            [
                RowError(
                    1,
                    _(
                        "The file's encoding is neither UTF-8 nor Shift_JIS (CP932). "
                        "Save it as “CSV UTF-8” and try again."
                    ),
                )
            ]
        ) from None


def _clean(value: str | None) -> str:
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


@dataclass
class _Row:
    number: int
    key: str
    language: str
    question: str
    answer: str
    keywords: str | None  # None: column absent, keep what is there
    entry_fields: dict[str, Any]  # only for Japanese rows: the columns present


@dataclass
class _Parsed:
    rows: list[_Row]
    warnings: list[str]


def _parse(text: str) -> _Parsed:
    errors: list[RowError] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header_cells = next(reader)
    except StopIteration:
        raise FaqImportError([RowError(1, _("The file is empty."))]) from None
    except csv.Error as exc:
        raise FaqImportError([RowError(1, _("The file is not valid CSV: %s") % exc)]) from None
    header = [unicodedata.normalize("NFKC", h).strip().lower() for h in header_cells]
    header = [HEADER_ALIASES.get(h, h) for h in header]
    warnings: list[str] = []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        errors.append(
            RowError(
                1, _("Required columns are missing: %(columns)s.") % {"columns": ", ".join(missing)}
            )
        )
    duplicates = sorted({h for h in header if h and header.count(h) > 1})
    if duplicates:
        errors.append(
            RowError(
                1, _("Columns appear twice: %(columns)s.") % {"columns": ", ".join(duplicates)}
            )
        )
    unknown = [h for h in header if h and h not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        warnings.append(
            _("Columns ignored (unknown): %(columns)s.") % {"columns": ", ".join(unknown)}
        )
    if errors:
        raise FaqImportError(errors)
    present = set(header)
    departments = {d.code: d.pk for d in Department.objects.all().only("pk", "code")}
    url_validator = URLValidator(schemes=["http", "https"])
    seen: dict[tuple[str, str], int] = {}
    rows: list[_Row] = []
    number = 1
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(number, _("The row is not valid CSV: %s") % exc))
            break
        if not any(c.strip() for c in cells):
            continue  # blank line
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            errors.append(RowError(number, _("The row has more cells than the header.")))
        values = {h: _clean(cells[i]) if i < len(cells) else "" for i, h in enumerate(header)}
        row_errors: list[str] = []
        key = unicodedata.normalize("NFKC", values.get("id", ""))
        if not key:
            row_errors.append(_("The id is empty."))
        elif len(key) > KEY_MAX:
            row_errors.append(_("The id is longer than %(max)d characters.") % {"max": KEY_MAX})
        elif not KEY_RE.match(key):
            row_errors.append(
                _("The id “%(id)s” may contain only letters, digits, “-”, “_” and “.”.")
                % {"id": key}
            )
        language = normalise_language(values.get("language", ""))
        if language is None:
            row_errors.append(
                _("Unknown language “%(language)s”; use one of %(codes)s.")
                % {"language": values.get("language", ""), "codes": ", ".join(language_codes())}
            )
        question = values.get("question", "")
        answer = values.get("answer", "")
        if not question:
            row_errors.append(_("The question is empty."))
        elif len(question) > QUESTION_MAX:
            row_errors.append(
                _("The question is longer than %(max)d characters.") % {"max": QUESTION_MAX}
            )
        if not answer:
            row_errors.append(_("The answer is empty."))
        elif len(answer) > MAX_ANSWER_LENGTH:
            row_errors.append(
                _("The answer is longer than %(max)d characters.") % {"max": MAX_ANSWER_LENGTH}
            )
        keywords: str | None = None
        if "keywords" in present:
            keywords = " ".join(values["keywords"].split())
            if len(keywords) > KEYWORDS_MAX:
                row_errors.append(
                    _("The search words are longer than %(max)d characters.")
                    % {"max": KEYWORDS_MAX}
                )
        entry_fields: dict[str, Any] = {}
        if language == ORIGINAL:
            if "category" in present:
                category = normalise_category(values["category"])
                if category is None:
                    row_errors.append(
                        _("Unknown category “%(category)s”.") % {"category": values["category"]}
                    )
                entry_fields["category"] = category
            if "department" in present:
                code = values["department"]
                if code and code not in departments:
                    row_errors.append(_("Unknown department code “%(code)s”.") % {"code": code})
                entry_fields["department_id"] = departments.get(code) if code else None
            if "url" in present:
                url = values["url"]
                if url:
                    if len(url) > URL_MAX:
                        row_errors.append(
                            _("The URL is longer than %(max)d characters.") % {"max": URL_MAX}
                        )
                    else:
                        try:
                            url_validator(url)
                        except ValidationError:
                            row_errors.append(
                                _("“%(url)s” is not a valid http(s) URL.") % {"url": url}
                            )
                entry_fields["url"] = url
            if "procedures" in present:
                slugs = split_slugs(values["procedures"])
                bad = [s for s in slugs if not SLUG_RE.match(s) or len(s) > 80]
                if bad:
                    row_errors.append(
                        _("Not a procedure slug: %(slugs)s.") % {"slugs": ", ".join(bad)}
                    )
                entry_fields["procedures"] = slugs
            if "review_on" in present:
                raw = unicodedata.normalize("NFKC", values["review_on"])
                review_on: dt.date | None = None
                if raw:
                    try:
                        if not DATE_RE.match(raw):
                            raise ValueError(raw)
                        review_on = dt.date.fromisoformat(raw)
                    except ValueError:
                        row_errors.append(
                            _("The review date “%(date)s” is not a date like 2026-04-01.")
                            % {"date": raw}
                        )
                entry_fields["review_on"] = review_on
        if key and language is not None:
            first = seen.get((key, language))
            if first is not None:
                row_errors.append(
                    _("The id “%(id)s” in %(language)s is already in row %(row)d.")
                    % {"id": key, "language": language, "row": first}
                )
            else:
                seen[(key, language)] = number
        errors.extend(RowError(number, message) for message in row_errors)
        rows.append(_Row(number, key, language or "", question, answer, keywords, entry_fields))
    # A translation needs its Japanese original, in this file or already in the database.
    originals_in_file = {r.key for r in rows if r.language == ORIGINAL}
    wanted = {r.key for r in rows if r.key and r.language and r.language != ORIGINAL}
    originals_in_db = set(
        FaqText.objects.filter(
            entry__key__in=wanted - originals_in_file, language=ORIGINAL
        ).values_list("entry__key", flat=True)
    )
    for row in rows:
        if (
            row.key
            and row.language
            and row.language != ORIGINAL
            and row.key not in originals_in_file
            and row.key not in originals_in_db
        ):
            errors.append(
                RowError(
                    row.number,
                    _(
                        "The id “%(id)s” has no Japanese row (language ja) in this file "
                        "or in the FAQ."
                    )
                    % {"id": row.key},
                )
            )
    if not rows and not errors:
        errors.append(RowError(2, _("The file has a header but no rows.")))
    if errors:
        errors.sort(key=lambda e: e.row)
        raise FaqImportError(errors)
    return _Parsed(rows, warnings)


def _apply(rows: Iterable[_Row]) -> tuple[int, int, int]:
    created = updated = unchanged = 0
    rows = list(rows)
    entries = {
        e.key: e for e in FaqEntry.objects.select_for_update().filter(key__in={r.key for r in rows})
    }
    texts = {
        (t.entry.key, t.language): t
        for t in FaqText.objects.select_related("entry").filter(
            entry__key__in={r.key for r in rows}
        )
    }
    # Japanese rows first: they create the entries the translations hang on.
    for row in sorted(rows, key=lambda r: (r.language != ORIGINAL, r.number)):
        row_created = row_changed = False
        entry = entries.get(row.key)
        if entry is None:
            entry = FaqEntry(key=row.key)
            for name, value in row.entry_fields.items():
                setattr(entry, name, value)
            entry.save()
            entries[row.key] = entry
            row_created = True
        elif row.entry_fields:
            changed = [n for n, v in row.entry_fields.items() if getattr(entry, n) != v]
            if changed:
                for name in changed:
                    setattr(entry, name, row.entry_fields[name])
                entry.save(update_fields=[*changed, "updated_at"])
                row_changed = True
        text = texts.get((row.key, row.language))
        if text is None:
            FaqText.objects.create(
                entry=entry,
                language=row.language,
                question=row.question,
                answer=row.answer,
                keywords=row.keywords or "",
            )
            row_created = True
        else:
            new = {"question": row.question, "answer": row.answer}
            if row.keywords is not None:
                new["keywords"] = row.keywords
            changed = [n for n, v in new.items() if getattr(text, n) != v]
            if changed:
                for name in changed:
                    setattr(text, name, new[name])
                text.save(update_fields=[*changed, "updated_at"])
                row_changed = True
        if row_created:
            created += 1
        elif row_changed:
            updated += 1
        else:
            unchanged += 1
    return created, updated, unchanged


def _user(actor: Any, request: HttpRequest | None) -> Any:
    user = actor if actor is not None else getattr(request, "user", None)
    return user if user is not None and getattr(user, "is_authenticated", False) else None


# --- import ---------------------------------------------------------------------------------


def import_csv(
    data: bytes,
    filename: str,
    *,
    actor: Any = None,
    request: HttpRequest | None = None,
) -> ImportReport:
    """Check the whole CSV file, then apply it in one transaction (or raise FaqImportError)."""
    filename = Path(filename or "faq.csv").name[:300]
    digest = hashlib.sha256(data).hexdigest()
    report = ImportReport(filename=filename, sha256=digest)
    previous = FaqImport.objects.filter(sha256=digest).first()
    if previous is not None:
        report.already_imported_at = previous.imported_at
        report.rows = previous.rows
        report.unchanged = previous.rows
        return report
    if len(data) > MAX_FILE_BYTES:
        raise FaqImportError(
            [RowError(1, _("The file is larger than %(mb)d MB.") % {"mb": MAX_FILE_BYTES // 2**20})]
        )
    parsed = _parse(decode(data))
    report.warnings = parsed.warnings
    report.rows = len(parsed.rows)
    try:
        with transaction.atomic():
            report.created, report.updated, report.unchanged = _apply(parsed.rows)
            record = FaqImport.objects.create(
                sha256=digest,
                filename=filename,
                rows=report.rows,
                created=report.created,
                updated=report.updated,
                unchanged=report.unchanged,
                imported_by=_user(actor, request),
            )
            audit.record(
                "inquiries.faq.imported",
                request=request,
                actor=actor,
                target=record,
                details={
                    "filename": filename,
                    "sha256": digest,
                    "rows": report.rows,
                    "created": report.created,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                },
            )
    except IntegrityError:
        # The same file imported at this very moment by someone else: theirs won.
        previous = FaqImport.objects.filter(sha256=digest).first()
        if previous is None:
            raise
        return ImportReport(
            filename=filename,
            sha256=digest,
            rows=previous.rows,
            unchanged=previous.rows,
            already_imported_at=previous.imported_at,
        )
    search.invalidate()
    return report


def seed_faq() -> list[ImportReport]:
    """Import every ``inquiries/data/faq/*.csv`` in name order (a file seen before is a no-op)."""
    reports = []
    for path in sorted(DATA_DIR.glob("*.csv")):
        try:
            reports.append(import_csv(path.read_bytes(), path.name))
        except FaqImportError as exc:
            raise FaqImportError(
                [RowError(e.row, f"{path.name}: {e.message}") for e in exc.errors]
            ) from exc
    return reports


# --- entries and texts --------------------------------------------------------------------


def _entry_details(entry: FaqEntry) -> dict[str, Any]:
    return {
        "key": entry.key,
        "category": entry.category,
        "department_id": entry.department_id,
        "procedures": list(entry.procedures or []),
        "url": entry.url,
        "review_on": entry.review_on.isoformat() if entry.review_on else None,
        "published": entry.published,
    }


def create_entry(
    *,
    key: str,
    question: str,
    answer: str,
    keywords: str = "",
    category: str = FaqCategory.OTHER,
    department: Department | None = None,
    procedures: Sequence[str] = (),
    url: str = "",
    review_on: dt.date | None = None,
    published: bool = True,
    actor: Any = None,
    request: HttpRequest | None = None,
) -> FaqEntry:
    """A new entry with its Japanese text."""
    with transaction.atomic():
        if FaqEntry.objects.filter(key=key).exists():
            raise FaqError(_("An entry with the id “%(id)s” already exists.") % {"id": key})
        entry = FaqEntry.objects.create(
            key=key,
            category=category,
            department=department,
            procedures=list(procedures),
            url=url,
            review_on=review_on,
            published=published,
        )
        FaqText.objects.create(
            entry=entry, language=ORIGINAL, question=question, answer=answer, keywords=keywords
        )
        audit.record(
            "inquiries.faq.created",
            request=request,
            actor=actor,
            target=entry,
            details=_entry_details(entry),
        )
    return entry


def update_entry(
    entry: FaqEntry,
    *,
    question: str,
    answer: str,
    keywords: str = "",
    category: str,
    department: Department | None,
    procedures: Sequence[str],
    url: str,
    review_on: dt.date | None,
    published: bool,
    actor: Any = None,
    request: HttpRequest | None = None,
) -> FaqEntry:
    """Change an entry's settings and its Japanese text."""
    with transaction.atomic():
        entry.category = category
        entry.department = department
        entry.procedures = list(procedures)
        entry.url = url
        entry.review_on = review_on
        entry.published = published
        entry.save()
        _save_text(entry, ORIGINAL, question, answer, keywords)
        audit.record(
            "inquiries.faq.updated",
            request=request,
            actor=actor,
            target=entry,
            details=_entry_details(entry),
        )
    return entry


def _save_text(
    entry: FaqEntry, language: str, question: str, answer: str, keywords: str
) -> tuple[FaqText, bool]:
    text, created = FaqText.objects.get_or_create(
        entry=entry,
        language=language,
        defaults={"question": question, "answer": answer, "keywords": keywords},
    )
    if not created and (text.question, text.answer, text.keywords) != (question, answer, keywords):
        text.question, text.answer, text.keywords = question, answer, keywords
        text.save()
    return text, created


def save_text(
    entry: FaqEntry,
    language: str,
    question: str,
    answer: str,
    keywords: str = "",
    *,
    actor: Any = None,
    request: HttpRequest | None = None,
) -> FaqText:
    """Create or change one language version of an entry."""
    if language not in language_codes():
        raise FaqError(_("Unknown language “%(language)s”.") % {"language": language})
    with transaction.atomic():
        text, created = _save_text(entry, language, question, answer, keywords)
        audit.record(
            "inquiries.faq.text_saved",
            request=request,
            actor=actor,
            target=entry,
            details={"key": entry.key, "language": language, "created": created},
        )
    return text


def delete_text(
    entry: FaqEntry,
    language: str,
    *,
    actor: Any = None,
    request: HttpRequest | None = None,
) -> bool:
    """Remove a translation (never the Japanese original); ``False`` if there was none."""
    if language == ORIGINAL:
        raise FaqError(_("The Japanese text is the original and cannot be deleted."))
    with transaction.atomic():
        deleted, _detail = FaqText.objects.filter(entry=entry, language=language).delete()
        if deleted:
            audit.record(
                "inquiries.faq.text_deleted",
                request=request,
                actor=actor,
                target=entry,
                details={"key": entry.key, "language": language},
            )
    return bool(deleted)


def set_published(
    entry: FaqEntry,
    published: bool,
    *,
    actor: Any = None,
    request: HttpRequest | None = None,
) -> FaqEntry:
    with transaction.atomic():
        if entry.published != published:
            entry.published = published
            entry.save(update_fields=["published", "updated_at"])
            audit.record(
                "inquiries.faq.published" if published else "inquiries.faq.unpublished",
                request=request,
                actor=actor,
                target=entry,
                details={"key": entry.key},
            )
    return entry


def publish(entry: FaqEntry, **kwargs: Any) -> FaqEntry:
    return set_published(entry, True, **kwargs)


def unpublish(entry: FaqEntry, **kwargs: Any) -> FaqEntry:
    return set_published(entry, False, **kwargs)


# --- reading --------------------------------------------------------------------------------


def text_for(entry: FaqEntry, language: str | None) -> FaqText | None:
    """The entry's text in ``language``, else the Japanese original (``None`` if neither)."""
    texts = {t.language: t for t in entry.texts.all()}
    return texts.get(language or ORIGINAL) or texts.get(ORIGINAL)


def due_for_review(today: dt.date) -> QuerySet[FaqEntry]:
    """Entries whose review date has come (on or before ``today``)."""
    return FaqEntry.objects.filter(review_on__isnull=False, review_on__lte=today).order_by(
        "review_on", "key"
    )


def missing_languages(entry: FaqEntry) -> list[str]:
    have = {t.language for t in entry.texts.all()}
    return [code for code in language_codes() if code not in have]


def record_feedback(key: str, helpful: bool) -> bool:
    """Count a resident's "was this helpful?" answer (one atomic UPDATE); ``False`` if unknown.

    Anonymous counters, so no audit entry: the log records who changed the FAQ, not votes.
    """
    column = "helpful_count" if helpful else "unhelpful_count"
    return bool(FaqEntry.objects.filter(key=key, published=True).update(**{column: F(column) + 1}))


def record_shown(keys: Sequence[str]) -> int:
    """Count that the chat or search showed these entries first."""
    return FaqEntry.objects.filter(key__in=list(keys)).update(shown_count=F("shown_count") + 1)
