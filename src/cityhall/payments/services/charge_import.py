"""The core systems' charges file (調定データ): one adapter, validated whole, applied once.

Layout (documented for operators in docs/payments/charges.md): CSV with a header row,
UTF-8 (with or without BOM) or Shift_JIS/CP932 — detected from the bytes — one row per
installment (期別), columns named in the header, in any order:

=========  ==========================  ====================================================
header     also accepted               value
=========  ==========================  ====================================================
種別コード  種別, kind                   a kind's ``code`` (``kojin-juminzei``) or its 3-digit
                                       税目・料金番号
賦課年度    fiscal_year                  4 digits
課税年度    tax_year                     4 digits, not after 賦課年度
調定番号    reference                    1–20 digits; with the kind and 賦課年度 it names a charge
宛名番号    payer_key                    1–20 digits
氏名        name                         up to 120 characters
カナ        氏名カナ, kana (optional)     half-width kana is folded to full width
郵便番号    postal_code (optional)        7 digits, hyphen optional
住所        address (optional)
期別        period                       1–99, once per charge
金額        amount                       whole yen, digits only, 1 … 99,999,999,999
納期限      due_date                     YYYYMMDD or YYYY-MM-DD
=========  ==========================  ====================================================

Rules: the rows of one charge agree on 課税年度, 宛名番号 and 氏名; a charge that exists
already must come with exactly the same installments (then it is left as it is —
``unchanged`` in the summary), anything else about it is a problem: an import never
changes a charge. Every problem is collected with its line, field and a sentence in
the uploader's language; when there is any, nothing is applied and the file is recorded
as ``REJECTED`` with its problems. Otherwise, in one transaction, the charges and
installments are bulk-inserted, each installment gets its slip
(:func:`cityhall.payments.services.notices.issue_for_installments`), residents are
linked through :class:`~cityhall.payments.models.PayerAccount`, and the file is
recorded as ``APPLIED`` with its SHA-256: importing the same bytes again returns that
record and changes nothing.

No query runs per row: existing charges and payer links are read in chunks of
:data:`CHUNK`, rows are written with ``bulk_create``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cityhall.core import audit
from cityhall.payments.models import (
    Charge,
    ImportedFile,
    Installment,
    PayerAccount,
    PaymentKind,
)
from cityhall.payments.services.charges import (
    MAX_AMOUNT_YEN,
    normalize_kana,
    normalize_name,
    normalize_postal_code,
)

CHUNK = 500
MAX_BYTES = 64 * 1024 * 1024  # ~400,000 rows; Iga's yearly 住民税 file is about 40,000 rows
MAX_PROBLEMS = 1000  # kept and shown; the count says how many there were in all
DIGITS = re.compile(r"^\d+$")

# field → (header names accepted, required)
COLUMNS: dict[str, tuple[tuple[str, ...], bool]] = {
    "kind": (("種別コード", "種別", "kind"), True),
    "fiscal_year": (("賦課年度", "fiscal_year"), True),
    "tax_year": (("課税年度", "tax_year"), True),
    "reference": (("調定番号", "reference"), True),
    "payer_key": (("宛名番号", "payer_key"), True),
    "name": (("氏名", "name"), True),
    "kana": (("カナ", "氏名カナ", "kana"), False),
    "postal_code": (("郵便番号", "postal_code"), False),
    "address": (("住所", "address"), False),
    "period": (("期別", "period"), True),
    "amount": (("金額", "amount"), True),
    "due_date": (("納期限", "due_date"), True),
}

LABELS = {
    "file": gettext_lazy("File"),
    "header": gettext_lazy("Header row"),
    "kind": gettext_lazy("Kind (種別コード)"),
    "fiscal_year": gettext_lazy("Fiscal year (賦課年度)"),
    "tax_year": gettext_lazy("Tax year (課税年度)"),
    "reference": gettext_lazy("Charge number (調定番号)"),
    "payer_key": gettext_lazy("Payer number (宛名番号)"),
    "name": gettext_lazy("Name (氏名)"),
    "kana": gettext_lazy("Kana (カナ)"),
    "postal_code": gettext_lazy("Postal code (郵便番号)"),
    "address": gettext_lazy("Address (住所)"),
    "period": gettext_lazy("Instalment (期別)"),
    "amount": gettext_lazy("Amount (金額)"),
    "due_date": gettext_lazy("Due date (納期限)"),
}


@dataclass
class Problem:
    """``field`` is the column's label in the uploader's language, ``column`` its key."""

    line: int | None
    column: str
    field: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "field": self.field,
            "column": self.column,
            "detail": self.detail,
        }


@dataclass
class ImportOutcome:
    """What :func:`run_import` did: ``duplicate`` when the same bytes were applied before."""

    file: ImportedFile
    duplicate: bool = False

    @property
    def applied(self) -> bool:
        return self.file.status == ImportedFile.Status.APPLIED


@dataclass
class _Row:
    line: int
    kind_id: int
    fiscal_year: int
    tax_year: int
    reference: str
    payer_key: str
    name: str
    kana: str
    postal_code: str
    address: str
    period: int
    amount: int
    due_date: dt.date


@dataclass
class _Group:
    rows: list[_Row] = field(default_factory=list)

    @property
    def first(self) -> _Row:
        return self.rows[0]

    def installments(self) -> set[tuple[int, int, dt.date]]:
        return {(r.period, r.amount, r.due_date) for r in self.rows}


class _Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.total = 0

    def add(self, line: int | None, field_name: str, detail: str) -> None:
        self.total += 1
        if len(self.items) < MAX_PROBLEMS:
            label = str(LABELS.get(field_name, field_name))
            self.items.append(Problem(line, field_name, label, detail))

    def __bool__(self) -> bool:
        return self.total > 0


# --- reading -------------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str] | None:
    """(text, encoding name) — UTF-8 with BOM, UTF-8, or CP932; ``None`` when it is neither."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            return None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932"), "cp932"
    except UnicodeDecodeError:
        return None


