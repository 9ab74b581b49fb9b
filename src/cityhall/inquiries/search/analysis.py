"""Text analysis for FAQ search and ticket classification.

Stable interface: ``terms(text)`` returns the index terms of a text in any language.

Japanese (日本語) goes through SudachiPy (形態素解析): each content morpheme gives its
normalized form (``normalized_form``: 表記ゆれ folded, e.g. ｺﾞﾐ/ごみ/ゴミ → ゴミ) as a word term,
the pieces of a compound in split mode A as extra terms (住民票の写し → 住民票, 写し; 国民健康保険 →
国民, 健康, 保険), and its reading in hiragana (読み) as a low-weight term so that a query typed
in kana finds the kanji text. Particles, auxiliary verbs, symbols and the filler words of
questions (教えて, ください, どう, 方法 …) are dropped. Character n-grams of the folded text are a
fallback for unknown words and typos.

Latin-script languages get a small analyzer (lowercase, accents stripped, light stemming for
en/pt/es; Vietnamese keeps each syllable with its tones and adds the tone-stripped form);
Chinese gets character bigrams.

Terms carry a one-letter prefix naming their kind, so that the kinds never collide in one
index: ``w:`` word, ``s:`` compound part, ``y:`` reading, ``g:`` character bigram,
``v:`` tone-stripped Vietnamese syllable (the engine adds ``r:`` reading bigrams, ``t:``
Latin trigrams and ``p:`` n-grams of the folded reading, see :func:`reading_ngrams`).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: Languages of the site and the analyzer each uses.
LATIN_LANGUAGES = frozenset({"en", "pt", "pt-br", "es", "vi"})
JAPANESE_LANGUAGES = frozenset({"ja", "ja-easy"})
CHINESE_LANGUAGES = frozenset({"zh", "zh-hans", "zh-hant"})

# Part-of-speech (品詞) classes that carry no meaning for search.
_DROP_POS = frozenset(
    {"助詞", "助動詞", "補助記号", "空白", "記号", "感動詞", "接続詞", "接頭辞", "代名詞"}
)

#: Filler words of questions to the city hall, as Sudachi normalized forms. Measured on the
#: evaluation set (bench/faq_quality.py); each of them appears in most questions.
STOP_WORDS_JA = frozenset(
    {
        "教える",
        "下さる",
        "為る",
        "居る",
        "有る",
        "成る",
        "良い",
        "知る",
        "知れる",
        "方法",
        "どう",
        "如何",
        "何",
        "分かる",
        "出来る",
        "思う",
        "言う",
        "御願い",
        "願う",
        "頂く",
        "貰う",
        "くれる",
        "此れ",
        "其れ",
        "事",
        "物",
        "所",
        "様",
        "為",
        "ん",
        "の",
        "よう",
        "みたい",
        "ちょっと",
        "一寸",
        "もう",
        "今",
        "です",
        "ます",
        "ない",
        "無い",
    }
)

_STOP_WORDS_LATIN: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "a",
            "an",
            "the",
            "i",
            "me",
            "my",
            "we",
            "our",
            "you",
            "your",
            "is",
            "are",
            "am",
            "was",
            "be",
            "been",
            "do",
            "does",
            "did",
            "how",
            "what",
            "when",
            "where",
            "which",
            "who",
            "why",
            "can",
            "could",
            "should",
            "would",
            "will",
            "to",
            "of",
            "in",
            "on",
            "at",
            "for",
            "from",
            "with",
            "by",
            "and",
            "or",
            "it",
            "its",
            "this",
            "that",
            "there",
            "please",
            "want",
            "need",
            "get",
            "about",
            "if",
            "not",
        ]
    ),
    "pt": frozenset(
        [
            "a",
            "o",
            "as",
            "os",
            "um",
            "uma",
            "uns",
            "umas",
            "de",
            "do",
            "da",
            "dos",
            "das",
            "em",
            "no",
            "na",
            "nos",
            "nas",
            "para",
            "por",
            "com",
            "como",
            "que",
            "qual",
            "quais",
            "quando",
            "onde",
            "eu",
            "meu",
            "minha",
            "meus",
            "minhas",
            "e",
            "ou",
            "se",
            "nao",
            "não",
            "é",
            "sao",
            "são",
            "posso",
            "pode",
            "preciso",
            "quero",
            "ser",
            "ter",
            "tem",
            "fazer",
            "sobre",
            "ao",
            "aos",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "un",
            "una",
            "unos",
            "unas",
            "de",
            "del",
            "en",
            "para",
            "por",
            "con",
            "como",
            "que",
            "cual",
            "cuales",
            "cuando",
            "donde",
            "yo",
            "mi",
            "mis",
            "y",
            "o",
            "se",
            "no",
            "es",
            "son",
            "puedo",
            "puede",
            "necesito",
            "quiero",
            "ser",
            "tener",
            "tiene",
            "hacer",
            "sobre",
            "al",
        ]
    ),
    "vi": frozenset(
        [
            "tôi",
            "toi",
            "của",
            "cua",
            "là",
            "la",
            "có",
            "co",
            "không",
            "khong",
            "thế",
            "the",
            "nào",
            "nao",
            "làm",
            "lam",
            "gì",
            "gi",
            "ở",
            "o",
            "được",
            "duoc",
            "muốn",
            "muon",
            "cần",
            "can",
            "cho",
            "và",
            "va",
            "với",
            "voi",
            "một",
            "mot",
            "những",
            "nhung",
            "các",
            "cac",
            "bạn",
            "ban",
            "xin",
            "hỏi",
            "hoi",
            "ạ",
            "a",
        ]
    ),
}

_KANA_RE = re.compile(r"[\u3041-\u309f\u30a0-\u30ff\uff66-\uff9f]")
_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_RE = re.compile(r"[a-zA-Z\u00c0-\u024f\u1e00-\u1eff]")
_VI_RE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)
_PT_RE = re.compile(r"[ãõç]|ção|ções", re.IGNORECASE)
_ES_RE = re.compile(r"[ñ¿¡]|ción|ciones", re.IGNORECASE)
_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
_MAX_CHARS = 2000  # longer texts are cut for the query analyzer


def fold(text: str) -> str:
    """NFKC (full/half width), lowercase, katakana → hiragana."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return folded.translate(_KATA_TO_HIRA)


