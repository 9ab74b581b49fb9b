"""Public money (公金): what is owed, the slips that collect it, and what came in.

The chain, from charge to booked revenue:

- :class:`PaymentKind` (公金の種類): configuration — 税目・料金番号, account, instalment rule.
- :class:`Charge` (調定): an amount a payer owes for one kind and fiscal year, imported
  from the core systems or created by a procedure's fee.
- :class:`Installment` (期別): one due part of a charge, with its 納期限.
- :class:`PaymentNotice` (納付書): the slip for an installment, with the eL-QR payload,
  the eL番号 and (within the agent's limit) the convenience-store barcode. A reissue
  makes a new notice and marks the old one superseded; an old slip stays payable and
  is recognised when it comes back.
- :class:`Payment` (収納): money received through any channel; ``FINAL`` payments are
  booked revenue.
- :class:`ImportedFile` / :class:`ReconciliationLine`: every file read (charges, agent
  files, bank results) with its hash, and every row with its outcome (消込).
- :class:`OnlinePayment`: a card or wallet payment through the provider adapter.
- :class:`PrintRun`: a batch of slips printed to PDF parts.

Money is integer yen everywhere (``BigIntegerField``); no float touches an amount.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cityhall.core.fields import EncryptedTextField
from cityhall.core.models import LocalizedNameMixin


class Channel(models.TextChoices):
    """How money came in (収納チャネル)."""

    CVS = "cvs", _("Convenience store or payment app")
    ELQR = "elqr", _("eL-QR (bank, Pay-easy, 地方税お支払サイト)")
    BANK_DEBIT = "debit", _("Direct debit (口座振替)")
    POSTAL = "postal", _("Post office (ゆうちょ)")
    ONLINE = "online", _("Card or wallet online")
    COUNTER = "counter", _("At the city hall counter")


class PaymentKind(LocalizedNameMixin):
    """公金の種類: a kind of public money (個人住民税, 水道料金, 手数料 …).

    Configuration, not code: loaded from ``payments/data/kinds.json`` by ``cityhall seed``
    and editable in the admin.
    """

    code = models.SlugField(unique=True, max_length=40)
    tax_code = models.CharField(
        _("税目・料金番号"), max_length=3, help_text="3 digits, from the eLTAX registration."
    )
    is_tax = models.BooleanField(_("is a tax"), default=False)
    department = models.ForeignKey(
        "people.Department", on_delete=models.PROTECT, related_name="payment_kinds"
    )
    account_code = models.CharField(
        _("account code (会計・科目)"),
        max_length=40,
        blank=True,
        help_text="Where the finance system books this revenue, e.g. 01-01-01-01.",
    )
    installments = models.JSONField(
        default=list,
        blank=True,
        help_text="Ordinary instalment schedule: [{'period': 1, 'month': 6, 'day': 30}, …] "
        "(月 counted in the fiscal year from April).",
    )
    cvs_allowed = models.BooleanField(_("convenience-store barcode"), default=True)
    online_allowed = models.BooleanField(_("card and wallet payment online"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("kind of public money (公金の種類)")
        verbose_name_plural = _("kinds of public money")


class PayerAccount(models.Model):
    """Links a payer of the core systems (宛名番号) to a resident's account.

    Charges carry the payer key; a resident sees the charges of the payer keys linked
    to them. A clerk links them (audited) after checking identity.
    """

    payer_key = models.CharField(_("宛名番号 (payer number)"), max_length=20, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="payer_accounts"
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("payer link")

    def __str__(self) -> str:
        return f"{self.payer_key} → {self.user_id}"


class ImportedFile(models.Model):
    """A file read into payments: charges from a core system, or a collection file.

    Recorded with its SHA-256 so that reading the same file again is a no-op. A file
    that fails validation is recorded with ``status=REJECTED`` and its problems, and
    changes nothing else.
    """

    class Kind(models.TextChoices):
        CHARGES = "charges", _("Charges (調定) from a core system")
        AGENT_CSV = "agent", _("Collection agent file (コンビニ・スマホ決済)")
        ZENGIN = "zengin", _("Direct-debit results (全銀)")
        IFS = "ifs", _("eL-QR payments (共通納税IFS)")

    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        REJECTED = "rejected", _("Rejected")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.APPLIED)
    rows = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True, help_text="{outcome: count}")
    problems = models.JSONField(default=list, blank=True, help_text="[{line, field, detail}]")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("imported file")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "sha256"],
                condition=Q(status="applied"),
                name="imported_file_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.filename}"


class Charge(models.Model):
    """調定: what one payer owes for one kind of public money in one fiscal year."""

    class Source(models.TextChoices):
        IMPORT = "import", _("Core system")
        PROCEDURE = "procedure", _("Procedure fee")
        MANUAL = "manual", _("Entered by staff")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")

    kind = models.ForeignKey(PaymentKind, on_delete=models.PROTECT, related_name="charges")
    fiscal_year = models.PositiveSmallIntegerField(_("賦課年度 (fiscal year)"))
    tax_year = models.PositiveSmallIntegerField(_("課税年度 (tax year)"))
    reference = models.CharField(_("調定番号 (charge number)"), max_length=20)
    payer_key = models.CharField(_("宛名番号 (payer number)"), max_length=20, db_index=True)
    payer_name = models.CharField(_("payer name"), max_length=120)
    payer_kana = models.CharField(_("payer name (kana)"), max_length=200, blank=True)
    payer_postal_code = models.CharField(_("postal code"), max_length=8, blank=True)
    payer_address = EncryptedTextField(_("address"), blank=True, default="")
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="charges",
        help_text="The resident's account, from the payer link (or the applicant of a fee).",
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.IMPORT)
    application = models.OneToOneField(
        "procedures.Application",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="charge",
    )
    imported_file = models.ForeignKey(
        ImportedFile, null=True, blank=True, on_delete=models.PROTECT, related_name="charges"
    )
    total_yen = models.BigIntegerField(default=0)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-fiscal_year", "kind__code", "reference"]
        verbose_name = _("charge (調定)")
        verbose_name_plural = _("charges")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "fiscal_year", "reference"], name="charge_reference_unique"
            ),
            models.CheckConstraint(condition=Q(total_yen__gte=0), name="charge_total_nonneg"),
        ]
        indexes = [
            models.Index(fields=["resident", "-fiscal_year"], name="charge_resident"),
            models.Index(fields=["kind", "fiscal_year", "status"], name="charge_kind_year"),
        ]

    def __str__(self) -> str:
        return f"{self.kind.code} {self.fiscal_year} {self.reference}"


class Installment(models.Model):
    """期別: one due part of a charge."""

    class Status(models.TextChoices):
        OPEN = "open", _("Not paid yet")
        PROVISIONAL = "provisional", _("Paid at a store (being confirmed)")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")

    charge = models.ForeignKey(Charge, on_delete=models.CASCADE, related_name="installment_set")
    period = models.PositiveSmallIntegerField(_("期別 (instalment)"))
    amount_yen = models.BigIntegerField()
    due_date = models.DateField(_("納期限 (due date)"))
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    paid_yen = models.BigIntegerField(default=0)
    paid_on = models.DateField(null=True, blank=True)
    paid_channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["charge_id", "period"]
        verbose_name = _("instalment (期別)")
        constraints = [
            models.UniqueConstraint(fields=["charge", "period"], name="installment_period_unique"),
            models.CheckConstraint(
                condition=Q(amount_yen__gte=0), name="installment_amount_nonneg"
            ),
        ]
        indexes = [models.Index(fields=["status", "due_date"], name="installment_due")]

    def __str__(self) -> str:
        return f"{self.charge_id}/{self.period}"


class PaymentNotice(models.Model):
    """納付書: the slip for one installment (one row per issue; reissues are new rows).

    ``notice_number`` is the eL-QR 案件特定キー (20 digits) and ``check_number`` the
    確認番号 (6 digits, an HMAC under the city's payment secret, never derivable from
    public data). ``cvs_barcode`` is the 44-digit GS1-128 content, empty when the amount
    is over the agent's limit or the kind allows no store payment.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Valid")
        SUPERSEDED = "superseded", _("Replaced by a reissued slip")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")

    installment = models.ForeignKey(Installment, on_delete=models.CASCADE, related_name="notices")
    notice_number = models.CharField(_("案件特定キー (notice number)"), max_length=20, unique=True)
    reissue = models.PositiveSmallIntegerField(_("再発行区分 (reissue)"), default=0)
    check_number = models.CharField(_("確認番号 (check number)"), max_length=6)
    amount_yen = models.BigIntegerField()
    due_date = models.DateField(_("納期限 (due date)"))
    pay_by = models.DateField(_("支払期限 (last day at a store)"))
    elqr_payload = models.CharField(max_length=255)
    cvs_barcode = models.CharField(max_length=44, blank=True, default="")
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    print_run = models.ForeignKey(
        "PrintRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="notices"
    )
    print_seq = models.PositiveIntegerField(null=True, blank=True)
    issued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["installment_id", "reissue"]
        verbose_name = _("payment slip (納付書)")
        verbose_name_plural = _("payment slips")
        constraints = [
            models.UniqueConstraint(
                fields=["cvs_barcode"], condition=~Q(cvs_barcode=""), name="notice_barcode_unique"
            ),
            models.UniqueConstraint(
                fields=["installment", "reissue"], name="notice_reissue_unique"
            ),
            models.UniqueConstraint(
                fields=["print_run", "print_seq"],
                condition=Q(print_run__isnull=False),
                name="notice_print_seq_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.notice_number


class Payment(models.Model):
    """収納: money received for an installment through one channel.

    ``PROVISIONAL`` (速報: paid at a store, stop reminders) becomes ``FINAL`` (確報:
    booked revenue, with the 振込日 when the agent transfers it) or ``REVERSED``
    (速報取消). ``FINAL`` rows are what the revenue export books.
    """

    class State(models.TextChoices):
        PROVISIONAL = "provisional", _("Provisional (速報)")
        FINAL = "final", _("Final (確報)")
        REVERSED = "reversed", _("Reversed")
        REFUNDED = "refunded", _("Refunded")

    installment = models.ForeignKey(
        Installment, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    notice = models.ForeignKey(
        PaymentNotice, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    state = models.CharField(max_length=12, choices=State.choices, db_index=True)
    amount_yen = models.BigIntegerField()
    paid_on = models.DateField(_("収納日 (paid on)"))
    booked_on = models.DateField(_("振込日 (booked on)"), null=True, blank=True)
    store_code = models.CharField(max_length=10, blank=True)
    store_name = models.CharField(max_length=40, blank=True)
    source_file = models.ForeignKey(
        ImportedFile, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    online_payment = models.OneToOneField(
        "OnlinePayment", null=True, blank=True, on_delete=models.PROTECT, related_name="payment"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-paid_on", "-id"]
        verbose_name = _("payment (収納)")
        indexes = [
            models.Index(fields=["state", "booked_on"], name="payment_booked"),
            models.Index(fields=["installment", "state"], name="payment_installment"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.amount_yen} {self.state}"


class ReconciliationLine(models.Model):
    """One row of a collection file and what it meant (消込の結果).

    Every row gets an outcome; the exceptions (``needs_review``) wait in the clerk's
    queue until resolved, and each decision is audited.
    """

    class Outcome(models.TextChoices):
        PAID = "paid", _("Paid")
        PROVISIONAL = "provisional", _("Paid at a store (速報)")
        FINAL = "final", _("Booked (確報)")
        REVERSED = "reversed", _("Reversed (速報取消)")
        DUPLICATE = "duplicate", _("Paid twice: refund needed")
        SUPERSEDED = "superseded", _("Old slip paid after a reissue")
        AMOUNT_MISMATCH = "amount_mismatch", _("Amount does not match the slip")
        UNKNOWN = "unknown", _("Unknown code")
        MALFORMED = "malformed", _("Row could not be read")
        NOT_PAID = "not_paid", _("Direct debit not paid")
        ALREADY_READ = "already_read", _("Already read from an earlier file")

    class Resolution(models.TextChoices):
        REFUND = "refund", _("Refund the payer")
        APPLY = "apply", _("Apply to the charge")
        BOOK_OTHER = "book_other", _("Book against another charge")
        WRITE_OFF = "write_off", _("No action needed")

    file = models.ForeignKey(ImportedFile, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField()
    record_kind = models.CharField(max_length=4, blank=True)
    code = models.CharField(max_length=64, blank=True, help_text="Barcode or eL番号 as read.")
    amount_yen = models.BigIntegerField(null=True, blank=True)
    paid_on = models.DateField(null=True, blank=True)
    booked_on = models.DateField(null=True, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    store_code = models.CharField(max_length=10, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, db_index=True)
    reason = models.CharField(max_length=300, blank=True)
    notice = models.ForeignKey(
        PaymentNotice, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="lines"
    )
    raw = models.TextField(blank=True)
    needs_review = models.BooleanField(default=False)
    resolution = models.CharField(max_length=12, choices=Resolution.choices, blank=True)
    resolution_note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["file_id", "line_no"]
        verbose_name = _("reconciliation line (消込)")
        constraints = [
            models.UniqueConstraint(fields=["file", "line_no"], name="recon_line_unique")
        ]
        indexes = [
            models.Index(
                fields=["needs_review", "outcome"],
                condition=Q(needs_review=True),
                name="recon_queue",
            )
        ]

    def __str__(self) -> str:
        return f"{self.file_id}:{self.line_no} {self.outcome}"


class OnlinePayment(models.Model):
    """A card or wallet payment through the provider's hosted payment page.

    States (GOV.UK Pay's lesson: explicit and final ones never change):
    ``created`` → ``started`` (resident sent to the provider) → ``success`` |
    ``failed`` | ``cancelled`` | ``error``; ``success`` → ``refunded`` (all of it) or
    stays ``success`` with ``refunded_yen`` for part refunds.
    """

    class State(models.TextChoices):
        CREATED = "created", _("Created")
        STARTED = "started", _("Waiting for the payer")
        SUCCESS = "success", _("Paid")
        FAILED = "failed", _("Declined")
        CANCELLED = "cancelled", _("Cancelled")
        ERROR = "error", _("Error")
        REFUNDED = "refunded", _("Refunded")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    notice = models.ForeignKey(
        PaymentNotice, on_delete=models.PROTECT, related_name="online_payments"
    )
    payer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="online_payments"
    )
    amount_yen = models.BigIntegerField()
    provider = models.CharField(max_length=20)
    provider_payment_id = models.CharField(max_length=80, blank=True)
    idempotency_key = models.CharField(max_length=64, unique=True)
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.CREATED, db_index=True
    )
    method = models.CharField(max_length=20, blank=True, help_text="card, paypay …")
    refunded_yen = models.BigIntegerField(default=0)
    failure_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("online payment")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_payment_id"],
                condition=~Q(provider_payment_id=""),
                name="online_provider_id_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.amount_yen} {self.state}"


class OnlinePaymentEvent(models.Model):
    """What the provider told us or we did: state changes, webhooks (deduplicated by id)."""

    payment = models.ForeignKey(OnlinePayment, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30)
    from_state = models.CharField(max_length=10, blank=True)
    to_state = models.CharField(max_length=10, blank=True)
    provider_event_id = models.CharField(max_length=80, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider_event_id"],
                condition=~Q(provider_event_id=""),
                name="online_event_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.payment_id}"


class Refund(models.Model):
    """Money given back: for an online payment through the provider, or by bank
    transfer for a slip paid twice (decided in the reconciliation queue)."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        SUCCESS = "success", _("Refunded")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    online_payment = models.ForeignKey(
        OnlinePayment, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    line = models.ForeignKey(
        ReconciliationLine, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    amount_yen = models.BigIntegerField()
    reason = models.CharField(max_length=300)
    state = models.CharField(max_length=10, choices=State.choices, default=State.REQUESTED)
    provider_refund_id = models.CharField(max_length=80, blank=True)
    idempotency_key = models.CharField(max_length=64, unique=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_yen__gt=0), name="refund_amount_positive")
        ]

    def __str__(self) -> str:
        return f"{self.amount_yen} {self.state}"


class PrintRun(models.Model):
    """A batch of slips printed to PDF files in parts (a background task).

    The notices of a run are numbered ``print_seq`` 1…N when the run is created. Part
    *k* holds seq ``(k-1)·part_size+1 … k·part_size`` and is written to a temporary
    file then renamed, so after a crash the run resumes at the first missing part:
    no slip is printed twice and none is skipped.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Printing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Stopped with an error")

    title = models.CharField(max_length=200)
    params = models.JSONField(default=dict, blank=True, help_text="Which notices were chosen.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    printed = models.PositiveIntegerField(default=0)
    part_size = models.PositiveIntegerField(default=1000)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("print run")

    def __str__(self) -> str:
        return self.title


class PrintRunPart(models.Model):
    """One finished PDF file of a print run."""

    run = models.ForeignKey(PrintRun, on_delete=models.CASCADE, related_name="parts")
    number = models.PositiveIntegerField()
    first_seq = models.PositiveIntegerField()
    last_seq = models.PositiveIntegerField()
    path = models.CharField(max_length=300, help_text="Relative to MEDIA_ROOT.")
    sha256 = models.CharField(max_length=64)
    pages = models.PositiveIntegerField()
    finished_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["run_id", "number"]
        constraints = [models.UniqueConstraint(fields=["run", "number"], name="print_part_unique")]

    def __str__(self) -> str:
        return f"{self.run_id} part {self.number}"


class Reminder(models.Model):
    """督促・催告: an overdue installment for which a reminder was asked.

    Sent through the notices module's hook when it is installed
    (:func:`cityhall.payments.services.reminders.register_reminder_sender`); until then
    rows stay ``waiting`` and the clerk sees them.
    """

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting for a channel")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Not needed (paid meanwhile)")

    installment = models.ForeignKey(Installment, on_delete=models.CASCADE, related_name="reminders")
    state = models.CharField(max_length=8, choices=State.choices, default=State.WAITING)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    channel = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["installment"], condition=Q(state="waiting"), name="reminder_one_waiting"
            )
        ]

    def __str__(self) -> str:
        return f"{self.installment_id} {self.state}"