def _header_map(header: Sequence[str], problems: _Problems) -> dict[str, int] | None:
    names = [unicodedata.normalize("NFKC", h).strip().lower() for h in header]
    lookup = {alias.lower(): key for key, (aliases, _req) in COLUMNS.items() for alias in aliases}
    index: dict[str, int] = {}
    for position, name in enumerate(names):
        key = lookup.get(name)
        if key is None:
            problems.add(1, "header", _("Unknown column “%(name)s”.") % {"name": header[position]})
        elif key in index:
            problems.add(1, "header", _("Column “%(name)s” appears twice.") % {"name": name})
        else:
            index[key] = position
    for key, (aliases, required) in COLUMNS.items():
        if required and key not in index:
            problems.add(1, "header", _("Column “%(name)s” is missing.") % {"name": aliases[0]})
    return None if problems else index


def _int(value: str) -> int | None:
    value = unicodedata.normalize("NFKC", value).strip()
    return int(value) if DIGITS.match(value) and len(value) <= 12 else None


def _date(value: str) -> dt.date | None:
    value = unicodedata.normalize("NFKC", value).strip()
    if re.fullmatch(r"\d{8}", value):
        text = f"{value[:4]}-{value[4:6]}-{value[6:]}"
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        text = value
    else:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _kind_lookup() -> tuple[dict[str, PaymentKind], dict[str, PaymentKind]]:
    kinds = list(PaymentKind.objects.all())
    by_code = {k.code: k for k in kinds}
    by_tax: dict[str, list[PaymentKind]] = defaultdict(list)
    for k in kinds:
        if k.is_active:
            by_tax[k.tax_code].append(k)
    return by_code, {code: items[0] for code, items in by_tax.items() if len(items) == 1}


def _parse_rows(text: str, problems: _Problems) -> list[_Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        problems.add(None, "file", _("The file is empty."))
        return []
    index = _header_map(header, problems)
    if index is None:
        return []
    by_code, by_tax = _kind_lookup()
    rows: list[_Row] = []
    width = len(header)
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) != width:
                problems.add(
                    line,
                    "file",
                    _("The row has %(got)s columns; the header has %(want)s.")
                    % {"got": len(values), "want": width},
                )
                continue
            row = _parse_row(line, values, index, by_code, by_tax, problems)
            if row is not None:
                rows.append(row)
    except csv.Error as exc:
        problems.add(
            reader.line_num, "file", _("The CSV cannot be read: %(error)s") % {"error": exc}
        )
    if not rows and not problems:
        problems.add(None, "file", _("The file has no rows after the header."))
    return rows


