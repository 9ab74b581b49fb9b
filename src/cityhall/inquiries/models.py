"""Inquiries (問い合わせ・相談): the FAQ knowledge base, chat conversations, tickets and
bookings of counter visits and consultations.

Vocabulary, after Open Klant and Signalen: a resident's question that needs a person is a
*ticket* (問い合わせ) with a thread of *messages*; it is routed to a department by *rules*
or by the classifier, or lands in the *triage* queue. A *booking* (予約) takes one place in
a *slot* of a *booking service* (来庁予約, 子育て相談 …) at a *place*.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cityhall.people.models import Department

# --- FAQ ------------------------------------------------------------------------------------


class FaqCategory(models.TextChoices):
    GARBAGE = "garbage", _("Rubbish and recycling")
    RESIDENCY = "residency", _("Residence records and family register")
    TAX = "tax", _("Taxes")
    INSURANCE = "insurance", _("Health insurance and pension")
    CHILDCARE = "childcare", _("Children and childcare")
    CARE = "care", _("Elderly care and welfare")
    HEALTH = "health", _("Health and medical care")
    DISASTER = "disaster", _("Disaster prevention")
    FOREIGN = "foreign", _("Foreign residents")
    HOUSING = "housing", _("Housing, roads and water")
    EDUCATION = "education", _("Schools and learning")
    MYNUMBER = "mynumber", _("My Number card")
    DIGITAL = "digital", _("Online services")
    OTHER = "other", _("Other")


class FaqEntry(models.Model):
    """よくある質問: one question with its answer, in Japanese and in translations."""

    #: The id of the source CSV (``import-faq`` upserts by it), e.g. ``gomi-001``.
    key = models.CharField(_("id"), max_length=64, unique=True)
    category = models.CharField(
        _("category"), max_length=20, choices=FaqCategory.choices, default=FaqCategory.OTHER
    )
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="faq_entries",
        verbose_name=_("department"),
    )
    #: Slugs of related procedures (the procedures module's catalogue).
    procedures = models.JSONField(_("related procedures"), default=list, blank=True)
    url = models.URLField(_("source page"), max_length=300, blank=True)
    review_on = models.DateField(_("review by"), null=True, blank=True)
    published = models.BooleanField(_("published"), default=True)
    #: Times the chat or search showed it first, and what residents said of it.
    shown_count = models.PositiveIntegerField(default=0)
    helpful_count = models.PositiveIntegerField(default=0)
    unhelpful_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        verbose_name = _("FAQ entry")
        verbose_name_plural = _("FAQ entries")

    def __str__(self) -> str:
        return self.key


class FaqText(models.Model):
    """One language version of an FAQ entry (``ja`` is the original and required)."""

    entry = models.ForeignKey(FaqEntry, on_delete=models.CASCADE, related_name="texts")
    language = models.CharField(_("language"), max_length=10)
    question = models.CharField(_("question"), max_length=500)
    answer = models.TextField(_("answer"))
    #: Extra search words (other spellings, colloquial names), any language.
    keywords = models.CharField(_("search words"), max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["entry", "language"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "language"], name="faqtext_one_per_language")
        ]

    def __str__(self) -> str:
        return f"{self.entry.key} [{self.language}]"


class FaqImport(models.Model):
    """One applied ``import-faq`` file, by content hash: importing it again is a no-op."""

    sha256 = models.CharField(max_length=64, unique=True)
    filename = models.CharField(max_length=300)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    imported_at = models.DateTimeField(default=timezone.now)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return self.filename


# --- chat -----------------------------------------------------------------------------------


class Conversation(models.Model):
    """A chat with the FAQ assistant; kept so a hand-over gives the clerk the whole talk."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
    )
    language = models.CharField(max_length=10, default="ja")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return str(self.public_id)


