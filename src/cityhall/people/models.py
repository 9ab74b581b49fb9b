"""Residents and staff: accounts, profiles, consents, departments and roles."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cityhall.core.fields import EncryptedDateField, EncryptedTextField
from cityhall.core.models import District, LocalizedNameMixin


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("an e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("email_verified_at", timezone.now())
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """An account: a resident (is_staff False) or a member of staff (is_staff True)."""

    email = models.EmailField(_("e-mail address"), unique=True)
    display_name = models.CharField(_("name to show"), max_length=100, blank=True)
    is_staff = models.BooleanField(_("staff"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")

    def __str__(self) -> str:
        return self.display_name or self.email

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def has_real_email(self) -> bool:
        """False for the placeholder addresses under the reserved ``.invalid`` domain
        (accounts made at the counter without an address, synthetic residents)."""
        return bool(self.email) and not self.email.endswith(".invalid")


class Interest(models.TextChoices):
    CHILDCARE = "childcare", _("Children and childcare")
    EDUCATION = "education", _("Schools and education")
    ELDERLY = "elderly", _("Elderly care and health")
    HEALTH = "health", _("Health and medical care")
    DISASTER = "disaster", _("Disaster prevention")
    GARBAGE = "garbage", _("Garbage and recycling")
    TAX = "tax", _("Taxes and payments")
    EVENTS = "events", _("Events and culture")
    JOBS = "jobs", _("Work and business")
    MULTICULTURAL = "multicultural", _("Living in Japan (for foreign residents)")
    PARTICIPATION = "participation", _("City planning and participation")
    TRANSPORT = "transport", _("Roads, buses and trains")


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    LINE = "line", _("LINE")
    PUSH = "push", _("Browser notifications")
    INBOX = "inbox", _("Inbox on this site")


class ResidentProfile(models.Model):
    """What a resident chose to tell the city about themselves."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    district = models.ForeignKey(
        District, null=True, blank=True, on_delete=models.SET_NULL, related_name="residents"
    )
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    children_birth_years = models.JSONField(default=list, blank=True)
    care_in_household = models.BooleanField(default=False)
    household_size = models.PositiveSmallIntegerField(null=True, blank=True)
    preferred_language = models.CharField(max_length=10, default="ja")
    nationality_foreign = models.BooleanField(
        default=False, help_text="Synthetic population only: a foreign resident."
    )
    interests = models.JSONField(default=list, blank=True)
    channels = models.JSONField(default=list, blank=True)
    phone = EncryptedTextField(_("phone"), blank=True, default="")
    postal_code = models.CharField(_("postal code"), max_length=8, blank=True)
    address = EncryptedTextField(_("address"), blank=True, default="")
    furigana = models.BooleanField(default=False)
    large_text = models.BooleanField(default=False)
    synthetic = models.BooleanField(default=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("resident profile")
        verbose_name_plural = _("resident profiles")

    def __str__(self) -> str:
        return f"profile of {self.user_id}"

    def children_ages(self, today: dt.date | None = None) -> list[int]:
        year = (today or timezone.localdate()).year
        return sorted(max(0, year - int(y)) for y in self.children_birth_years)


class Consent(models.Model):
    """An explicit consent, kept with its history: granting and withdrawing add rows."""

    class Purpose(models.TextChoices):
        PERSONALISE = "personalise", _("Use my profile to show information that concerns me")
        NOTIFY = "notify", _("Send me messages on the channels I chose")
        EMERGENCY = "emergency", _("Send me emergency alerts for my district")
        STATISTICS = "statistics", _("Use my answers, without my name, for city statistics")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    granted = models.BooleanField()
    text_version = models.CharField(max_length=20, default="2026-1")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "purpose", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.purpose}={'yes' if self.granted else 'no'}"


class VerifiedIdentity(models.Model):
    """基本4情報 from the デジタル認証アプリ, kept only when the resident chose to.

    All four items are encrypted at rest. No マイナンバー is ever received or stored.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="verified_identity")
    name = EncryptedTextField(blank=True, default="")
    address = EncryptedTextField(blank=True, default="")
    birthdate = EncryptedDateField(null=True, blank=True)
    gender = EncryptedTextField(blank=True, default="")
    verified_at = models.DateTimeField()
    issuer = models.CharField(max_length=200)

    def __str__(self) -> str:
        return f"verified identity of {self.user_id}"


class OIDCLink(models.Model):
    """Which provider subject logs into which account (the subject kept as a keyed hash)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="oidc_links")
    issuer = models.CharField(max_length=200)
    subject_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject_hash"], name="oidc_subject_once")
        ]

    def __str__(self) -> str:
        return f"{self.issuer} link of {self.user_id}"


class Department(LocalizedNameMixin):
    """課 or 部: a unit of the city administration."""

    code = models.SlugField(unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    location = models.CharField(_("where"), max_length=200, blank=True)
    duties = models.TextField(_("what it handles"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("department (課)")
        verbose_name_plural = _("departments")


class Role(models.TextChoices):
    """What a member of staff may do in a department."""

    CLERK = "clerk", _("Clerk")
    MANAGER = "manager", _("Manager (課長)")
    ADMIN = "admin", _("System administrator")
    AUDITOR = "auditor", _("Auditor")


class StaffAssignment(models.Model):
    """A member of staff in a department with a role (one row per department)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="assignments")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="staff")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CLERK)
    title = models.CharField(_("job title"), max_length=100, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "department"], name="one_role_per_department")
        ]
        ordering = ["department__code", "user__email"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} in {self.department_id}"


class ApiToken(models.Model):
    """A key another system (基幹系 connector, RPA) uses for the JSON API.

    The token is bound to a staff "service account": it may do exactly what that
    account's :class:`StaffAssignment` rows allow, never more. Only a SHA-256 hash of
    the secret is stored; the plaintext (``ch_<prefix>_<secret>``) is shown once when
    the token is issued. ``prefix`` is kept in clear to tell tokens apart in lists.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=8, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"ch_{self.prefix}… ({self.name})"

    def is_usable(self, now: dt.datetime | None = None) -> bool:
        """Not revoked, not expired (the account's state is checked separately)."""
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