def _parse_row(
    line: int,
    values: Sequence[str],
    index: dict[str, int],
    by_code: dict[str, PaymentKind],
    by_tax: dict[str, PaymentKind],
    problems: _Problems,
) -> _Row | None:
    def get(key: str) -> str:
        position = index.get(key)
        return values[position].strip() if position is not None else ""

    before = problems.total
    kind_text = unicodedata.normalize("NFKC", get("kind")).strip()
    kind = by_code.get(kind_text) or by_tax.get(kind_text)
    if kind is None:
        problems.add(line, "kind", _("Unknown kind “%(kind)s”.") % {"kind": kind_text})
    elif not kind.is_active:
        problems.add(line, "kind", _("The kind “%(kind)s” is not active.") % {"kind": kind_text})
    fiscal_year = _int(get("fiscal_year"))
    if fiscal_year is None or not 2000 <= fiscal_year <= 2099:
        problems.add(line, "fiscal_year", _("Give the year as 4 digits, e.g. 2026."))
    tax_year = _int(get("tax_year"))
    if tax_year is None or not 2000 <= tax_year <= 2099:
        problems.add(line, "tax_year", _("Give the year as 4 digits, e.g. 2026."))
    elif fiscal_year is not None and tax_year > fiscal_year:
        problems.add(line, "tax_year", _("The tax year cannot be after the fiscal year."))
    reference = unicodedata.normalize("NFKC", get("reference")).strip()
    if not (DIGITS.match(reference) and len(reference) <= 20):
        problems.add(line, "reference", _("The charge number is 1 to 20 digits."))
    payer_key = unicodedata.normalize("NFKC", get("payer_key")).strip()
    if not (DIGITS.match(payer_key) and len(payer_key) <= 20):
        problems.add(line, "payer_key", _("The payer number is 1 to 20 digits."))
    name = normalize_name(get("name"))
    if not name:
        problems.add(line, "name", _("The name is missing."))
    elif len(name) > 120:
        problems.add(line, "name", _("The name is longer than 120 characters."))
    kana = normalize_kana(get("kana"))
    if len(kana) > 200:
        problems.add(line, "kana", _("The kana is longer than 200 characters."))
    raw_postal = get("postal_code")
    postal_code = normalize_postal_code(raw_postal)
    if raw_postal and not postal_code:
        problems.add(line, "postal_code", _("The postal code is 7 digits, e.g. 518-8501."))
    address = " ".join(get("address").split())
    if len(address) > 300:
        problems.add(line, "address", _("The address is longer than 300 characters."))
    period = _int(get("period"))
    if period is None or not 1 <= period <= 99:
        problems.add(line, "period", _("The instalment is a number from 1 to 99."))
    amount = _int(get("amount"))
    if amount is None or not 1 <= amount <= MAX_AMOUNT_YEN:
        problems.add(
            line, "amount", _("The amount is whole yen, digits only (no commas), at least 1.")
        )
    due_date = _date(get("due_date"))
    if due_date is None:
        problems.add(line, "due_date", _("The date is YYYYMMDD or YYYY-MM-DD, e.g. 20260630."))
    if problems.total > before:
        return None
    assert kind is not None and fiscal_year is not None and tax_year is not None
    assert period is not None and amount is not None and due_date is not None
    return _Row(
        line,
        kind.pk,
        fiscal_year,
        tax_year,
        reference,
        payer_key,
        name,
        kana,
        postal_code,
        address,
        period,
        amount,
        due_date,
    )