class ChatTurn(models.Model):
    class Role(models.TextChoices):
        RESIDENT = "resident", _("Resident")
        ASSISTANT = "assistant", _("Assistant")
        SYSTEM = "system", _("System")

    class Feedback(models.TextChoices):
        NONE = "", _("No feedback")
        HELPED = "helped", _("Helped")
        NOT_HELPED = "not_helped", _("Did not help")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="turns")
    role = models.CharField(max_length=10, choices=Role.choices)
    text = models.TextField(blank=True)
    #: For an assistant turn: ``[{"id": key, "score": float}]`` best first; a generated
    #: answer's citations are keys of this list.
    results = models.JSONField(default=list, blank=True)
    generated = models.BooleanField(default=False)
    feedback = models.CharField(max_length=12, choices=Feedback.choices, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["conversation", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.role}: {self.text[:40]}"


# --- tickets --------------------------------------------------------------------------------


class TicketChannel(models.TextChoices):
    WEB = "web", _("Web form")
    CHAT = "chat", _("Chat hand-over")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    COUNTER = "counter", _("Counter")


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("In progress")
    WAITING = "waiting", _("Waiting for the resident")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


class Ticket(models.Model):
    """問い合わせ: a question for a person, with its thread (Open Klant's contact moment)."""

    class RoutedBy(models.TextChoices):
        RULE = "rule", _("Rule")
        CLASSIFIER = "classifier", _("Classifier")
        TRIAGE = "triage", _("Triage queue")
        STAFF = "staff", _("Staff")

    reference = models.CharField(_("reference"), max_length=20, unique=True)
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    #: For a resident without an account (e-mail, web form while logged out).
    name = models.CharField(_("name"), max_length=120, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    language = models.CharField(_("language"), max_length=10, default="ja")
    channel = models.CharField(
        _("channel"), max_length=10, choices=TicketChannel.choices, default=TicketChannel.WEB
    )
    subject = models.CharField(_("subject"), max_length=200)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=TicketStatus.choices,
        default=TicketStatus.NEW,
        db_index=True,
    )
    #: ``None`` while it waits in the triage queue.
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("department"),
    )
    routed_by = models.CharField(max_length=12, choices=RoutedBy.choices, default=RoutedBy.TRIAGE)
    #: The classifier's confidence in its department (0–1), for rule and triage too.
    confidence = models.FloatField(null=True, blank=True)
    #: The classifier's best department when its confidence was below the threshold: shown
    #: to the triage clerk as a suggestion (the ticket itself waits with no department).
    suggested_department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("suggested department"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    #: Message-ID of the e-mail that opened it (an e-mail read twice opens nothing new).
    source_message_id = models.CharField(max_length=300, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    #: SLA: the first answer is due by then (working days, CITYHALL_INQUIRIES_SLA_DAYS).
    due_at = models.DateTimeField(_("answer due"), null=True, blank=True)
    first_answer_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("inquiry")
        verbose_name_plural = _("inquiries")
        indexes = [models.Index(fields=["department", "status"])]

    def __str__(self) -> str:
        return self.reference


class TicketMessage(models.Model):
    class Kind(models.TextChoices):
        RESIDENT = "resident", _("From the resident")
        STAFF = "staff", _("Answer from the city")
        NOTE = "note", _("Internal note")
        EVENT = "event", _("Event")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    #: E-mail Message-ID (inbound) — unique when set, so a re-read mailbox adds nothing.
    email_message_id = models.CharField(max_length=300, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["ticket", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind}"


class RoutingRule(models.Model):
    """A word (or several, comma-separated) that sends a ticket to a department."""

    words = models.CharField(_("words"), max_length=300)
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="routing_rules"
    )
    priority = models.PositiveSmallIntegerField(_("priority"), default=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["priority", "pk"]

    def __str__(self) -> str:
        return self.words


class ReplyTemplate(models.Model):
    """定型文: an answer a clerk starts from; ``department`` empty = every department."""

    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.CASCADE, related_name="reply_templates"
    )
    title = models.CharField(_("title"), max_length=120)
    #: ``{"ja": "…", "en": "…"}``; the ticket's language is picked, else Japanese.
    bodies = models.JSONField(_("texts"), default=dict)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


# --- bookings -------------------------------------------------------------------------------


class Place(models.Model):
    """Where residents come: a counter of the city hall, a branch, a 地区市民センター."""

    code = models.SlugField(unique=True)
    names = models.JSONField(default=dict)  # {"ja": "…", "en": "…"}
    address = models.CharField(max_length=200, blank=True)
    access = models.TextField(blank=True)  # how to get there, Japanese
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def name(self, language: str | None = None) -> str:
        return str(self.names.get(language or "ja") or self.names.get("ja") or self.code)


class BookingKind(models.TextChoices):
    COUNTER = "counter", _("Counter visit")
    CHILDCARE = "childcare", _("Childcare consultation")
    CARE = "care", _("Elderly care consultation")
    FOREIGN = "foreign", _("Consultation for foreign residents")
    DIGITAL = "digital", _("Digital help session")


class BookingService(models.Model):
    """What can be booked (来庁予約, 子育て相談 …): kind, department, length, languages."""

    slug = models.SlugField(unique=True)
    kind = models.CharField(max_length=12, choices=BookingKind.choices)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="booking_services"
    )
    names = models.JSONField(default=dict)
    descriptions = models.JSONField(default=dict, blank=True)
    minutes = models.PositiveSmallIntegerField(default=30)
    #: Interpreter languages a resident may ask for (外国人相談), e.g. ["pt", "vi", "en"].
    interpreter_languages = models.JSONField(default=list, blank=True)
    #: Hours before the start after which a resident can no longer book or cancel online.
    cutoff_hours = models.PositiveSmallIntegerField(default=2)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "slug"]

    def __str__(self) -> str:
        return self.slug

    def name(self, language: str | None = None) -> str:
        return str(self.names.get(language or "ja") or self.names.get("ja") or self.slug)


class Slot(models.Model):
    """One bookable time of one service at one place, with room for ``capacity`` people."""

    service = models.ForeignKey(BookingService, on_delete=models.CASCADE, related_name="slots")
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="slots")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="booking_slots",
    )
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    capacity = models.PositiveSmallIntegerField(default=1)
    #: Places taken; changed only by one conditional UPDATE (``booked < capacity``), so two
    #: residents booking the last place at the same moment cannot both get it.
    booked = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(booked__lte=F("capacity")), name="slot_not_overbooked"
            ),
            models.UniqueConstraint(
                fields=["service", "place", "starts_at", "staff"], name="slot_unique_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def free(self) -> int:
        return max(self.capacity - self.booked, 0)


class Booking(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        CANCELLED = "cancelled", _("Cancelled")
        ATTENDED = "attended", _("Attended")
        NO_SHOW = "no_show", _("Did not come")

    reference = models.CharField(max_length=20, unique=True)
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="bookings")
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bookings"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    interpreter_language = models.CharField(max_length=10, blank=True)
    #: What the resident wants to talk about (optional, shown to the consultant only).
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["slot__starts_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["slot", "resident"],
                condition=Q(status="booked"),
                name="booking_once_per_slot",
            )
        ]

    def __str__(self) -> str:
        return self.reference
