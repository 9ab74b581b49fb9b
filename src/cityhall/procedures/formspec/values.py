"""Each field type's answer: its JSON shape, how raw input is normalised, and what is wrong with it.

Shapes (``None`` or absent means not answered):

- text, textarea, address, email, select, choice: ``str``
- phone: ``str`` of half-width digits and hyphens, e.g. ``"0595-22-2500"``
- postal_code: ``"518-8501"``
- number: ``int``
- name: ``{"family": "伊賀", "given": "太郎", "family_kana": "イガ", "given_kana": "タロウ"}``
  (readings in full-width katakana; hiragana input is converted)
- date: ISO ``"2026-11-26"`` (input may be 西暦 or 和暦, full-width digits allowed)
- multichoice: ``list[str]``
- yesno: ``bool``; consent: ``True``
- file: ``list[int]`` (attachment ids)
- signature: ``{"typed": "伊賀 太郎"}`` and/or ``{"attachment": 12}``
- group: ``list[dict]`` of sub-answers
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from cityhall.procedures.formspec import wareki
from cityhall.procedures.formspec.conditions import is_visible
from cityhall.procedures.formspec.schema import DEFAULT_MAX_LENGTH, Field, FieldType

NAME_PARTS = ("family", "given", "family_kana", "given_kana")
KANA_PARTS = ("family_kana", "given_kana")
MAX_FILES = 10
MAX_SIGNATURE_LENGTH = 200
MAX_EMAIL_LENGTH = 254
SIGNATURE_KEYS = ("typed", "attachment")
TRUE_WORDS = frozenset({"yes", "y", "true", "on", "1", "はい"})
FALSE_WORDS = frozenset({"no", "n", "false", "off", "0", "いいえ"})


class ValueProblem(ValueError):
    """Why an answer is not acceptable: a stable ``code`` and its ``params`` (for messages).

    Inside a group, ``path`` says where below the group (``"0.birthdate"``).
    """

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        self.path = ""
        super().__init__(code)


# --- text helpers -------------------------------------------------------------------------

# CJK compatibility ideographs (神 U+FA19 …) are distinct glyphs people's names are
# registered with (異体字); NFKC would replace them, so they are kept as typed.
_COMPAT_IDEOGRAPHS = re.compile(r"([\uF900-\uFAFF\U0002F800-\U0002FA1F]+)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_DASHES = str.maketrans(
    {"ー": "-", "－": "-", "‐": "-", "‑": "-", "–": "-", "—": "-", "−": "-", "―": "-"}
)


def nfkc(text: str) -> str:
    """Full-width letters and digits to half-width, half-width kana to full-width; kanji kept."""
    parts = _COMPAT_IDEOGRAPHS.split(text)
    return "".join(p if i % 2 else unicodedata.normalize("NFKC", p) for i, p in enumerate(parts))


def clean_text(text: str, *, multiline: bool = False) -> str:
    """NFKC, no control characters, stripped; one line unless ``multiline``."""
    text = nfkc(text).replace("\r\n", "\n").replace("\r", "\n")
    if multiline:
        text = "\n".join(
            _CONTROL.sub("", line.replace("\t", " ")).rstrip() for line in text.split("\n")
        )
    else:
        text = _CONTROL.sub("", re.sub(r"[\n\t]+", " ", text))
    return text.strip()


def to_katakana(text: str) -> str:
    """Hiragana to katakana (ぁ-ゖ, ゝゞ → ァ-ヶ, ヽヾ)."""
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" or c in "ゝゞ" else c for c in text)


_KANA_RE = re.compile(r"^[\u30A1-\u30FA\u30FC\u30FB\u30FD\u30FE ]+$")


def kana(text: str) -> str:
    """A reading in full-width katakana (spaces collapsed); ``ValueProblem("kana_only")``."""
    s = re.sub(r"\s+", " ", to_katakana(nfkc(text))).strip()
    s = s.replace("･", "・")
    if s and not _KANA_RE.match(s):
        raise ValueProblem("kana_only")
    return s


def _text_of(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bool):
        raise ValueProblem("invalid")
    if isinstance(raw, int | float):
        return str(raw)
    if isinstance(raw, list | tuple) and len(raw) == 1:
        return _text_of(raw[0])
    if not isinstance(raw, str):
        raise ValueProblem("invalid")
    return raw


# --- per type -----------------------------------------------------------------------------


def _text(field: Field, raw: Any) -> str | None:
    try:
        s = clean_text(_text_of(raw), multiline=field.type == FieldType.TEXTAREA)
    except ValueProblem:
        raise ValueProblem("invalid_text") from None
    if not s:
        return None
    limit = field.max_length or DEFAULT_MAX_LENGTH.get(field.type)
    if limit and len(s) > limit:
        raise ValueProblem("too_long", max=limit)
    return s


_EMAIL_RE = re.compile(
    r"^[^@\s\"(),:;<>\[\\\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


def _email(raw: Any) -> str | None:
    try:
        s = clean_text(_text_of(raw))
    except ValueProblem:
        raise ValueProblem("invalid_email") from None
    if not s:
        return None
    local, _at, domain = s.rpartition("@")
    s = f"{local}@{domain.lower()}"
    if len(s) > MAX_EMAIL_LENGTH or ".." in s or not _EMAIL_RE.match(s):
        raise ValueProblem("invalid_email")
    return s


_PHONE_GROUPS = re.compile(r"^0[0-9]{0,4}-[0-9]{1,4}-[0-9]{3,4}$")
_MIE_AREA_CODES = ("0594", "0595", "0596", "0597", "0598", "0599")


def format_phone(digits: str) -> str:
    """Hyphens for a Japanese number of 10 or 11 digits (a sensible guess for area codes)."""
    if len(digits) == 11:
        if digits.startswith("0800"):
            return f"{digits[:4]}-{digits[4:7]}-{digits[7:]}"
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"  # 090/080/070/050
    if digits.startswith(("0120", "0570")):
        return f"{digits[:4]}-{digits[4:7]}-{digits[7:]}"
    if digits.startswith(("03", "06")):
        return f"{digits[:2]}-{digits[2:6]}-{digits[6:]}"
    if digits.startswith(_MIE_AREA_CODES):
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"


def _phone(raw: Any) -> str | None:
    try:
        s = clean_text(_text_of(raw)).translate(_DASHES)
    except ValueProblem:
        raise ValueProblem("invalid_phone") from None
    if not s:
        return None
    s = s.replace("(", "-").replace(")", "-")
    s = re.sub(r"[\s.]+", "-", s)
    if s.startswith("+"):
        if not s.startswith("+81"):
            raise ValueProblem("invalid_phone")
        rest = s[3:].lstrip("-")
        if rest.startswith("0-"):  # +81 (0)595 …
            rest = rest[2:]
        s = rest if rest.startswith("0") else "0" + rest
    s = re.sub(r"-+", "-", s).strip("-")
    if not re.fullmatch(r"[0-9-]+", s):
        raise ValueProblem("invalid_phone")
    digits = s.replace("-", "")
    if len(digits) not in (10, 11) or not digits.startswith("0") or digits.startswith("00"):
        raise ValueProblem("invalid_phone")
    return s if _PHONE_GROUPS.match(s) else format_phone(digits)


def _postal_code(raw: Any) -> str | None:
    try:
        s = clean_text(_text_of(raw)).translate(_DASHES)
    except ValueProblem:
        raise ValueProblem("invalid_postal_code") from None
    s = re.sub(r"[\s〒-]", "", s)
    if not s:
        return None
    if not re.fullmatch(r"[0-9]{7}", s):
        raise ValueProblem("invalid_postal_code")
    return f"{s[:3]}-{s[3:]}"


def _number(field: Field, raw: Any) -> int | None:
    if isinstance(raw, bool):
        raise ValueProblem("not_a_number")
    if isinstance(raw, int):
        n = raw
    elif isinstance(raw, float):
        if not raw.is_integer():
            raise ValueProblem("not_a_number")
        n = int(raw)
    else:
        try:
            s = clean_text(_text_of(raw)).translate(_DASHES).replace(",", "").replace(" ", "")
        except ValueProblem:
            raise ValueProblem("not_a_number") from None
        if not s:
            return None
        if not re.fullmatch(r"[+-]?[0-9]{1,15}", s):
            raise ValueProblem("not_a_number")
        n = int(s)
    if isinstance(field.min, int | float) and n < field.min:
        raise ValueProblem("too_small", min=field.min)
    if isinstance(field.max, int | float) and n > field.max:
        raise ValueProblem("too_large", max=field.max)
    return n


def date_bound(bound: Any, today: date) -> date | None:
    """A date field's ``min``/``max``: an ISO date or ``"today"``; None if unset or unreadable."""
    if bound is None:
        return None
    if bound == "today":
        return today
    if isinstance(bound, date):
        return bound
    try:
        return date.fromisoformat(str(bound))
    except ValueError:
        return None


