"""News and messages to residents: articles (お知らせ), segments, templates, messages and
their deliveries, alerts (防災・避難情報), and each resident's channel links.

The vocabulary follows GOV.UK Notify where it fits: a *template* with ``((placeholders))``
per language, a *message* sent to a *segment*, one *delivery* per resident and channel.
A delivery is the unit of "at most once": ``(message, user, channel)`` is unique and a
row moves ``queued → claimed → sending → sent`` (or ``failed`` / ``unknown``), see
ADR 0011.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cityhall.core.models import District
from cityhall.people.models import Channel, Department, Interest

#: Topics a message or article is about. The resident's interests (profile) switch the
#: interest topics on; ``personal`` (my applications and payments) is on unless muted;
#: ``emergency`` follows the emergency consent and the district.
PERSONAL = "personal"
EMERGENCY = "emergency"
TOPIC_CHOICES: list[tuple[str, Any]] = [
    *Interest.choices,
    (PERSONAL, _("My applications and payments")),
    (EMERGENCY, _("Emergency alerts")),
]
TOPICS = [value for value, _label in TOPIC_CHOICES]
CHANNELS = [value for value, _label in Channel.choices]


class Audience(models.TextChoices):
    EVERYONE = "everyone", _("Everyone")
    FAMILIES = "families", _("Families with children")
    ELDERLY = "elderly", _("Older people and carers")
    FOREIGN = "foreign", _("Foreign residents")
    BUSINESS = "business", _("Businesses")


class Article(models.Model):
    """お知らせ / 広報いが item: one card, written once, with language versions."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    slug = models.SlugField(max_length=80, unique=True)
    topic = models.CharField(_("topic"), max_length=32, choices=TOPIC_CHOICES)
    audience = models.CharField(
        _("audience"), max_length=16, choices=Audience.choices, default=Audience.EVERYONE
    )
    districts = models.ManyToManyField(
        District,
        blank=True,
        related_name="articles",
        verbose_name=_("districts"),
        help_text=_("Leave empty for the whole city."),
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles"
    )
    valid_from = models.DateTimeField(_("shown from"), default=timezone.now)
    valid_until = models.DateTimeField(_("shown until"), null=True, blank=True)
    urgent = models.BooleanField(_("urgent"), default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-urgent", "-published_at", "-id"]
        indexes = [models.Index(fields=["status", "valid_from"])]
        verbose_name = _("article (お知らせ)")
        verbose_name_plural = _("articles")

    def __str__(self) -> str:
        return self.slug


class ArticleVersion(models.Model):
    """The article in one language. Japanese is the original; others need a person's approval
    before residents see them (a machine draft is marked as such)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    language = models.CharField(max_length=10)
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=400, blank=True)
    body_html = models.TextField(_("text"), help_text=_("Sanitised HTML."))
    machine_translated = models.BooleanField(default=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "language"], name="article_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.article_id}/{self.language}"


class ArticleAttachment(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="notices/%Y/%m/")
    title = models.CharField(_("title"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.title


class Segment(models.Model):
    """A saved audience: filters over profile facets (see services/segments.py)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.CharField(_("description"), max_length=400, blank=True)
    filters = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    last_count = models.PositiveIntegerField(null=True, blank=True)
    last_counted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self) -> str:
        return self.name


class MessageTemplate(models.Model):
    """Subject and text per language with ``((placeholders))``.

    ``content`` = ``{"ja": {"subject": "…", "body": "…"}, "en": {…}, …}``; Japanese is
    required. Emergency templates are presets loaded from ``data/alert_templates.json``.
    """

    class Kind(models.TextChoices):
        NEWS = "news", _("News and information")
        EMERGENCY = "emergency", _("Emergency alert")
        PERSONAL = "personal", _("Personal (reminders)")

    code = models.SlugField(max_length=80, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.NEWS)
    topic = models.CharField(_("topic"), max_length=32, choices=TOPIC_CHOICES)
    content = models.JSONField(default=dict)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")

    def __str__(self) -> str:
        return self.name