_KATA_TO_HIRA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}


def to_hiragana(text: str) -> str:
    return text.translate(_KATA_TO_HIRA)


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.replace("đ", "d").replace("Đ", "D")


# --- language detection ---------------------------------------------------------------------


def base_language(code: str | None) -> str | None:
    """``pt-br`` → ``pt``, ``zh-hans`` → ``zh``, ``ja-easy`` → ``ja``; unknown → None."""
    if not code:
        return None
    code = code.lower()
    if code in JAPANESE_LANGUAGES:
        return "ja"
    if code in CHINESE_LANGUAGES:
        return "zh"
    head = code.split("-")[0]
    return head if head in {"en", "pt", "es", "vi", "ja", "zh"} else None


def detect_language(text: str, hint: str | None = None) -> str:
    """The analyzer language of a query: ``ja``, ``zh``, ``en``, ``pt``, ``es`` or ``vi``.

    The characters decide first (kana → Japanese; Han without kana → Chinese when the hint
    says so, else Japanese); Latin script takes the hint when it is a Latin language, else
    its diacritics and function words decide.
    """
    hinted = base_language(hint)
    if _KANA_RE.search(text):
        return "ja"
    if _HAN_RE.search(text):
        return "zh" if hinted == "zh" else "ja"
    if not _LATIN_RE.search(text):
        return hinted or "ja"
    if hinted in {"en", "pt", "es", "vi"}:
        return hinted
    if _VI_RE.search(text):
        return "vi"
    words = [strip_accents(w) for w in _WORD_RE.findall(text.lower())]
    votes = {
        lang: sum(1 for w in words if w in {strip_accents(s) for s in _STOP_WORDS_LATIN[lang]})
        for lang in ("en", "pt", "es")
    }
    if _PT_RE.search(text):
        votes["pt"] += 2
    if _ES_RE.search(text):
        votes["es"] += 2
    best = max(votes, key=lambda lang: (votes[lang], lang == "en"))
    return best if votes[best] > 0 else "en"


# --- Sudachi ----------------------------------------------------------------------------------

_lock = threading.Lock()
_local = threading.local()
_dictionary: Any = None