def _date(field: Field, raw: Any, today: date) -> str | None:
    d: date
    if raw is None:
        return None
    if isinstance(raw, datetime):
        d = raw.date()
    elif isinstance(raw, date):
        d = raw
    elif isinstance(raw, Mapping):
        parts = {k: clean_text(str(raw.get(k) or "")) for k in ("era", "year", "month", "day")}
        if not any(parts[k] for k in ("year", "month", "day")):
            return None
        try:
            year = 1 if parts["year"] == "元" else int(parts["year"])
            month, day = int(parts["month"]), int(parts["day"])
            era = parts["era"]
            if era.upper() in ("", "AD") or era == "西暦":
                d = date(year, month, day)
            else:
                d = wareki.from_wareki(era, year, month, day)
        except ValueError:
            raise ValueProblem("invalid_date") from None
    elif isinstance(raw, str):
        if not raw.strip():
            return None
        try:
            d = wareki.parse_date(raw)
        except ValueError:
            raise ValueProblem("invalid_date") from None
    else:
        raise ValueProblem("invalid_date")
    if d.year < 1000:
        raise ValueProblem("invalid_date")
    low, high = date_bound(field.min, today), date_bound(field.max, today)
    if low and d < low:
        raise ValueProblem("date_too_early", min=low.isoformat())
    if high and d > high:
        raise ValueProblem("date_too_late", max=high.isoformat())
    return d.isoformat()