def _group(rows: list[_Row], problems: _Problems) -> dict[tuple[int, int, str], _Group]:
    groups: dict[tuple[int, int, str], _Group] = {}
    for row in rows:
        group = groups.setdefault((row.kind_id, row.fiscal_year, row.reference), _Group())
        if group.rows:
            first = group.first
            if row.payer_key != first.payer_key:
                problems.add(
                    row.line,
                    "payer_key",
                    _("Rows of charge %(ref)s disagree: line %(first)s has another payer number.")
                    % {"ref": row.reference, "first": first.line},
                )
            if row.name != first.name:
                problems.add(
                    row.line,
                    "name",
                    _("Rows of charge %(ref)s disagree: line %(first)s has another name.")
                    % {"ref": row.reference, "first": first.line},
                )
            if row.tax_year != first.tax_year:
                problems.add(
                    row.line,
                    "tax_year",
                    _("Rows of charge %(ref)s disagree: line %(first)s has another tax year.")
                    % {"ref": row.reference, "first": first.line},
                )
            if any(r.period == row.period for r in group.rows):
                problems.add(
                    row.line,
                    "period",
                    _("Instalment %(period)s of charge %(ref)s is given twice.")
                    % {"period": row.period, "ref": row.reference},
                )
        group.rows.append(row)
    return groups


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _existing(
    groups: dict[tuple[int, int, str], _Group],
) -> dict[tuple[int, int, str], tuple[int, str, set[tuple[int, int, dt.date]]]]:
    """Charges of the file that exist already: key → (id, payer key, installments)."""
    by_year: dict[tuple[int, int], list[str]] = defaultdict(list)
    for kind_id, year, reference in groups:
        by_year[(kind_id, year)].append(reference)
    found: dict[tuple[int, int, str], tuple[int, str, set[tuple[int, int, dt.date]]]] = {}
    ids: dict[int, tuple[int, int, str]] = {}
    for (kind_id, year), references in by_year.items():
        for chunk in _chunks(references):
            for pk, reference, payer_key in Charge.objects.filter(
                kind_id=kind_id, fiscal_year=year, reference__in=list(chunk)
            ).values_list("pk", "reference", "payer_key"):
                found[(kind_id, year, reference)] = (pk, payer_key, set())
                ids[pk] = (kind_id, year, reference)
    for chunk in _chunks(list(ids)):
        for charge_id, period, amount, due in Installment.objects.filter(
            charge_id__in=list(chunk)
        ).values_list("charge_id", "period", "amount_yen", "due_date"):
            found[ids[charge_id]][2].add((period, amount, due))
    return found


def _payer_links(payer_keys: Sequence[str]) -> dict[str, int]:
    links: dict[str, int] = {}
    for chunk in _chunks(payer_keys):
        links.update(
            PayerAccount.objects.filter(payer_key__in=list(chunk)).values_list(
                "payer_key", "user_id"
            )
        )
    return links


# --- the import ----------------------------------------------------------------------------


def import_charges(
    data: bytes, *, filename: str, actor: Any = None, request: Any = None
) -> ImportedFile:
    """Import a charges file (see the module's docstring); return its record."""
    return run_import(data, filename=filename, actor=actor, request=request).file


def previous_import(sha256: str) -> ImportedFile | None:
    return ImportedFile.objects.filter(
        kind=ImportedFile.Kind.CHARGES, sha256=sha256, status=ImportedFile.Status.APPLIED
    ).first()