def _tokenizer() -> Any:
    """One Sudachi tokenizer per thread over one shared dictionary (created lazily)."""
    tok = getattr(_local, "tokenizer", None)
    if tok is None:
        global _dictionary
        with _lock:
            if _dictionary is None:
                from sudachipy import dictionary

                _dictionary = dictionary.Dictionary(dict="core")
            tok = _dictionary.tokenizer()
        _local.tokenizer = tok
    return tok


def _modes() -> tuple[Any, Any]:
    from sudachipy import tokenizer

    return tokenizer.Tokenizer.SplitMode.C, tokenizer.Tokenizer.SplitMode.A


@dataclass(frozen=True)
class JapaneseOptions:
    """Switches of the Japanese analyzer (measured in bench/faq_quality.py)."""

    split_compounds: bool = True
    readings: bool = True
    stop_words: bool = True


DEFAULT_JA = JapaneseOptions()


def _chunks(text: str, size: int = 2000) -> Iterable[str]:
    # Sudachi refuses very long inputs; cut at sentence ends where possible.
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            cut = max(text.rfind("。", start, end), text.rfind("\n", start, end))
            if cut > start:
                end = cut + 1
        yield text[start:end]
        start = end


def japanese_terms(text: str, options: JapaneseOptions = DEFAULT_JA) -> list[tuple[str, str]]:
    """(kind, term) pairs of a Japanese text: ``w`` words, ``s`` compound parts, ``y`` readings."""
    text = unicodedata.normalize("NFKC", text)
    if not text.strip():
        return []
    tok = _tokenizer()
    mode_c, mode_a = _modes()
    out: list[tuple[str, str]] = []
    for chunk in _chunks(text):
        try:
            morphemes = tok.tokenize(chunk, mode_c)
        except Exception:  # noqa: S112 - odd input must not break search
            continue
        for m in morphemes:
            pos = m.part_of_speech()
            if pos[0] in _DROP_POS:
                continue
            if pos[0] == "接尾辞" and pos[1] != "名詞的":
                continue
            norm = to_hiragana(unicodedata.normalize("NFKC", m.normalized_form()).lower())
            surface = m.surface().lower()
            if options.stop_words and (norm in STOP_WORDS_JA or surface in STOP_WORDS_JA):
                continue
            if not norm.strip():
                continue
            out.append(("w", norm))
            if options.split_compounds:
                parts = m.split(mode_a)
                if len(parts) > 1:
                    for p in parts:
                        ppos = p.part_of_speech()[0]
                        if ppos in _DROP_POS:
                            continue
                        pnorm = to_hiragana(
                            unicodedata.normalize("NFKC", p.normalized_form()).lower()
                        )
                        if pnorm != norm and pnorm not in STOP_WORDS_JA:
                            out.append(("s", pnorm))
            if options.readings:
                reading = to_hiragana(m.reading_form())
                if reading and reading != "キゴウ" and _KANA_RE.search(reading):
                    out.append(("y", reading))
    return out


def _bigrams(run: str, n: int) -> list[str]:
    if len(run) < n:
        return [run] if run else []
    return [run[i : i + n] for i in range(len(run) - n + 1)]


def japanese_ngrams(text: str, n: int = 2) -> tuple[list[str], list[str]]:
    """Character n-grams of a Japanese text's content words, as written (folded) and as
    read (hiragana), per run of content words: じゅうみんひょう typed in kana meets 住民票, and
    住民表 (a typo) still shares 住民. Particles, auxiliaries and filler words break the runs,
    so that たい of 取りたい and 入りたい does not make them alike."""
    text = unicodedata.normalize("NFKC", text)
    if not text.strip():
        return [], []
    tok = _tokenizer()
    mode_c, _ = _modes()
    written: list[str] = []
    read: list[str] = []
    for chunk in _chunks(text):
        try:
            morphemes = tok.tokenize(chunk, mode_c)
        except Exception:  # noqa: S112 - odd input must not break search
            continue
        surfaces: list[str] = []
        readings: list[str] = []
        for m in [*morphemes, None]:
            content = m is not None and m.part_of_speech()[0] not in _DROP_POS
            if content and m is not None:
                norm = m.normalized_form()
                content = norm not in STOP_WORDS_JA and m.surface() not in STOP_WORDS_JA
            if content and m is not None:
                surfaces.append(fold(m.surface()))
                reading = to_hiragana(m.reading_form())
                readings.append(reading if _KANA_RE.match(reading) else fold(m.surface()))
                continue
            written.extend(_bigrams("".join(surfaces), n))
            read.extend(_bigrams("".join(readings), n))
            surfaces, readings = [], []
    return written, read