def _name(field: Field, raw: Any) -> dict[str, str] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = split_name(raw)
    if not isinstance(raw, Mapping):
        raise ValueProblem("name_incomplete", parts=list(NAME_PARTS))
    out: dict[str, str] = {}
    for part in NAME_PARTS:
        value = raw.get(part)
        if value is not None and not isinstance(value, str):
            raise ValueProblem("name_incomplete", parts=[part])
        text = value or ""
        out[part] = kana(text) if part in KANA_PARTS else re.sub(r"\s+", " ", clean_text(text))
    if not any(out.values()):
        return None
    limit = field.max_length or 100
    if any(len(v) > limit for v in out.values()):
        raise ValueProblem("too_long", max=limit)
    needed = NAME_PARTS if field.required else ("family", "given")
    missing = [p for p in needed if not out[p]]
    if missing:
        raise ValueProblem("name_incomplete", parts=missing)
    return out


def split_name(full: str) -> dict[str, str]:
    """``"伊賀 太郎"`` or ``"伊賀　太郎"`` → family and given, split on the first space."""
    s = re.sub(r"\s+", " ", clean_text(full))
    family, _sp, given = s.partition(" ")
    return {"family": family, "given": given, "family_kana": "", "given_kana": ""}


def _choice(field: Field, raw: Any) -> str | None:
    try:
        s = _text_of(raw).strip()
    except ValueProblem:
        raise ValueProblem("invalid_choice") from None
    if not s:
        return None
    if s not in field.choice_values():
        raise ValueProblem("invalid_choice")
    return s


def _multichoice(field: Field, raw: Any) -> list[str] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list | tuple | set | frozenset):
        raise ValueProblem("invalid_choice")
    picked: set[str] = set()
    for item in raw:
        if not isinstance(item, str):
            raise ValueProblem("invalid_choice")
        if item.strip():
            picked.add(item.strip())
    if not picked:
        return None
    allowed = field.choice_values()
    if picked - set(allowed):
        raise ValueProblem("invalid_choice")
    return [v for v in allowed if v in picked]  # in the form's order


def _yesno(raw: Any) -> bool | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, list | tuple) and len(raw) == 1:
        return _yesno(raw[0])
    if isinstance(raw, str):
        s = clean_text(raw).lower()
        if not s:
            return None
        if s in TRUE_WORDS:
            return True
        if s in FALSE_WORDS:
            return False
    raise ValueProblem("invalid_choice")


def _consent(raw: Any) -> bool | None:
    value = _yesno(raw)
    return True if value else None


def _ids(raw: Any, code: str) -> list[int] | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, list | tuple):
        raw = [raw]
    out: list[int] = []
    for item in raw:
        if isinstance(item, str) and item.strip().isdigit():
            item = int(item.strip())
        if isinstance(item, bool) or not isinstance(item, int) or item <= 0:
            raise ValueProblem(code)
        if item not in out:
            out.append(item)
    return out or None


def _file(raw: Any) -> list[int] | None:
    ids = _ids(raw, "invalid_file")
    if ids and len(ids) > MAX_FILES:
        raise ValueProblem("too_many_items", max=MAX_FILES)
    return ids


