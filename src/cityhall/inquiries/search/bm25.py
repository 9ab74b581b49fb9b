"""An in-memory inverted index scored with BM25F and the BM25+ lower bound.

BM25F (Robertson, Zaragoza 2004): the term frequency of each field is normalised by that
field's length against its average (``b`` per field), weighted by the field's weight and
summed; the sum is saturated once with ``k1``. BM25+ (Lv, Zhai 2011) adds ``delta`` to
every matching term so that long documents are not pushed below documents without the term.
The pseudo frequency of a term in a document does not depend on the query, so it is computed
once at build time; a search only walks the postings of its terms.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldSpec:
    """A field of the documents: its weight and its length normalisation ``b`` (0..1)."""

    weight: float = 1.0
    b: float = 0.75


class Bm25Index:
    """Documents are numbered 0, 1, 2 … in the order they are added."""

    def __init__(self, fields: Mapping[str, FieldSpec], k1: float = 1.2, delta: float = 0.5):
        if not fields:
            raise ValueError("an index needs at least one field")
        self.fields = dict(fields)
        self.k1 = k1
        self.delta = delta
        self._pending: list[dict[str, Counter[str]]] = []
        self._lengths: list[dict[str, int]] = []
        self._docs: dict[str, array[int]] = {}
        self._weights: dict[str, array[float]] = {}
        self._idf: dict[str, float] = {}
        self._size = 0
        self._frozen = False

    def __len__(self) -> int:
        return self._size

    @property
    def vocabulary_size(self) -> int:
        return len(self._idf)

    def add(self, fields: Mapping[str, Iterable[str]]) -> int:
        """Add one document (terms per field); returns its number."""
        if self._frozen:
            raise RuntimeError("the index is frozen")
        counts: dict[str, Counter[str]] = {}
        lengths: dict[str, int] = {}
        for name, terms in fields.items():
            if name not in self.fields:
                raise KeyError(f"unknown field {name!r}")
            counter = Counter(terms)
            counts[name] = counter
            lengths[name] = sum(counter.values())
        self._pending.append(counts)
        self._lengths.append(lengths)
        self._size += 1
        return self._size - 1

    def freeze(self) -> None:
        """Compute the postings; no document can be added afterwards."""
        n = max(self._size, 1)
        average = {
            name: max(sum(lens.get(name, 0) for lens in self._lengths) / n, 1e-9)
            for name in self.fields
        }
        docs: dict[str, array[int]] = {}
        weights: dict[str, array[float]] = {}
        for number, (counts, lengths) in enumerate(zip(self._pending, self._lengths, strict=True)):
            pseudo: dict[str, float] = {}
            for name, counter in counts.items():
                spec = self.fields[name]
                norm = 1.0 - spec.b + spec.b * lengths[name] / average[name]
                factor = spec.weight / norm
                for term, tf in counter.items():
                    pseudo[term] = pseudo.get(term, 0.0) + tf * factor
            for term, pseudo_tf in pseudo.items():
                if term not in docs:
                    docs[term] = array("i")
                    weights[term] = array("f")
                docs[term].append(number)
                weights[term].append(pseudo_tf)
        self._docs = docs
        self._weights = weights
        self._idf = {
            term: math.log(1.0 + (self._size - len(ids) + 0.5) / (len(ids) + 0.5))
            for term, ids in docs.items()
        }
        self._pending = []
        self._lengths = []
        self._frozen = True

    def terms(self) -> list[str]:
        """The vocabulary of the frozen index."""
        return list(self._idf)

    def document_frequency(self, term: str) -> int:
        ids = self._docs.get(term)
        return len(ids) if ids is not None else 0

    def score(
        self, query: Mapping[str, float], allowed: bytes | bytearray | None = None
    ) -> dict[int, float]:
        """Scores of the documents matching any query term (``allowed[doc]`` non-zero, if given)."""
        if not self._frozen:
            self.freeze()
        k1 = self.k1
        k1p = k1 + 1.0
        delta = self.delta
        acc: dict[int, float] = {}
        get = acc.get
        for term, qweight in query.items():
            ids = self._docs.get(term)
            if ids is None or qweight <= 0:
                continue
            scale = qweight * self._idf[term]
            for doc, tf in zip(ids, self._weights[term], strict=True):
                if allowed is not None and not allowed[doc]:
                    continue
                acc[doc] = get(doc, 0.0) + scale * (k1p * tf / (k1 + tf) + delta)
        return acc