# --- other languages ------------------------------------------------------------------------


def _stem(word: str, lang: str) -> str:
    if lang == "en":
        if word.endswith(("sses", "xes", "zes", "ches", "shes")) and len(word) > 5:
            return word[:-2]
        for suffix, repl in (("ies", "y"), ("ing", ""), ("ed", ""), ("s", "")):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
                return word[: -len(suffix)] + repl
        return word
    if lang in {"pt", "es"}:
        for suffix in ("coes", "ciones", "cao", "cion"):
            if word.endswith(suffix) and len(word) > len(suffix) + 2:
                return word[: -len(suffix)] + "c"
        if word.endswith("es") and len(word) > 4:
            word = word[:-2]
        elif word.endswith("s") and len(word) > 3:
            word = word[:-1]
        if word[-1:] in {"a", "o", "e"} and len(word) > 4:
            word = word[:-1]
        return word
    return word


def latin_terms(text: str, lang: str) -> list[tuple[str, str]]:
    """(kind, term) pairs of a Latin-script text in ``lang`` (en, pt, es, vi)."""
    text = unicodedata.normalize("NFKC", text).lower()
    stops = _STOP_WORDS_LATIN.get(lang, frozenset())
    out: list[tuple[str, str]] = []
    words = _WORD_RE.findall(text)
    if lang == "vi":
        kept = [w for w in words if w not in stops]
        for i, w in enumerate(kept):
            out.append(("w", w))
            out.append(("v", strip_accents(w)))
            if i + 1 < len(kept):
                out.append(("w", f"{w}_{kept[i + 1]}"))
        return out
    for w in words:
        if w in stops:
            continue
        plain = strip_accents(w)
        if plain in stops:
            continue
        if _HAN_RE.search(w) or _KANA_RE.search(w):
            out.extend(("g", g) for g in char_ngrams(w))
            continue
        out.append(("w", _stem(plain, lang)))
    return out


def char_ngrams(text: str, n: int = 2) -> list[str]:
    """Character n-grams of the folded text, per run of letters (no spaces or punctuation)."""
    grams: list[str] = []
    for run in _WORD_RE.findall(fold(text)):
        if len(run) < n:
            if run and not run.isascii():
                grams.append(run)
            continue
        grams.extend(run[i : i + n] for i in range(len(run) - n + 1))
    return grams


def chinese_terms(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for run in _WORD_RE.findall(unicodedata.normalize("NFKC", text).lower()):
        if _HAN_RE.search(run):
            out.extend(("g", g) for g in char_ngrams(run))
            out.extend(("w", c) for c in run if _HAN_RE.match(c))
        else:
            out.append(("w", run))
    return out


def analyze(text: str, lang: str, options: JapaneseOptions = DEFAULT_JA) -> list[tuple[str, str]]:
    """(kind, term) pairs of ``text`` analysed as ``lang`` (a base language code)."""
    if lang == "ja":
        return japanese_terms(text, options)
    if lang == "zh":
        return chinese_terms(text)
    return latin_terms(text, lang)


def terms(text: str) -> list[str]:
    """Index terms of ``text`` in any language (words; used by the ticket classifier)."""
    text = text[:20000]
    lang = detect_language(text)
    return [term for kind, term in analyze(text, lang) if kind in {"w", "s"}]


# --- readings as a field (kana-only queries, homophone typos) -------------------------------

_SMALL_KANA = str.maketrans("ぁぃぅぇぉっゃゅょゎゕゖ", "あいうえおつやゆよわかけ")
_VOICE_MARKS = frozenset({"\u3099", "\u309a", "\u309b", "\u309c"})
_HAS_HAN_RE = _HAN_RE
_RUN_BREAK_POS = frozenset({"補助記号", "空白", "記号"})


@dataclass(frozen=True)
class ReadingOptions:
    """How readings are folded before they are cut into n-grams (measured in the bench)."""

    #: n-gram sizes of the reading field.
    sizes: tuple[int, ...] = (2, 3)
    #: Drop the long-vowel mark ー (かーど = かど).
    long_vowel: bool = True
    #: Small kana as large ones (しょ = しよ, っ = つ).
    small_kana: bool = True
    #: Voiced and semi-voiced marks dropped (が = か, ぱ = は).
    voiced: bool = False


DEFAULT_READING = ReadingOptions()


def fold_reading(text: str, options: ReadingOptions = DEFAULT_READING) -> str:
    """A reading folded for matching: hiragana, without ー / small kana / voicing as asked."""
    text = fold(text)
    if options.long_vowel:
        text = text.replace("ー", "").replace("〜", "").replace("~", "")
    if options.small_kana:
        text = text.translate(_SMALL_KANA)
    if options.voiced:
        decomposed = unicodedata.normalize("NFD", text)
        text = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _VOICE_MARKS))
    return text


