"""The baseline of the quality and speed benchmarks: plain character-bigram BM25.

Question and answer concatenated, NFKC and lowercase, character bigrams, one field, no
synonyms, no field weights, no language handling beyond the document's own text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from cityhall.inquiries.search.bm25 import Bm25Index, FieldSpec
from cityhall.inquiries.search.engine import Document


def bigrams(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKC", text).lower()
    chars = [c for c in folded if not c.isspace()]
    return ["".join(chars[i : i + 2]) for i in range(max(len(chars) - 1, 0))]


class BaselineEngine:
    """Same interface as :class:`~cityhall.inquiries.search.engine.FaqEngine`."""

    def __init__(self, index: Bm25Index, ids: list[str]) -> None:
        self._index = index
        self._ids = ids

    @property
    def size(self) -> int:
        return len(self._ids)

    @classmethod
    def build(cls, documents: Iterable[Document]) -> BaselineEngine:
        index = Bm25Index({"all": FieldSpec(1.0, 0.75)}, k1=1.2, delta=0.0)
        ids: list[str] = []
        for doc in documents:
            index.add({"all": bigrams(f"{doc.question} {doc.answer}")})
            ids.append(doc.id)
        index.freeze()
        return cls(index, ids)

    def search(
        self, query: str, language: str | None = None, limit: int = 10
    ) -> list[tuple[str, float]]:
        if limit <= 0:
            return []
        weights: dict[str, float] = {}
        for gram in bigrams(query[:1000]):
            weights[gram] = weights.get(gram, 0.0) + 1.0
        best: dict[str, float] = {}
        for number, score in self._index.score(weights).items():
            faq_id = self._ids[number]
            if score > best.get(faq_id, 0.0):
                best[faq_id] = score
        ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))
        return [(faq_id, round(score, 4)) for faq_id, score in ranked[:limit]]
