"""Procedures (手続き), their forms, and the applications (申請) made with them.

One form model serves the resident online and the clerk at the counter: a
:class:`FormDefinition` holds the draft that staff edit; publishing freezes it as
an immutable :class:`FormVersion`, and each :class:`Application` keeps the version
it was made with. The form specification itself is plain JSON, described and
validated by the framework-free :mod:`cityhall.procedures.formspec`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cityhall.core.fields import EncryptedJSONField, EncryptedTextField
from cityhall.procedures.formspec.text import pick


class Category(models.TextChoices):
    RESIDENCE = "residence", _("Residence and certificates")
    FAMILY = "family", _("Family register, marriage and death")
    PREGNANCY = "pregnancy", _("Pregnancy and birth")
    CHILDCARE = "childcare", _("Children and childcare")
    CARE = "care", _("Elderly and long-term care")
    WELFARE = "welfare", _("Welfare and disability")
    HEALTH = "health", _("Health and insurance")
    TAX = "tax", _("Taxes")
    ENVIRONMENT = "environment", _("Garbage and environment")
    ANIMALS = "animals", _("Pets and animals")
    HOUSING = "housing", _("Housing, water and roads")
    EDUCATION = "education", _("Schools and education")


class Channel(models.TextChoices):
    ONLINE = "online", _("Online")
    COUNTER = "counter", _("At the counter")
    BOTH = "both", _("Online or at the counter")


class Procedure(models.Model):
    """手続き: one entry of the catalogue. Texts are ``{language: text}`` dictionaries."""

    TEXT_KEYS = ("title", "summary", "eligibility", "bring", "fee", "where", "hours")

    slug = models.SlugField(unique=True, max_length=80)
    department = models.ForeignKey(
        "people.Department", on_delete=models.PROTECT, related_name="procedures"
    )
    category = models.CharField(max_length=20, choices=Category.choices, db_index=True)
    life_events = models.JSONField(default=list, blank=True, help_text="Life-event slugs.")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.BOTH)
    texts = models.JSONField(
        default=dict,
        help_text="{'title': {'ja': '…', 'en': '…'}, 'summary': {…}, 'eligibility', 'bring', "
        "'fee', 'where', 'hours'}",
    )
    title_ja = models.CharField(max_length=200, editable=False, db_index=True)
    search_text = models.TextField(editable=False, blank=True)
    keywords = models.TextField(blank=True, help_text="Extra search words, any language.")
    requires_identity = models.BooleanField(
        default=False, help_text="Submission needs the デジタル認証アプリ step-up (card)."
    )
    fee_yen = models.PositiveIntegerField(default=0)
    fee_hook = models.CharField(
        max_length=40, blank=True, help_text="Name of the payment hook that collects the fee."
    )
    sla_days = models.PositiveSmallIntegerField(
        default=14, help_text="Working target: days from submission to decision."
    )
    national_priority = models.BooleanField(
        default=False, help_text="On the national list of 26 子育て・介護 procedures."
    )
    order = models.PositiveSmallIntegerField(default=100)
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "title_ja"]
        verbose_name = _("procedure (手続き)")
        verbose_name_plural = _("procedures")

    def __str__(self) -> str:
        return self.title_ja

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.title_ja = pick(self.texts.get("title", {}), "ja") or self.slug
        parts = [self.slug, self.keywords]
        for key in ("title", "summary", "eligibility"):
            parts.extend(str(v) for v in (self.texts.get(key) or {}).values())
        self.search_text = " ".join(parts).casefold()
        super().save(*args, **kwargs)

    def text(self, key: str, language: str | None = None) -> str:
        return pick(self.texts.get(key) or {}, language or get_language() or "ja")

    @property
    def title(self) -> str:
        return self.text("title")

    @property
    def online(self) -> bool:
        return self.channel in (Channel.ONLINE, Channel.BOTH)


class FormDefinition(models.Model):
    """The editable draft of a procedure's form (a formspec document)."""

    procedure = models.OneToOneField(Procedure, on_delete=models.CASCADE, related_name="form")
    draft = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("form")
        verbose_name_plural = _("forms")

    def __str__(self) -> str:
        return f"form of {self.procedure_id}"


class FormVersion(models.Model):
    """A published, immutable version of a form. Applications point at the one they used."""

    definition = models.ForeignKey(
        FormDefinition, on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField()
    spec = models.JSONField()
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["definition", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["definition", "number"], name="form_version_once")
        ]

    def __str__(self) -> str:
        return f"v{self.number} of form {self.definition_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("a published form version never changes")
        super().save(*args, **kwargs)


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    RECEIVED = "received", _("Received")
    IN_REVIEW = "in_review", _("In review")
    NEEDS_INFO = "needs_info", _("More information needed")
    APPROVED = "approved", _("Completed")
    REJECTED = "rejected", _("Not accepted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# Which status may follow which. Staff move applications along these edges;
# the resident may only withdraw (from the statuses in RESIDENT_WITHDRAWABLE).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.DRAFT: (Status.SUBMITTED,),
    Status.SUBMITTED: (Status.RECEIVED, Status.IN_REVIEW, Status.NEEDS_INFO, Status.REJECTED),
    Status.RECEIVED: (Status.IN_REVIEW, Status.NEEDS_INFO, Status.APPROVED, Status.REJECTED),
    Status.IN_REVIEW: (Status.NEEDS_INFO, Status.APPROVED, Status.REJECTED),
    Status.NEEDS_INFO: (Status.IN_REVIEW, Status.REJECTED),
    Status.APPROVED: (),
    Status.REJECTED: (),
    Status.WITHDRAWN: (),
}
RESIDENT_WITHDRAWABLE = (Status.SUBMITTED, Status.RECEIVED, Status.NEEDS_INFO)
# Moving to these needs a message to the resident explaining why.
NEEDS_MESSAGE = (Status.NEEDS_INFO, Status.REJECTED)
OPEN_STATUSES = (Status.SUBMITTED, Status.RECEIVED, Status.IN_REVIEW, Status.NEEDS_INFO)
FINAL_STATUSES = (Status.APPROVED, Status.REJECTED, Status.WITHDRAWN)


