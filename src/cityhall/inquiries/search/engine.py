"""The FAQ search engine (よくある質問の検索): BM25F over question, keywords and answer.

Every language version of an FAQ entry is one :class:`Document`; each is analysed with the
analyzer of its language (:mod:`.analysis`). A query is analysed in the language its
characters (and the ``language`` hint) say, expanded with synonyms (:mod:`.synonyms`) at a
reduced weight, and matched against the versions in that language — Japanese queries
against ``ja`` and ``ja-easy``, other languages against their own versions and English as a
pivot (Chinese also against the Japanese texts' character bigrams, Han characters being
shared). A query in another language is also translated through the municipal glossary
(:mod:`.glossary`) into Japanese terms, which search the Japanese versions (most entries have
no translation); an entry then scores the better of its own-language score and the weighted
Japanese one. An FAQ entry scores the best of its versions; one hit per entry.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from cityhall.inquiries.search.analysis import (
    JapaneseOptions,
    ReadingOptions,
    analyze,
    base_language,
    char_ngrams,
    detect_language,
    is_kana_only,
    japanese_ngrams,
    reading_ngrams,
    strip_accents,
    typo_spans,
)
from cityhall.inquiries.search.bm25 import Bm25Index, FieldSpec
from cityhall.inquiries.search.glossary import Glossary, default_glossary
from cityhall.inquiries.search.synonyms import Synonyms

MAX_QUERY_CHARS = 1000


class _Default:
    """Marker: use the glossary shipped with the engine."""


DEFAULT_GLOSSARY = _Default()


@dataclass(frozen=True)
class Document:
    """One language version of an FAQ entry."""

    id: str
    language: str
    question: str
    answer: str
    keywords: str = ""
    category: str = ""


def _default_fields() -> dict[str, FieldSpec]:
    return {
        "q": FieldSpec(weight=3.0, b=0.5),
        "k": FieldSpec(weight=2.0, b=0.3),
        "a": FieldSpec(weight=1.0, b=0.75),
        "p": FieldSpec(weight=1.0, b=0.5),
    }


def _default_kinds() -> dict[str, float]:
    # Query weight of each kind of term (see analysis): words, compound parts, readings,
    # character bigrams and reading bigrams (each shared among the query's bigrams),
    # tone-stripped syllables, character trigrams of Latin words (shared likewise), and the
    # n-grams of the reading field (shared likewise; for a kana-only query).
    return {"w": 1.0, "s": 0.4, "y": 0.3, "g": 1.5, "r": 1.0, "v": 0.5, "t": 1.0, "p": 4.0}


@dataclass(frozen=True)
class EngineConfig:
    """Tuning knobs of the engine; the defaults are the measured best (bench/faq_quality.py)."""

    fields: Mapping[str, FieldSpec] = field(default_factory=_default_fields)
    #: Index question, keywords and answer as one field (for the comparison in the bench).
    single_field: bool = False
    #: Query weight per kind of term; a kind left out is not indexed either.
    kinds: Mapping[str, float] = field(default_factory=_default_kinds)
    #: Fields whose character n-grams are indexed (the typo fallback).
    ngram_fields: frozenset[str] = frozenset({"q", "k"})
    synonym_weight: float = 0.5
    max_synonyms_per_term: int = 6
    japanese: JapaneseOptions = field(default_factory=JapaneseOptions)
    k1: float = 1.2
    delta: float = 0.5
    #: Weight of the Japanese score of a glossary-translated query (0 switches it off).
    glossary_weight: float = 1.0
    #: Folding and n-gram sizes of the reading field ``p`` (question + keywords read in
    #: hiragana; Japanese versions only).
    reading: ReadingOptions = field(default_factory=ReadingOptions)
    #: Query weight of the reading n-grams when the query has kanji (homophone typos such as
    #: 住民表 for 住民票); ``kinds["p"]`` applies to kana-only queries.
    reading_weight_kanji: float = 1.0
    #: Query weight (times ``kinds["w"]``) of the words one substituted character away from
    #: a query word or word sequence the index does not know (在流カード → 在留カード); shared
    #: among the candidates. 0 switches typo correction off.
    typo_weight: float = 1.0
    #: Reading n-grams of a query found in more than this share of the documents are left
    #: out (their weight is tiny and their postings long: speed).
    reading_max_df: float = 0.1
    #: ... but never when found in this many documents or fewer (small indexes).
    reading_min_df: int = 50
    #: At most this many corrections per unknown word.
    max_typo_candidates: int = 4


def _language_group(language: str) -> str:
    return base_language(language) or language.lower()


class FaqEngine:
    """An immutable index of FAQ documents; build it with :meth:`build`."""

    def __init__(
        self,
        index: Bm25Index,
        docs: list[tuple[str, str]],
        config: EngineConfig,
        synonyms: Synonyms | None,
        glossary: Glossary | None = None,
    ) -> None:
        self._index = index
        self._glossary = glossary
        self._docs = docs  # number → (faq id, base language)
        self._config = config
        self._synonyms = synonyms
        self._masks: dict[frozenset[str], bytearray] = {}
        self._expansions: dict[str, list[tuple[str, str]]] = {}
        self._typo_keys = _substitution_keys(index.terms()) if config.typo_weight > 0 else {}

    @property
    def size(self) -> int:
        return len(self._docs)

    @property
    def config(self) -> EngineConfig:
        return self._config

    @classmethod
    def build(
        cls,
        documents: Iterable[Document],
        synonyms: Synonyms | None = None,
        config: EngineConfig | None = None,
        glossary: Glossary | _Default | None = DEFAULT_GLOSSARY,
    ) -> FaqEngine:
        """Index ``documents``; ``glossary`` defaults to the shipped one (None: no glossary)."""
        config = config or EngineConfig()
        if isinstance(glossary, _Default):
            glossary = default_glossary()
        fields = {"all": FieldSpec(1.0, 0.75)} if config.single_field else dict(config.fields)
        index = Bm25Index(fields, k1=config.k1, delta=config.delta)
        docs: list[tuple[str, str]] = []
        for doc in documents:
            lang = _language_group(doc.language)
            analysed = {
                "q": cls._terms(doc.question, lang, config, "q"),
                "k": cls._terms(doc.keywords, lang, config, "k"),
                "a": cls._terms(doc.answer, lang, config, "a"),
            }
            if lang == "ja" and "p" in config.kinds:
                analysed["p"] = [
                    f"p:{g}"
                    for text in (doc.question, doc.keywords)
                    for g in reading_ngrams(text, config.reading)
                ]
            if config.single_field:
                index.add({"all": [t for terms in analysed.values() for t in terms]})
            else:
                index.add({name: terms for name, terms in analysed.items() if name in fields})
            docs.append((doc.id, lang))
        index.freeze()
        return cls(index, docs, config, synonyms, glossary)

    @staticmethod
    def _terms(text: str, lang: str, config: EngineConfig, field_name: str) -> list[str]:
        if not text:
            return []
        kinds = config.kinds
        out = [f"{kind}:{term}" for kind, term in analyze(text, lang, config.japanese)]
        out = [t for t in out if t[0] in kinds]
        if field_name in config.ngram_fields:
            if lang == "ja":
                written, read = japanese_ngrams(text)
                if "g" in kinds:
                    out.extend(f"g:{g}" for g in written)
                if "r" in kinds:
                    out.extend(f"r:{g}" for g in read)
            elif lang == "zh" and "g" in kinds:
                out.extend(f"g:{g}" for g in char_ngrams(text))
            elif "t" in kinds:
                out.extend(f"t:{g}" for g in _latin_trigrams(text))
        return out

    # --- querying -----------------------------------------------------------------------

    def analyse_query(
        self, query: str, language: str | None = None
    ) -> tuple[str, dict[str, float]]:
        """The language a query is read in and its weighted terms (for tests and tuning)."""
        query = unicodedata.normalize("NFKC", query[:MAX_QUERY_CHARS])
        lang = detect_language(query, language)
        return lang, self._query_weights(query, lang)

    def _query_weights(self, query: str, lang: str) -> dict[str, float]:
        config = self._config
        kinds = config.kinds
        weights: dict[str, float] = {}

        def add(term: str, weight: float) -> None:
            weights[term] = (
                max(weights.get(term, 0.0), weight)
                if term[0] != "w"
                else (weights.get(term, 0.0) + weight)
            )

        analysed = analyze(query, lang, config.japanese)
        for kind, term in analysed:
            if kind in kinds:
                add(f"{kind}:{term}", kinds[kind])
        if self._synonyms is not None and config.synonym_weight > 0 and lang == "ja":
            direct = {term for kind, term in analysed if kind == "w"}
            for term in direct:
                for kind, expanded in self._expand(term)[: config.max_synonyms_per_term]:
                    key = f"{kind}:{expanded}"
                    if kind == "w" and expanded not in direct and key not in weights:
                        weights[key] = config.synonym_weight * kinds.get("w", 1.0)
        if lang == "ja" and self._typo_keys and "w" in kinds:
            for term, weight in self._corrections(query).items():
                if term not in weights:
                    weights[term] = weight * kinds["w"]
        groups: list[tuple[str, list[str], float]] = []
        if lang == "ja":
            written, read = japanese_ngrams(query)
            groups = [("g", written, kinds.get("g", 0.0)), ("r", read, kinds.get("r", 0.0))]
            if "p" in kinds:
                weight = kinds["p"] if is_kana_only(query) else config.reading_weight_kanji
                groups.append(("p", reading_ngrams(query, config.reading), weight))
        elif lang == "zh":
            groups = [("g", char_ngrams(query), kinds.get("g", 0.0))]
        else:
            groups = [("t", _latin_trigrams(query), kinds.get("t", 0.0))]
        for kind, grams, weight in groups:
            if kind not in kinds or not grams or weight <= 0:
                continue
            share = weight / math.sqrt(len(grams))
            max_df = (
                max(config.reading_max_df * len(self._docs), config.reading_min_df)
                if kind == "p"
                else None
            )
            for gram in grams:
                key = f"{kind}:{gram}"
                if max_df is not None and self._index.document_frequency(key) > max_df:
                    continue
                weights[key] = weights.get(key, 0.0) + share
        return weights

    def _corrections(self, query: str) -> dict[str, float]:
        """Known words one substituted character away from the query's unknown word
        sequences (typos: 在流 → 在留, 婚因届 → 婚姻届), weighted by ``typo_weight``; a
        sequence inside a longer corrected one is not corrected on its own."""
        index = self._index
        found: dict[str, list[str]] = {}
        for span in sorted(set(typo_spans(query)), key=lambda s: (-len(s), s)):
            if len(span) < 2 or len(span) > _MAX_TYPO_LEN:
                continue
            if len(span) < 4 and not _HAN_CHAR.search(span):
                continue  # short kana words: too many neighbours
            if index.document_frequency(f"w:{span}") or index.document_frequency(f"s:{span}"):
                continue
            if any(span in longer for longer in found):
                continue
            candidates: dict[str, int] = {}
            for i in range(len(span)):
                for candidate in self._typo_keys.get(f"{span[:i]}\0{span[i + 1 :]}", ()):
                    if candidate != span:
                        candidates[candidate] = index.document_frequency(f"w:{candidate}")
            if candidates:
                found[span] = sorted(candidates, key=lambda c: (-candidates[c], c))[
                    : self._config.max_typo_candidates
                ]
        out: dict[str, float] = {}
        for best in found.values():
            share = self._config.typo_weight / math.sqrt(len(best))
            for candidate in best:
                key = f"w:{candidate}"
                out[key] = max(out.get(key, 0.0), share)
        return out

    def glossary_query(self, query: str, language: str | None = None) -> str:
        """The Japanese query a non-Japanese query is translated into ("" if none)."""
        if self._glossary is None or self._config.glossary_weight <= 0:
            return ""
        query = unicodedata.normalize("NFKC", query[:MAX_QUERY_CHARS])
        lang = detect_language(query, language)
        if lang == "ja":
            return ""
        return " ".join(self._glossary.translate(query, lang))

    def _expand(self, term: str) -> list[tuple[str, str]]:
        cached = self._expansions.get(term)
        if cached is not None:
            return cached
        out: list[tuple[str, str]] = []
        assert self._synonyms is not None
        for word in self._synonyms.expand(term):
            parts = [p for p in analyze(word, "ja", self._config.japanese) if p[0] == "w"]
            if len(parts) == 1:  # a multi-word synonym would drift
                out.append(parts[0])
        if len(self._expansions) < 50_000:
            self._expansions[term] = out
        return out

    def _mask(self, languages: frozenset[str]) -> bytearray:
        mask = self._masks.get(languages)
        if mask is None:
            mask = bytearray(1 if lang in languages else 0 for _, lang in self._docs)
            self._masks[languages] = mask
        return mask

    def search(
        self, query: str, language: str | None = None, limit: int = 10
    ) -> list[tuple[str, float]]:
        """(FAQ id, score) pairs, best first, one per FAQ entry; ``[]`` when nothing matches."""
        if limit <= 0 or not query or not query.strip():
            return []
        lang, weights = self.analyse_query(query, language)
        if not weights:
            return []
        if lang == "ja":
            targets = frozenset({"ja"})
        elif lang == "zh":
            targets = frozenset({"zh", "ja", "en"})
        else:
            targets = frozenset({lang, "en"})
        scores = self._index.score(weights, self._mask(targets))
        best: dict[str, float] = {}
        for number, score in scores.items():
            faq_id, doc_lang = self._docs[number]
            if doc_lang != lang and lang != "ja":
                score *= 0.9  # a pivot language counts a little less than the asked one
            if score > best.get(faq_id, 0.0):
                best[faq_id] = score
        translated = self.glossary_query(query, language) if lang != "ja" else ""
        if translated:
            ja_weights = self._query_weights(translated, "ja")
            factor = self._config.glossary_weight
            for number, score in self._index.score(ja_weights, self._mask(_JA)).items():
                faq_id = self._docs[number][0]
                score *= factor
                if score > best.get(faq_id, 0.0):
                    best[faq_id] = score
        ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))
        return [(faq_id, round(score, 4)) for faq_id, score in ranked[:limit]]


_JA = frozenset({"ja"})
_MAX_TYPO_LEN = 8
_HAN_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _substitution_keys(vocabulary: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Japanese words of the index (``w:`` terms with a Han character, 2–8 characters, or
    longer kana words) by each of their forms with one character blanked out."""
    keys: dict[str, list[str]] = {}
    for term in vocabulary:
        if not term.startswith("w:"):
            continue
        word = term[2:]
        if not 2 <= len(word) <= _MAX_TYPO_LEN or not word.isalnum() or word.isascii():
            continue
        if len(word) < 4 and not _HAN_CHAR.search(word):
            continue
        for i in range(len(word)):
            keys.setdefault(f"{word[:i]}\0{word[i + 1 :]}", []).append(word)
    return {key: tuple(words) for key, words in keys.items()}


def _latin_trigrams(text: str) -> list[str]:
    out: list[str] = []
    for word in strip_accents(unicodedata.normalize("NFKC", text).lower()).split():
        word = "".join(c for c in word if c.isalnum())
        if len(word) < 4 or not word.isascii():
            continue
        padded = f"_{word}_"
        out.extend(padded[i : i + 3] for i in range(len(padded) - 2))
    return out


def documents_of(rows: Sequence[Mapping[str, str]]) -> list[Document]:
    """Documents from CSV-like rows (id, language, question, answer, keywords, category)."""
    return [
        Document(
            id=row["id"],
            language=row.get("language") or "ja",
            question=row.get("question", ""),
            answer=row.get("answer", ""),
            keywords=row.get("keywords", ""),
            category=row.get("category", ""),
        )
        for row in rows
    ]
