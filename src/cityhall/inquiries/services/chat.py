"""The FAQ chat (チャット問い合わせ): ask, say whether it helped, hand over to a person.

How it decides, for each question (best FAQ hits from :func:`search.search`):

- *nothing found*: no hit, or the best scores below ``CITYHALL_FAQ_MIN_SCORE`` → say so
  and offer the contact form, a hand-over to a person and the phone number;
- *clarify*: the second hit is another entry scoring within ``CITYHALL_FAQ_CLARIFY_MARGIN``
  (a share of the first score) → ask "Which one did you mean?" with the candidates;
- otherwise the best answers (up to :data:`SHOWN`), and — when an LLM is configured —
  a short generated answer grounded on them (:mod:`cityhall.inquiries.services.llm`).

A conversation belongs to the logged-in resident who started it, or else to the browser
session that started it (its ``public_id`` is kept in the session); nobody else may read
it or add to it. Every turn is stored so that a hand-over gives the clerk the whole talk.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from cityhall.core import audit
from cityhall.inquiries.models import ChatTurn, Conversation, FaqEntry, FaqText, Ticket
from cityhall.inquiries.services import faq, llm, search, tickets
from cityhall.inquiries.services.search import Hit

MAX_LENGTH = 500
SHOWN = 3
#: Hits kept on an assistant turn (the answers shown, then "the next answers").
KEPT = 5
SESSION_KEY = "cityhall_chat_conversations"
SESSION_LIMIT = 20
SUBJECT_LENGTH = 80

_TAGS = re.compile(r"<[^>]*>")


class QuestionError(ValueError):
    """A question the chat cannot take; the message tells the resident why."""


@dataclass
class Reply:
    conversation: Conversation
    question_turn: ChatTurn
    turn: ChatTurn
    answers: list[Hit] = field(default_factory=list)
    more: list[Hit] = field(default_factory=list)
    clarify: bool = False
    nothing_found: bool = False
    generated: llm.Generated | None = None


# --- the question --------------------------------------------------------------------------


def clean_question(raw: Any) -> str:
    """The question as it is searched and stored, or :class:`QuestionError`."""
    text = unicodedata.normalize("NFC", str(raw or ""))
    text = "".join(c for c in text if c in "\n\t" or unicodedata.category(c)[0] != "C")
    text = " ".join(text.split())
    if not text:
        raise QuestionError(_("Please type your question."))
    if len(text) > MAX_LENGTH:
        raise QuestionError(
            _(
                "Please keep your question shorter than %(limit)s characters "
                "(it has %(count)s). A short question finds the best answer."
            )
            % {"limit": MAX_LENGTH, "count": len(text)}
        )
    words = _TAGS.sub(" ", text)
    if not any(unicodedata.category(c)[0] in "LN" for c in words):
        raise QuestionError(_("Please ask your question in words, for example “garbage day”."))
    return text


def decide(hits: list[Hit]) -> tuple[list[Hit], bool, bool]:
    """(answers to show, clarify, nothing found) for the hits, best first."""
    minimum = float(settings.FAQ_MIN_SCORE)
    good = [hit for hit in hits if hit.score >= minimum]
    if not good:
        return [], False, True
    clarify = False
    if len(good) > 1 and good[0].key != good[1].key:
        margin = float(settings.FAQ_CLARIFY_MARGIN) * good[0].score
        clarify = good[0].score - good[1].score <= margin
    return good[:SHOWN], clarify, False


def _more(hits: list[Hit], answers: list[Hit]) -> list[Hit]:
    """The next answers, after those shown (for "this did not help")."""
    minimum = float(settings.FAQ_MIN_SCORE)
    shown = {hit.key for hit in answers}
    return [hit for hit in hits if hit.score >= minimum and hit.key not in shown]


def _unique(hits: list[Hit]) -> list[Hit]:
    seen: set[str] = set()
    out = []
    for hit in hits:
        if hit.key not in seen:
            seen.add(hit.key)
            out.append(hit)
    return out


def ask(
    *,
    question: str,
    language: str,
    conversation: Conversation | None = None,
    user: Any = None,
) -> Reply:
    """Answer ``question``: store the resident's turn and the assistant's turn."""
    text = clean_question(question)
    hits = _unique(search.search(text, language, limit=KEPT + 1))[:KEPT]
    answers, clarify, nothing_found = decide(hits)
    generated = None
    if answers and not clarify:
        generated = llm.generate(text, hits, language)
    resident = user if is_resident(user) else None
    with transaction.atomic():
        if conversation is None:
            conversation = Conversation.objects.create(user=resident, language=language)
        elif conversation.language != language:
            conversation.language = language
            conversation.save(update_fields=["language", "updated_at"])
        else:
            conversation.save(update_fields=["updated_at"])
        question_turn = ChatTurn.objects.create(
            conversation=conversation, role=ChatTurn.Role.RESIDENT, text=text
        )
        turn = ChatTurn.objects.create(
            conversation=conversation,
            role=ChatTurn.Role.ASSISTANT,
            text=generated.text if generated else "",
            generated=generated is not None,
            results=[{"id": hit.key, "score": round(hit.score, 4)} for hit in hits],
        )
        if answers:
            faq.record_shown([answers[0].key])
    return Reply(
        conversation=conversation,
        question_turn=question_turn,
        turn=turn,
        answers=answers,
        more=_more(hits, answers),
        clarify=clarify,
        nothing_found=nothing_found,
        generated=generated,
    )


# --- showing stored turns ------------------------------------------------------------------


def hits_for(keys_scores: list[dict[str, Any]], language: str) -> list[Hit]:
    """Stored results (``[{"id", "score"}]``) as hits in ``language`` (else Japanese);
    entries since deleted or unpublished are left out."""
    keys = [str(row.get("id", "")) for row in keys_scores if isinstance(row, dict)]
    entries = {
        e.key: e
        for e in FaqEntry.objects.filter(key__in=keys, published=True).prefetch_related("texts")
    }
    out = []
    for row in keys_scores:
        entry = entries.get(str(row.get("id", "")))
        if entry is None:
            continue
        texts: dict[str, FaqText] = {t.language: t for t in entry.texts.all()}
        text = texts.get(language) or texts.get("ja") or next(iter(texts.values()), None)
        if text is None:
            continue
        out.append(
            Hit(
                key=entry.key,
                score=float(row.get("score") or 0),
                question=text.question,
                answer=text.answer,
                language=text.language,
                url=entry.url,
                category=entry.category,
                department_id=entry.department_id,
                procedures=list(entry.procedures or []),
            )
        )
    return out


def replay(turn: ChatTurn, question: str, language: str) -> Reply:
    """A stored assistant turn as a :class:`Reply` again (the page shows the whole talk)."""
    hits = hits_for(turn.results, language)
    answers, clarify, nothing_found = decide(hits)
    generated = None
    if turn.generated and turn.text:
        generated = llm.check(turn.text, llm.sources(hits, language))
    return Reply(
        conversation=turn.conversation,
        question_turn=ChatTurn(role=ChatTurn.Role.RESIDENT, text=question),
        turn=turn,
        answers=answers,
        more=_more(hits, answers),
        clarify=clarify and generated is None,
        nothing_found=nothing_found,
        generated=generated,
    )


def transcript(conversation: Conversation, language: str) -> list[Reply]:
    """Every question of the conversation with its answer, oldest first."""
    replies = []
    question = ""
    for turn in conversation.turns.all():
        if turn.role == ChatTurn.Role.RESIDENT:
            question = turn.text
        elif turn.role == ChatTurn.Role.ASSISTANT:
            replies.append(replay(turn, question, language))
    return replies


# --- ownership ------------------------------------------------------------------------------


def is_resident(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and not user.is_staff)


def remember(request: HttpRequest, conversation: Conversation) -> None:
    """Let this browser session come back to ``conversation``."""
    if conversation.user_id is not None:
        return
    ids = [i for i in request.session.get(SESSION_KEY, []) if i != str(conversation.public_id)]
    ids.append(str(conversation.public_id))
    request.session[SESSION_KEY] = ids[-SESSION_LIMIT:]


def conversation_for(request: HttpRequest, public_id: Any) -> Conversation:
    """The conversation if this request may see it (its owner, or its session); else 404."""
    conversation = Conversation.objects.filter(public_id=public_id).first()
    if conversation is None:
        raise Http404
    if conversation.user_id is not None:
        if not is_resident(request.user) or request.user.pk != conversation.user_id:
            raise Http404
    elif str(conversation.public_id) not in request.session.get(SESSION_KEY, []):
        raise Http404
    return conversation


# --- feedback and hand-over ------------------------------------------------------------------


def feedback(conversation: Conversation, turn_id: int, helped: bool) -> ChatTurn:
    """The resident says whether the answer helped; the first answer's FAQ entry counts it.

    Only the first feedback on a turn counts (pressing again changes nothing)."""
    with transaction.atomic():
        turn = (
            ChatTurn.objects.select_for_update()
            .filter(conversation=conversation, pk=turn_id, role=ChatTurn.Role.ASSISTANT)
            .first()
        )
        if turn is None:
            raise Http404
        if turn.feedback:
            return turn
        turn.feedback = ChatTurn.Feedback.HELPED if helped else ChatTurn.Feedback.NOT_HELPED
        turn.save(update_fields=["feedback"])
        minimum = float(settings.FAQ_MIN_SCORE)
        shown = [r for r in turn.results if float(r.get("score") or 0) >= minimum]
        if shown:
            faq.record_feedback(str(shown[0]["id"]), helped)
    return turn


def transcript_text(conversation: Conversation, note: str = "") -> str:
    """The conversation as plain text for the clerk: each turn with its role, the answers'
    questions and FAQ ids; then the resident's note."""
    lines: list[str] = []
    keys = {
        str(r.get("id"))
        for turn in conversation.turns.all()
        for r in turn.results
        if isinstance(r, dict)
    }
    questions = {
        t.entry.key: t.question
        for t in FaqText.objects.filter(entry__key__in=keys, language="ja").select_related("entry")
    }
    for turn in conversation.turns.all():
        if turn.role == ChatTurn.Role.RESIDENT:
            lines.append(f"{_('Resident')}: {turn.text}")
            continue
        lines.append(f"{_('Assistant')}:")
        if turn.generated and turn.text:
            lines.append(f"  ({_('generated')}) {turn.text}")
        if not turn.results:
            lines.append(f"  {_('No answer found.')}")
        for row in turn.results[:SHOWN]:
            key = str(row.get("id"))
            lines.append(f"  - {questions.get(key, key)} [{key}] ({row.get('score')})")
        if turn.feedback:
            lines.append(f"  {_('Feedback')}: {turn.get_feedback_display()}")
    if note.strip():
        lines += ["", f"{_('Note from the resident')}:", note.strip()]
    return "\n".join(lines)


def first_question(conversation: Conversation) -> str:
    turn = conversation.turns.filter(role=ChatTurn.Role.RESIDENT).first()
    return turn.text if turn else ""


def handover(
    conversation: Conversation,
    *,
    user: Any = None,
    name: str = "",
    email: str = "",
    note: str = "",
    request: HttpRequest | None = None,
) -> Ticket:
    """Hand the conversation to a person: a ticket (channel chat) with the transcript."""
    resident = user if is_resident(user) else None
    if resident is None and not email.strip():
        raise QuestionError(_("Enter your e-mail address so that the city can answer you."))
    subject = first_question(conversation)[:SUBJECT_LENGTH] or _("Question from the chat")
    with transaction.atomic():
        ticket = tickets.create_ticket(
            subject=subject,
            body=transcript_text(conversation, note),
            channel="chat",
            language=conversation.language,
            resident=resident,
            name=name.strip(),
            email=email.strip(),
            conversation=conversation,
            request=request,
        )
        audit.record(
            "inquiries.chat.handed_over",
            request=request,
            actor=resident,
            target=conversation,
            subject=resident,
            details={"ticket": ticket.reference, "turns": conversation.turns.count()},
        )
    return ticket