class Message(models.Model):
    """One send: a template's content for a segment (or an alert's districts), now or later."""

    class Kind(models.TextChoices):
        NEWS = "news", _("News and information")
        EMERGENCY = "emergency", _("Emergency alert")
        PERSONAL = "personal", _("Personal")

    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        QUEUING = "queuing", _("Being queued")
        SENDING = "sending", _("Sending")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Level(models.TextChoices):
        """Evacuation information levels (警戒レベル) and other alert kinds."""

        INFO = "info", _("Information")
        LEVEL3 = "level3", _("Level 3: older people and others evacuate")
        LEVEL4 = "level4", _("Level 4: everyone evacuate")
        LEVEL5 = "level5", _("Level 5: emergency safety measures")
        ALL_CLEAR = "all_clear", _("All clear")

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.NEWS)
    topic = models.CharField(max_length=32, choices=TOPIC_CHOICES)
    template = models.ForeignKey(
        MessageTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    #: Rendered per language with the message-level values filled; only per-resident
    #: placeholders (``((name))``) remain: ``{"ja": {"subject": …, "body": …}, …}``.
    content = models.JSONField(default=dict)
    values = models.JSONField(default=dict, blank=True)
    segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    #: The segment's filters as they were when the message was queued (or an alert's
    #: ``{"districts": [...]}``; empty districts = the whole city).
    filters = models.JSONField(default=dict, blank=True)
    channels = models.JSONField(default=list, blank=True, help_text="Empty: every channel.")
    level = models.CharField(max_length=16, choices=Level.choices, blank=True)
    article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    scheduled_at = models.DateTimeField(null=True, blank=True, db_index=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.SCHEDULED)
    recipients = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    #: Counts kept after delivery rows are purged (retention): {"email": {"sent": 3, …}, …}.
    stats = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return f"message {self.pk}"


class Delivery(models.Model):
    """One message to one resident on one channel — at most once (unique triple)."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        CLAIMED = "claimed", _("Taken by a worker")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        OPENED = "opened", _("Opened")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Outcome unknown")
        SKIPPED = "skipped", _("Skipped")

    id = models.BigAutoField(primary_key=True)
    key = models.UUIDField(default=uuid.uuid4, unique=True, help_text="Idempotency key.")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    language = models.CharField(max_length=10, default="ja")
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claim = models.CharField(max_length=32, blank=True, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    provider = models.CharField(max_length=32, blank=True)
    provider_ref = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=400, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message", "user", "channel"], name="delivery_at_most_once"
            )
        ]
        indexes = [
            models.Index(fields=["channel", "state", "next_attempt_at"]),
            models.Index(fields=["message", "state"]),
        ]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")

    def __str__(self) -> str:
        return f"{self.message_id}/{self.user_id}/{self.channel}"


class InboxItem(models.Model):
    """The in-app inbox (and the personal part of the feed)."""

    class Kind(models.TextChoices):
        MESSAGE = "message", _("Message")
        ALERT = "alert", _("Emergency alert")
        APPLICATION = "application", _("Application")
        PAYMENT = "payment", _("Payment")
        INQUIRY = "inquiry", _("Inquiry")
        BOOKING = "booking", _("Booking")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox_items"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    #: What made it, so a repeated event or a resumed batch adds nothing: "delivery:12",
    #: "application:ABC-123:accepted" …
    source_key = models.CharField(max_length=120)
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbox_items"
    )
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    urgent = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-urgent", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "source_key"], name="inbox_item_once")
        ]

    def __str__(self) -> str:
        return self.title


class DeliveryPreferences(models.Model):
    """How a resident wants to be reached, beyond the profile's channels and interests."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delivery_preferences"
    )
    quiet_start = models.TimeField(_("quiet from"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet until"), null=True, blank=True)
    #: Topics switched off that are not interests (``personal``).
    muted_topics = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"


class LineLink(models.Model):
    """A LINE account linked through LINE Login (the user id the Messaging API pushes to)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="line_link"
    )
    line_user_id = models.CharField(max_length=64, unique=True)
    display_name = models.CharField(max_length=200, blank=True)
    linked_at = models.DateTimeField(default=timezone.now)
    blocked_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when LINE says the user blocked the account."
    )

    def __str__(self) -> str:
        return f"LINE of {self.user_id}"


class PushSubscription(models.Model):
    """A browser's Web Push subscription (RFC 8030 endpoint + RFC 8291 keys)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_success_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"push subscription {self.pk} of {self.user_id}"