class CounterSession(models.Model):
    """書かない窓口: a clerk filling in one or more procedures for a resident at the counter."""

    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="counter_sessions"
    )
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="counter_visits"
    )
    department = models.ForeignKey(
        "people.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    life_event = models.CharField(max_length=40, blank=True)
    procedures = models.JSONField(default=list, blank=True, help_text="Procedure slugs, in order.")
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    # What the resident-facing second screen shows now.
    showing = models.ForeignKey(
        "Application", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"counter session {self.pk}"


class Application(models.Model):
    """申請: a resident's application for a procedure, online or at the counter."""

    class Via(models.TextChoices):
        ONLINE = "online", _("Online")
        COUNTER = "counter", _("At the counter")

    reference = models.CharField(max_length=20, unique=True, null=True, blank=True)
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="applications")
    department = models.ForeignKey(
        "people.Department", on_delete=models.PROTECT, related_name="applications"
    )
    version = models.ForeignKey(FormVersion, on_delete=models.PROTECT, related_name="applications")
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applications"
    )
    via = models.CharField(max_length=10, choices=Via.choices, default=Via.ONLINE)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    data = EncryptedJSONField(default=dict, blank=True)
    applicant_name = EncryptedTextField(blank=True, default="")
    step = models.PositiveSmallIntegerField(default=0, help_text="Next step to fill in (draft).")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_applications",
    )
    idempotency_key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    assurance = models.CharField(max_length=12, blank=True)
    prefill_sources = models.JSONField(default=list, blank=True)
    language = models.CharField(max_length=10, default="ja")
    counter_session = models.ForeignKey(
        CounterSession,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="applications",
    )
    counter_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Counter mode: seconds from opening the form to submitting.",
    )
    resident_confirmed_at = models.DateTimeField(null=True, blank=True)
    fee_yen = models.PositiveIntegerField(default=0)
    fee_status = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("application (申請)")
        verbose_name_plural = _("applications")
        # The case board's filters (bench/case_board.py measures them at 100,000 rows):
        # the id in app_board lets PostgreSQL take a page's rows in board order from the
        # index; app_status serves administrators' view of all departments.
        indexes = [
            models.Index(fields=["department", "status", "-submitted_at", "id"], name="app_board"),
            models.Index(fields=["department", "status", "due_date"], name="app_board_due"),
            models.Index(
                fields=["department", "procedure", "-submitted_at"], name="app_board_proc"
            ),
            models.Index(fields=["assignee", "department", "status"], name="app_assignee"),
            models.Index(fields=["status", "-submitted_at", "id"], name="app_status"),
            models.Index(fields=["applicant", "-created_at"], name="app_applicant"),
        ]

    def __str__(self) -> str:
        return self.reference or f"draft {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def next_statuses(self) -> tuple[str, ...]:
        return TRANSITIONS.get(self.status, ())


class ApplicationEvent(models.Model):
    """What happened to an application: status changes, messages, notes, assignment."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        STATUS = "status", _("Status changed")
        ASSIGNED = "assigned", _("Assigned")
        NOTE = "note", _("Internal note")
        MESSAGE_TO_RESIDENT = "message_out", _("Message to the resident")
        MESSAGE_FROM_RESIDENT = "message_in", _("Message from the resident")
        CONFIRMED = "confirmed", _("Checked and signed by the resident")
        EXPORTED = "exported", _("Exported")
        FEE_PAID = "fee_paid", _("The fee is paid.")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    text = EncryptedTextField(blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    visible_to_resident = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["application", "created_at"], name="app_event_time")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.application_id}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"applications/{instance.application_id}/{instance.sha256[:16]}"


class Attachment(models.Model):
    """A file given with an application (a photo of a document, a signature image)."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="attachments"
    )
    field_key = models.CharField(max_length=80)
    file = models.FileField(upload_to=attachment_path, max_length=200)
    content_type = models.CharField(
        max_length=80, help_text="Found from the content, not the name."
    )
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    original_name = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_name or self.sha256[:12]


class SavedChecklist(models.Model):
    """A resident's own list of procedures from the life-event guide, kept on their account."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="checklists"
    )
    life_event = models.CharField(max_length=40)
    answers = models.JSONField(default=dict, blank=True)
    items = models.JSONField(
        default=list, blank=True, help_text="[{'procedure': slug, 'done': bool}, …]"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"{self.life_event} checklist of {self.user_id}"
