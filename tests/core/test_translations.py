"""The UI catalogues are complete, consistent with their English source and compiled.

Every language except English must translate every entry; English keeps the msgid
(an empty msgstr) unless a plainer wording replaces Django's own. A stale .mo file,
a fuzzy entry, a lost placeholder or a hard word in やさしい日本語 fails here.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import polib
import pytest

LOCALE_DIR = Path(__file__).resolve().parents[2] / "src" / "cityhall" / "locale"

# Django locale directory -> number of plural forms in its Plural-Forms header.
NPLURALS = {
    "ja": 1,
    "ja_Easy": 1,
    "pt_BR": 2,
    "vi": 1,
    "zh_Hans": 1,
    "es": 2,
    "en": 2,
}
# Django language code (settings.LANGUAGES) -> locale directory.
LOCALE_OF = {
    "ja": "ja",
    "ja-easy": "ja_Easy",
    "pt-br": "pt_BR",
    "vi": "vi",
    "zh-hans": "zh_Hans",
    "es": "es",
    "en": "en",
}
TRANSLATED = [loc for loc in NPLURALS if loc != "en"]

# Entries whose translation is legitimately the same as the English msgid.
SAME_AS_SOURCE: dict[str, set[str]] = {
    "*": {"LINE"},  # brand name
    "pt_BR": {"E-mail"},  # the Brazilian word for e-mail
    "es": {"Error", "No"},  # the same words in Spanish
}

# Words the やさしい日本語 guideline (出入国在留管理庁・文化庁) rewrites in plain words
# (記入 → 書く, 提出 → 出す, 避難 → にげる, 確認 → たしかめる …) and honorific or humble
# forms it asks to avoid. None of them may appear in a ja_Easy msgstr.
EASY_JAPANESE_HARD_WORDS = (
    "記入",
    "提出",
    "避難",
    "申請書",
    "記載",
    "確認",
    "閲覧",
    "該当",
    "所定",
    "速やかに",
    "直ちに",
    "いたします",
    "でございます",
    "させていただ",
    "申し上げ",
    "恐れ入り",
    "おります",
    "ご利用",
    "お試し",
)

PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\{\s*\w+\s*\}\}|\{\w*\}")
# Kana and kanji: in Latin-script languages, Japanese is allowed only inside
# parentheses, as the term a resident shows at the counter: "distrito (住民自治協議会)".
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
PARENTHESISED = re.compile(r"\([^()]*\)|（[^（）]*）")
LATIN_SCRIPT = ("pt_BR", "vi", "es", "en")


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "django.po"


def load(locale: str) -> polib.POFile:
    return polib.pofile(str(po_path(locale)))


def msgstrs(entry: polib.POEntry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text))


@pytest.fixture(scope="module", params=list(NPLURALS))
def catalogue(request: pytest.FixtureRequest) -> tuple[str, polib.POFile]:
    return request.param, load(request.param)


def test_every_language_has_a_catalogue_and_a_compiled_file() -> None:
    for locale in NPLURALS:
        assert po_path(locale).is_file(), f"missing {po_path(locale)}"
        assert po_path(locale).with_suffix(".mo").is_file(), f"run compilemessages for {locale}"


def test_settings_languages_all_have_a_catalogue(settings) -> None:
    assert {code for code, _ in settings.LANGUAGES} == set(LOCALE_OF)


def test_header_is_clean(catalogue: tuple[str, polib.POFile]) -> None:
    locale, po = catalogue
    assert not po.metadata_is_fuzzy, f"{locale}: the header is still marked fuzzy"
    assert po.metadata.get("Content-Type") == "text/plain; charset=UTF-8"
    plural_forms = po.metadata.get("Plural-Forms", "")
    assert f"nplurals={NPLURALS[locale]};" in plural_forms.replace(" ", ""), plural_forms


def test_no_fuzzy_and_no_obsolete_entries(catalogue: tuple[str, polib.POFile]) -> None:
    locale, po = catalogue
    fuzzy = [e.msgid for e in po if "fuzzy" in e.flags]
    assert not fuzzy, f"{locale}: fuzzy entries are ignored at runtime: {fuzzy}"
    obsolete = [e.msgid for e in po.obsolete_entries()]
    assert not obsolete, f"{locale}: obsolete entries: {obsolete}"


def test_every_entry_is_translated(catalogue: tuple[str, polib.POFile]) -> None:
    locale, po = catalogue
    if locale == "en":
        pytest.skip("English uses the msgid when msgstr is empty")
    untranslated = [e.msgid for e in po if not all(msgstrs(e))]
    assert not untranslated, f"{locale}: {len(untranslated)} untranslated: {untranslated}"


def test_plural_entries_have_every_form(catalogue: tuple[str, polib.POFile]) -> None:
    locale, po = catalogue
    for entry in po:
        if entry.msgid_plural:
            assert len(entry.msgstr_plural) == NPLURALS[locale], (locale, entry.msgid)


def test_translation_is_not_a_copy_of_the_source(catalogue: tuple[str, polib.POFile]) -> None:
    locale, po = catalogue
    if locale == "en":
        pytest.skip("English may keep the source")
    allowed = SAME_AS_SOURCE["*"] | SAME_AS_SOURCE.get(locale, set())
    copies = [
        e.msgid
        for e in po
        if e.msgid not in allowed
        and any(s.strip() in (e.msgid.strip(), e.msgid_plural.strip()) for s in msgstrs(e))
    ]
    assert not copies, f"{locale}: msgstr equals the English msgid: {copies}"


def test_allowlist_is_still_needed() -> None:
    """Keep SAME_AS_SOURCE short and true: every listed msgid exists somewhere."""
    msgids = {e.msgid for locale in TRANSLATED for e in load(locale)}
    listed = set().union(*SAME_AS_SOURCE.values())
    assert listed <= msgids, f"remove from SAME_AS_SOURCE: {listed - msgids}"


def test_placeholders_are_kept(catalogue: tuple[str, polib.POFile]) -> None:
    locale, po = catalogue
    problems = []
    for entry in po:
        if entry.msgid_plural:
            # One-form languages translate the plural sentence; each form keeps its placeholders.
            expected = [placeholders(entry.msgid_plural)] * len(entry.msgstr_plural)
            if len(entry.msgstr_plural) > 1:
                expected[0] = placeholders(entry.msgid)
        else:
            expected = [placeholders(entry.msgid)]
        for want, text in zip(expected, msgstrs(entry), strict=True):
            if text and placeholders(text) != want:
                problems.append((entry.msgid, text))
        if "python-format" in entry.flags:
            for text in msgstrs(entry):
                rest = PLACEHOLDER.sub("", text).replace("%%", "")
                if "%" in rest:
                    problems.append((entry.msgid, f"stray % in {text!r}: write %%"))
    assert not problems, f"{locale}: placeholders differ: {problems}"


def test_latin_script_languages_keep_japanese_only_in_parentheses(
    catalogue: tuple[str, polib.POFile],
) -> None:
    locale, po = catalogue
    if locale not in LATIN_SCRIPT:
        pytest.skip("Japanese and Chinese are written in kanji and kana")
    leaks = [
        (e.msgid, text)
        for e in po
        for text in msgstrs(e)
        if JAPANESE.search(PARENTHESISED.sub("", text))
    ]
    assert not leaks, f"{locale}: Japanese text outside parentheses: {leaks}"


def test_easy_japanese_avoids_hard_words() -> None:
    po = load("ja_Easy")
    found = [
        (word, e.msgid, text)
        for e in po
        for text in msgstrs(e)
        for word in EASY_JAPANESE_HARD_WORDS
        if word in text
    ]
    assert not found, f"ja_Easy uses words the guideline rewrites: {found}"


def test_easy_japanese_uses_arabic_half_width_digits() -> None:
    po = load("ja_Easy")
    wide = [text for e in po for text in msgstrs(e) if re.search(r"[０-９]", text)]
    assert not wide, f"ja_Easy: write numbers as 1, 2, 3: {wide}"


def test_compiled_file_matches_the_catalogue(catalogue: tuple[str, polib.POFile]) -> None:
    locale, po = catalogue
    mo = polib.mofile(str(po_path(locale).with_suffix(".mo")))

    def table(entries) -> dict[tuple[str | None, str], tuple[str, ...]]:
        return {(e.msgctxt, e.msgid): tuple(msgstrs(e)) for e in entries if e.msgid}

    expected = table(e for e in po.translated_entries())
    compiled = table(mo)
    assert compiled == expected, (
        f"{locale}: django.mo is stale; run `cityhall compilemessages` "
        f"(only in .po: {sorted(set(expected) - set(compiled))[:5]}, "
        f"only in .mo: {sorted(set(compiled) - set(expected))[:5]})"
    )
    assert mo.metadata.get("Plural-Forms") == po.metadata.get("Plural-Forms")


@pytest.mark.parametrize("code", list(LOCALE_OF))
def test_django_serves_each_language_from_its_catalogue(code: str) -> None:
    from django.utils import translation

    entry = load(LOCALE_OF[code]).find("Sign up")
    assert entry is not None
    with translation.override(code):
        assert translation.gettext("Sign up") == (entry.msgstr or entry.msgid)