def run_import(
    data: bytes, *, filename: str, actor: Any = None, request: Any = None
) -> ImportOutcome:
    """:func:`import_charges`, telling also whether the file had been applied before."""
    filename = (filename or "charges.csv")[:255]
    sha256 = hashlib.sha256(data).hexdigest()
    earlier = previous_import(sha256)
    if earlier is not None:
        return ImportOutcome(earlier, duplicate=True)
    problems = _Problems()
    rows: list[_Row] = []
    encoding = ""
    if not data:
        problems.add(None, "file", _("The file is empty."))
    elif len(data) > MAX_BYTES:
        problems.add(
            None, "file", _("The file is larger than %(mb)s MB.") % {"mb": MAX_BYTES // 2**20}
        )
    elif b"\x00" in data:
        problems.add(None, "file", _("This is not a text (CSV) file."))
    else:
        decoded = decode(data)
        if decoded is None:
            problems.add(None, "file", _("The file is neither UTF-8 nor Shift_JIS (CP932) text."))
        else:
            text, encoding = decoded
            rows = _parse_rows(text, problems)
    groups = _group(rows, problems) if rows else {}
    existing = _existing(groups) if groups and not problems else {}
    unchanged = 0
    for key, group in groups.items():
        if key not in existing:
            continue
        _pk, payer_key, installments = existing[key]
        if payer_key == group.first.payer_key and installments == group.installments():
            unchanged += 1
            continue
        problems.add(
            group.first.line,
            "reference",
            _(
                "Charge %(ref)s exists already with other installments or another payer. "
                "An import never changes a charge: correct it in the core system, cancel the "
                "old charge here and send the corrected one under a new charge number."
            )
            % {"ref": group.first.reference},
        )
    if problems:
        return ImportOutcome(
            _reject(
                data,
                sha256,
                filename,
                problems,
                rows=len(rows),
                encoding=encoding,
                actor=actor,
                request=request,
            )
        )
    new_groups = [g for key, g in groups.items() if key not in existing]
    try:
        return ImportOutcome(
            _apply(
                new_groups,
                sha256=sha256,
                size=len(data),
                filename=filename,
                rows=len(rows),
                unchanged=unchanged,
                encoding=encoding,
                actor=actor,
                request=request,
            )
        )
    except IntegrityError:
        # Another upload of the same bytes won the race: that one is the import.
        earlier = previous_import(sha256)
        if earlier is None:
            raise
        return ImportOutcome(earlier, duplicate=True)


def _reject(
    data: bytes,
    sha256: str,
    filename: str,
    problems: _Problems,
    *,
    rows: int,
    encoding: str,
    actor: Any,
    request: Any,
) -> ImportedFile:
    with transaction.atomic():
        record = ImportedFile.objects.create(
            kind=ImportedFile.Kind.CHARGES,
            filename=filename,
            sha256=sha256,
            size=len(data),
            status=ImportedFile.Status.REJECTED,
            rows=rows,
            summary={"problems": problems.total, "encoding": encoding},
            problems=[p.as_dict() for p in problems.items],
            uploaded_by=actor if getattr(actor, "pk", None) else None,
        )
        audit.record(
            "payments.charges_rejected",
            request=request,
            actor=actor,
            target=record,
            details={"filename": filename, "sha256": sha256, "problems": problems.total},
        )
    return record


def _apply(
    groups: list[_Group],
    *,
    sha256: str,
    size: int,
    filename: str,
    rows: int,
    unchanged: int,
    encoding: str,
    actor: Any,
    request: Any,
) -> ImportedFile:
    from cityhall.payments.services import notices

    links = _payer_links(sorted({g.first.payer_key for g in groups}))
    with transaction.atomic():
        record = ImportedFile.objects.create(
            kind=ImportedFile.Kind.CHARGES,
            filename=filename,
            sha256=sha256,
            size=size,
            status=ImportedFile.Status.APPLIED,
            rows=rows,
            uploaded_by=actor if getattr(actor, "pk", None) else None,
        )
        charges = [
            Charge(
                kind_id=g.first.kind_id,
                fiscal_year=g.first.fiscal_year,
                tax_year=g.first.tax_year,
                reference=g.first.reference,
                payer_key=g.first.payer_key,
                payer_name=g.first.name,
                payer_kana=g.first.kana,
                payer_postal_code=g.first.postal_code,
                payer_address=g.first.address,
                resident_id=links.get(g.first.payer_key),
                source=Charge.Source.IMPORT,
                imported_file=record,
                total_yen=sum(r.amount for r in g.rows),
            )
            for g in groups
        ]
        Charge.objects.bulk_create(charges, batch_size=CHUNK)
        installments = [
            Installment(
                charge_id=charge.pk, period=r.period, amount_yen=r.amount, due_date=r.due_date
            )
            for charge, g in zip(charges, groups, strict=True)
            for r in sorted(g.rows, key=lambda r: r.period)
        ]
        Installment.objects.bulk_create(installments, batch_size=CHUNK)
        issued = notices.issue_for_installments([i.pk for i in installments]) if installments else 0
        record.summary = {
            "charges": len(charges),
            "installments": len(installments),
            "unchanged": unchanged,
            "linked": sum(1 for c in charges if c.resident_id),
            "notices": issued,
            "total_yen": sum(i.amount_yen for i in installments),
            "encoding": encoding,
        }
        record.save(update_fields=["summary"])
        audit.record(
            "payments.charges_imported",
            request=request,
            actor=actor,
            target=record,
            details={"filename": filename, "sha256": sha256, **record.summary},
        )
    return record
