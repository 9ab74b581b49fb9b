"""A multinomial naive Bayes text classifier (問い合わせの振り分け), pure and typed.

Documents are lists of terms (``analysis.terms``); labels are strings (department codes).
Training counts terms per label; prediction returns the posterior probability of each
label (softmax of the log-likelihoods), so the best label's probability can serve as a
confidence. Laplace smoothing (``alpha``) keeps unseen terms from zeroing a label.

A naive Bayes posterior is over-confident on long texts (each term multiplies the odds),
so the log-likelihoods are divided by the number of known terms' square root before the
softmax (``temperature``): a rough, monotone calibration that keeps short and long
inquiries on one scale.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    #: Every label with its probability, best first.
    ranking: tuple[tuple[str, float], ...] = ()


@dataclass
class NaiveBayes:
    alpha: float = 0.5
    label_docs: Counter[str] = field(default_factory=Counter)
    term_counts: dict[str, Counter[str]] = field(default_factory=dict)
    label_totals: Counter[str] = field(default_factory=Counter)
    vocabulary: set[str] = field(default_factory=set)

    @property
    def labels(self) -> list[str]:
        return sorted(self.label_docs)

    @property
    def documents(self) -> int:
        return sum(self.label_docs.values())

    def add(self, terms: Iterable[str], label: str) -> None:
        counts = self.term_counts.setdefault(label, Counter())
        self.label_docs[label] += 1
        for term in terms:
            counts[term] += 1
            self.label_totals[label] += 1
            self.vocabulary.add(term)

    def fit(self, samples: Iterable[tuple[Sequence[str], str]]) -> NaiveBayes:
        for terms, label in samples:
            self.add(terms, label)
        return self

    def scores(self, terms: Sequence[str]) -> dict[str, float]:
        """Log-likelihood (with the prior) of each label; only known terms count."""
        known = [t for t in terms if t in self.vocabulary]
        total_docs = self.documents
        size = len(self.vocabulary) or 1
        result: dict[str, float] = {}
        for label in self.labels:
            counts = self.term_counts.get(label, Counter())
            denominator = self.label_totals[label] + self.alpha * size
            # A flattened prior: few FAQ entries for a department must not bury it.
            score = 0.5 * math.log(self.label_docs[label] / total_docs)
            for term in known:
                score += math.log((counts[term] + self.alpha) / denominator)
            result[label] = score
        return result

    def predict(self, terms: Sequence[str]) -> Prediction | None:
        """The most probable label and its calibrated probability; ``None`` untrained."""
        if not self.label_docs:
            return None
        scores = self.scores(terms)
        known = sum(1 for t in terms if t in self.vocabulary)
        temperature = math.sqrt(max(known, 1))
        top = max(scores.values())
        weights = {label: math.exp((s - top) / temperature) for label, s in scores.items()}
        norm = sum(weights.values())
        ranking = tuple(
            sorted(
                ((label, w / norm) for label, w in weights.items()),
                key=lambda pair: (-pair[1], pair[0]),
            )
        )
        label, confidence = ranking[0]
        if known == 0:
            confidence = min(confidence, 1.0 / max(len(ranking), 1))
        return Prediction(label, confidence, ranking)


def accuracy(model: NaiveBayes, samples: Iterable[tuple[Sequence[str], str]]) -> float:
    """Share of samples whose predicted label is right."""
    right = total = 0
    for terms, label in samples:
        total += 1
        prediction = model.predict(terms)
        if prediction is not None and prediction.label == label:
            right += 1
    return right / total if total else 0.0
