"""Routing (振り分け) of a new inquiry to a department, after Signalen's classifier service.

In order:

1. **Rules** (:class:`~cityhall.inquiries.models.RoutingRule`): a rule's words
   (comma-separated) are looked for in the subject and body, both NFKC-folded and
   lower-cased. Rules are tried by ``priority`` (a smaller number first, then the older
   rule); the first match routes with confidence 1.0.
2. **The classifier**: a multinomial naive Bayes (:mod:`cityhall.inquiries.search.classifier`)
   over ``analysis.terms``, trained on tickets already routed to a department (the triage
   department excluded) and on the FAQ entries that name a department. When its
   probability reaches ``INQUIRIES_ROUTING_THRESHOLD`` the ticket goes there.
3. Otherwise **triage**: no department; the best guess is kept as the ticket's
   ``suggested_department`` (with its ``confidence``) for the triage clerk.

The classifier behaves like a service with a time budget: the trained model is cached per
process and rebuilt when the number of training tickets or FAQ entries changes, or after
:data:`MODEL_MAX_AGE` seconds; if training or prediction fails or runs past
:data:`TIME_BUDGET` seconds the ticket goes to triage — never lost.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from cityhall.inquiries.models import FaqText, RoutingRule, Ticket, TicketMessage
from cityhall.inquiries.search import analysis
from cityhall.inquiries.search.classifier import NaiveBayes, Prediction
from cityhall.people.models import Department

log = logging.getLogger(__name__)

#: Seconds a cached model is trusted before it is rebuilt even without new data.
MODEL_MAX_AGE = 15 * 60
#: Seconds training plus prediction may take before the ticket goes to triage.
TIME_BUDGET = 3.0
#: Most recent routed tickets used for training (old ones add little).
MAX_TRAINING_TICKETS = 5000


class BudgetExceeded(Exception):
    """The classifier ran past its time budget."""


@dataclass(frozen=True)
class Routing:
    department: Department | None
    routed_by: str
    confidence: float | None
    #: The classifier's best department code, also when it was not confident enough.
    guess: str = ""
    rule_id: int | None = None
    #: For triage only: the department of ``guess`` (the triage clerk's suggestion).
    suggested: Department | None = None

    def as_details(self) -> dict[str, Any]:
        return {
            "department": self.department.code if self.department else None,
            "routed_by": self.routed_by,
            "confidence": None if self.confidence is None else round(self.confidence, 3),
            "guess": self.guess,
            "rule": self.rule_id,
        }


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def rule_words(rule: RoutingRule) -> list[str]:
    return [w for w in (fold(part).strip() for part in re.split(r"[,、，]", rule.words)) if w]


def match_rule(text: str) -> RoutingRule | None:
    folded = fold(text)
    rules = (
        RoutingRule.objects.filter(active=True, department__is_active=True)
        .select_related("department")
        .order_by("priority", "pk")
    )
    for rule in rules:
        if any(word in folded for word in rule_words(rule)):
            return rule
    return None


# --- the classifier ---------------------------------------------------------------------------


@dataclass
class _Cached:
    model: NaiveBayes
    key: tuple[int, int, int]
    built_at: float


_cache: dict[str, _Cached] = {}
_lock = threading.Lock()


def _triage_code() -> str:
    return str(settings.INQUIRIES_TRIAGE_DEPARTMENT)


def _ticket_samples() -> Any:
    return (
        Ticket.objects.filter(department__isnull=False)
        .exclude(department__code=_triage_code())
        .exclude(routed_by=Ticket.RoutedBy.TRIAGE)
    )


def _data_key() -> tuple[int, int, int]:
    tickets = _ticket_samples()
    last = tickets.order_by("-pk").values_list("pk", flat=True).first() or 0
    faq = FaqText.objects.filter(entry__department__isnull=False).count()
    return tickets.count(), int(last), faq


def training_samples() -> list[tuple[str, str]]:
    """(text, department code) pairs: routed tickets, then the FAQ entries with a department."""
    samples: list[tuple[str, str]] = []
    tickets = list(
        _ticket_samples()
        .order_by("-pk")
        .values_list("pk", "subject", "department__code")[:MAX_TRAINING_TICKETS]
    )
    first_bodies: dict[int, str] = {}
    for ticket_id, body in (
        TicketMessage.objects.filter(
            ticket_id__in=[t[0] for t in tickets], kind=TicketMessage.Kind.RESIDENT
        )
        .order_by("-created_at", "-pk")
        .values_list("ticket_id", "body")
    ):
        first_bodies[ticket_id] = body  # the oldest message wins (iterated newest first)
    for ticket_id, subject, code in tickets:
        samples.append((f"{subject}\n{first_bodies.get(ticket_id, '')}", code))
    for question, answer, keywords, code in (
        FaqText.objects.filter(entry__department__isnull=False)
        .exclude(entry__department__code=_triage_code())
        .values_list("question", "answer", "keywords", "entry__department__code")
    ):
        samples.append((f"{question}\n{question}\n{keywords}\n{answer}", code))
    return samples


def train(samples: list[tuple[str, str]], deadline: float | None = None) -> NaiveBayes:
    model = NaiveBayes()
    for number, (text, label) in enumerate(samples):
        if deadline is not None and number % 50 == 0 and time.monotonic() > deadline:
            raise BudgetExceeded
        model.add(analysis.terms(text), label)
    return model


def model(deadline: float | None = None) -> NaiveBayes:
    """The cached model, rebuilt when the training data changed or it grew old."""
    key = _data_key()
    now = time.monotonic()
    with _lock:
        cached = _cache.get("model")
        if cached and cached.key == key and now - cached.built_at < MODEL_MAX_AGE:
            return cached.model
    built = train(training_samples(), deadline)
    with _lock:
        _cache["model"] = _Cached(built, key, time.monotonic())
    return built


def invalidate() -> None:
    with _lock:
        _cache.clear()


def classify(text: str, *, budget: float | None = None) -> Prediction | None:
    """The classifier's answer for ``text``; ``None`` when it has nothing to say."""
    deadline = time.monotonic() + (TIME_BUDGET if budget is None else budget)
    trained = model(deadline)
    terms = analysis.terms(text)
    prediction = trained.predict(terms)
    if time.monotonic() > deadline:
        raise BudgetExceeded
    return prediction


def route(subject: str, body: str) -> Routing:
    """Where a new inquiry goes; never raises (a failing classifier means triage)."""
    text = f"{subject}\n{body}"
    rule = match_rule(text)
    if rule is not None:
        return Routing(rule.department, Ticket.RoutedBy.RULE, 1.0, rule.department.code, rule.pk)
    try:
        prediction = classify(text)
    except Exception:  # the classifier is a helper: any failure sends the ticket to triage
        log.warning("inquiry classifier failed; routing to triage", exc_info=True)
        prediction = None
    if prediction is None:
        return Routing(None, Ticket.RoutedBy.TRIAGE, None)
    department = Department.objects.filter(code=prediction.label, is_active=True).first()
    threshold = float(settings.INQUIRIES_ROUTING_THRESHOLD)
    if department is not None and prediction.confidence >= threshold:
        return Routing(
            department, Ticket.RoutedBy.CLASSIFIER, prediction.confidence, prediction.label
        )
    return Routing(
        None,
        Ticket.RoutedBy.TRIAGE,
        prediction.confidence,
        prediction.label,
        suggested=department,
    )