def _signature(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = {"typed": raw}
    if not isinstance(raw, Mapping) or set(raw) - set(SIGNATURE_KEYS):
        raise ValueProblem("invalid_signature")
    out: dict[str, Any] = {}
    typed = raw.get("typed")
    if typed is not None:
        if not isinstance(typed, str):
            raise ValueProblem("invalid_signature")
        typed = re.sub(r"\s+", " ", clean_text(typed))
        if len(typed) > MAX_SIGNATURE_LENGTH:
            raise ValueProblem("too_long", max=MAX_SIGNATURE_LENGTH)
        if typed:
            out["typed"] = typed
    attachment = raw.get("attachment")
    if attachment not in (None, ""):
        ids = _ids(attachment, "invalid_signature")
        if not ids or len(ids) != 1:
            raise ValueProblem("invalid_signature")
        out["attachment"] = ids[0]
    return out or None


def group_items(raw: Any) -> list[Any]:
    """A group's raw items as a list (a ``{"0": {...}, "1": {...}}`` mapping is accepted too)."""
    if raw is None or raw == "":
        return []
    if isinstance(raw, Mapping):
        try:
            return [raw[k] for k in sorted(raw, key=lambda k: int(k))]
        except (TypeError, ValueError):
            raise ValueProblem("invalid") from None
    if not isinstance(raw, list | tuple):
        raise ValueProblem("invalid")
    return list(raw)


def normalize_item(
    group: Field,
    raw: Any,
    answers: Mapping[str, Any] | None = None,
    *,
    today: date | None = None,
    counter: bool = True,
) -> tuple[dict[str, Any], list[tuple[str, ValueProblem]]]:
    """One group item: its visible sub-answers (None for unanswered) and its problems by sub-key.

    Required sub-fields are checked here (``required`` / ``must_consent``). Conditions on
    siblings are tested against the item; on top-level fields against ``answers`` (when
    ``answers`` is None such sub-fields count as shown).
    """
    siblings = {f.key for f in group.fields}
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        return {}, [("", ValueProblem("invalid"))]
    item: dict[str, Any] = {}
    problems: list[tuple[str, ValueProblem]] = []
    for sub in group.fields:
        if not sub.has_value or (sub.counter_only and not counter):
            continue
        unknown = (
            answers is None and sub.condition is not None and sub.condition.field not in siblings
        )
        if not unknown and not is_visible(sub, answers or {}, item, group=group):
            continue
        try:
            value = normalize(sub, raw.get(sub.key), today=today)
        except ValueProblem as problem:
            problems.append((sub.key, problem))
            item[sub.key] = None
            continue
        if value is None and sub.required:
            problems.append((sub.key, ValueProblem(missing_code(sub))))
        item[sub.key] = value
    return item, problems


def missing_code(field: Field) -> str:
    """The code for a required field left empty."""
    return "must_consent" if field.type == FieldType.CONSENT else "required"


def item_is_blank(group: Field, raw: Any) -> bool:
    """A group item whose inputs are all empty (a blank row the resident did not fill)."""
    if not isinstance(raw, Mapping):
        return raw is None
    for sub in group.fields:
        value = raw.get(sub.key)
        if value is None:
            continue
        if isinstance(value, str):
            if value.strip():
                return False
        elif isinstance(value, Mapping):
            if any(v not in (None, "", "AD") for k, v in value.items() if k != "era"):
                return False
        elif isinstance(value, list | tuple):
            if any(v not in (None, "") for v in value):
                return False
        elif value is False and sub.type == FieldType.CONSENT:
            continue  # an unticked box
        else:
            return False  # a number, True, or a deliberate "no"
    return True


def _group(field: Field, raw: Any, today: date) -> list[dict[str, Any]] | None:
    items = group_items(raw)
    out: list[dict[str, Any]] = []
    for index, raw_item in enumerate(items):
        if item_is_blank(field, raw_item):
            continue
        item, problems = normalize_item(field, raw_item, today=today)
        if problems:
            key, problem = problems[0]
            problem.path = f"{index}.{key}" if key else str(index)
            raise problem
        out.append({k: v for k, v in item.items() if v is not None})
    if not out:
        return None
    if len(out) > field.max_items:
        raise ValueProblem("too_many_items", max=field.max_items)
    if len(out) < field.min_items:
        raise ValueProblem("too_few_items", min=field.min_items)
    return out


# --- the public functions -----------------------------------------------------------------


def normalize(field: Field, raw: Any, *, today: date | None = None) -> Any:
    """The answer in its JSON shape, or ``None`` if empty; raise :class:`ValueProblem`.

    Idempotent: ``normalize(f, normalize(f, raw)) == normalize(f, raw)``. A required field
    left empty is *not* an error here (the caller knows whether the field is shown);
    ``today`` resolves ``"today"`` in a date's ``min``/``max``.
    """
    today = today or date.today()
    t = field.type
    if t in (FieldType.TEXT, FieldType.TEXTAREA, FieldType.ADDRESS):
        return _text(field, raw)
    if t == FieldType.EMAIL:
        return _email(raw)
    if t == FieldType.PHONE:
        return _phone(raw)
    if t == FieldType.POSTAL_CODE:
        return _postal_code(raw)
    if t == FieldType.NUMBER:
        return _number(field, raw)
    if t == FieldType.DATE:
        return _date(field, raw, today)
    if t == FieldType.NAME:
        return _name(field, raw)
    if t in (FieldType.CHOICE, FieldType.SELECT):
        return _choice(field, raw)
    if t == FieldType.MULTICHOICE:
        return _multichoice(field, raw)
    if t == FieldType.YESNO:
        return _yesno(raw)
    if t == FieldType.CONSENT:
        return _consent(raw)
    if t == FieldType.FILE:
        return _file(raw)
    if t == FieldType.SIGNATURE:
        return _signature(raw)
    if t == FieldType.GROUP:
        return _group(field, raw, today)
    return None  # info


def is_empty(field: Field, value: Any) -> bool:
    """Whether an answer (normalised or raw) counts as not given."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, bool):
        return field.type == FieldType.CONSENT and not value
    if isinstance(value, Mapping):
        if field.type == FieldType.DATE:  # the era of an otherwise empty date is no answer
            value = {k: v for k, v in value.items() if k != "era"}
        return all(
            v in (None, "") or (isinstance(v, str) and not v.strip()) for v in value.values()
        )
    if isinstance(value, list | tuple):
        if field.type == FieldType.GROUP:
            return all(item_is_blank(field, item) for item in value)
        return all(v in (None, "") for v in value)
    return False


def coerce(field: Field, value: Any) -> Any:
    """A prefill value in this field's shape, or ``None`` if it does not fit; never raises."""
    try:
        return _coerce(field, value)
    except Exception:  # a prefill source may hold anything; it just does not fit
        return None


def _coerce(field: Field, value: Any) -> Any:
    if value is None or field.type in (
        FieldType.CONSENT,  # consent is given each time, never carried over
        FieldType.FILE,
        FieldType.SIGNATURE,
        FieldType.INFO,
    ):
        return None
    t = field.type
    if t == FieldType.NAME:
        if isinstance(value, str):
            value = split_name(value)
        if not isinstance(value, Mapping):
            return None
        out: dict[str, str] = {}
        for part in NAME_PARTS:
            text = value.get(part) or ""
            if not isinstance(text, str):
                return None
            if part in KANA_PARTS:
                try:
                    out[part] = kana(text)
                except ValueProblem:
                    out[part] = ""
            else:
                out[part] = re.sub(r"\s+", " ", clean_text(text))
        return out if out["family"] else None
    if t in (FieldType.TEXT, FieldType.TEXTAREA, FieldType.ADDRESS):
        if isinstance(value, Mapping) and "family" in value:
            value = " ".join(str(value.get(p) or "") for p in ("family", "given")).strip()
        if isinstance(value, date):
            value = value.isoformat()
    if t in (FieldType.CHOICE, FieldType.SELECT) and isinstance(value, str):
        value = _choice_by_label(field, value)
    if t == FieldType.MULTICHOICE:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            return None
        allowed = field.choice_values()
        value = [
            v
            for v in (_choice_by_label(field, i) for i in items if isinstance(i, str))
            if v in allowed
        ]
    if t == FieldType.GROUP:
        if not isinstance(value, list | tuple):
            return None
        items_out = []
        for raw_item in value:
            if not isinstance(raw_item, Mapping):
                continue
            item = {}
            for sub in field.fields:
                sub_value = coerce(sub, raw_item.get(sub.key))
                if sub_value is not None:
                    item[sub.key] = sub_value
            if item:
                items_out.append(item)
        return items_out[: field.max_items] or None
    try:
        return normalize(field, value)
    except ValueProblem:
        return None


def _choice_by_label(field: Field, text: str) -> str:
    """A choice's value from its value or any of its labels."""
    s = text.strip()
    if s in field.choice_values():
        return s
    folded = nfkc(s).casefold()
    for choice in field.choices:
        if any(nfkc(label).casefold() == folded for label in choice.label.values()):
            return choice.value
    return s