def is_kana_only(text: str) -> bool:
    """True when ``text`` has kana and no Han character (じゅうみんひょう とりたい)."""
    return bool(_KANA_RE.search(text)) and not _HAS_HAN_RE.search(text)


def reading_runs(text: str) -> list[str]:
    """The reading (読み) of a Japanese text in hiragana, one string per run between
    punctuation, spaces and ``|``. Kana-only text is taken as written: Sudachi often cuts
    long kana words wrongly (じゅう|みん|ひょう), the characters themselves are the reading.
    Words without a reading (unknown words, Latin letters) keep their folded surface."""
    text = unicodedata.normalize("NFKC", text)
    if not text.strip():
        return []
    if is_kana_only(text):
        return _WORD_RE.findall(fold(text))
    tok = _tokenizer()
    mode_c, _ = _modes()
    runs: list[str] = []
    for chunk in _chunks(text):
        try:
            morphemes = tok.tokenize(chunk, mode_c)
        except Exception:  # noqa: S112 - odd input must not break search
            continue
        current: list[str] = []
        for m in [*morphemes, None]:
            if m is not None and m.part_of_speech()[0] not in _RUN_BREAK_POS:
                surface = m.surface()
                if surface != "|":
                    reading = m.reading_form()
                    current.append(
                        to_hiragana(reading) if _KANA_RE.match(reading) else fold(surface)
                    )
                    continue
            if current:
                runs.append("".join(current))
            current = []
    return runs


def reading_ngrams(text: str, options: ReadingOptions = DEFAULT_READING) -> list[str]:
    """Character n-grams (sizes in ``options``) of the folded reading runs of ``text``."""
    grams: list[str] = []
    for run in reading_runs(text):
        folded = "".join(_WORD_RE.findall(fold_reading(run, options)))
        if not folded:
            continue
        for n in options.sizes:
            if len(folded) < n:
                if n == min(options.sizes):
                    grams.append(folded)
                continue
            grams.extend(folded[i : i + n] for i in range(len(folded) - n + 1))
    return grams


def typo_spans(text: str, max_words: int = 3) -> list[str]:
    """Folded surfaces of 2 to ``max_words`` consecutive content morphemes of a Japanese
    text, and of single morphemes the dictionary does not know (住民表 → 住民表; 市営往宅 →
    往宅, 市営往宅): the candidates of typo correction, since Sudachi cuts a mistyped word
    (婚因届, 在流カード) into short known pieces. A known single word (税金) is no typo."""
    text = unicodedata.normalize("NFKC", text)
    if not text.strip():
        return []
    tok = _tokenizer()
    mode_c, _ = _modes()
    spans: list[str] = []
    for chunk in _chunks(text):
        try:
            morphemes = tok.tokenize(chunk, mode_c)
        except Exception:  # noqa: S112 - odd input must not break search
            continue
        run: list[tuple[str, bool]] = []
        for m in [*morphemes, None]:
            if m is not None and m.part_of_speech()[0] not in _DROP_POS - {"接頭辞"}:
                run.append((fold(m.surface()), bool(m.is_oov())))
                continue
            for start in range(len(run)):
                if run[start][1]:
                    spans.append(run[start][0])
                for end in range(start + 2, min(start + max_words, len(run)) + 1):
                    spans.append("".join(part for part, _ in run[start:end]))
            run = []
    return spans
