"""Shared kernel: the audit log and the city's geography (districts, facilities)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class LocalizedNameMixin(models.Model):
    """A Japanese name, its reading, and names in other languages."""

    name = models.CharField(_("name"), max_length=120)
    kana = models.CharField(_("reading (kana)"), max_length=200, blank=True)
    names = models.JSONField(
        _("names in other languages"), default=dict, blank=True, help_text="{'en': 'Ueno', ...}"
    )

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    def localized_name(self, language: str | None = None) -> str:
        language = language or get_language() or "ja"
        if language.startswith("ja"):
            return self.name
        return self.names.get(language) or self.names.get("en") or self.name


class Area(LocalizedNameMixin):
    """旧市町村: one of the six former municipalities merged into Iga in 2004."""

    code = models.SlugField(unique=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order"]
        verbose_name = _("former municipality (旧市町村)")
        verbose_name_plural = _("former municipalities")


class District(LocalizedNameMixin):
    """住民自治協議会: a residents' self-government council, the unit of participation."""

    code = models.SlugField(unique=True)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="districts")
    order = models.PositiveSmallIntegerField(default=0)
    population_share = models.FloatField(
        default=0.0, help_text="Share of the city's residents, used for synthetic data."
    )
    name_confirmed = models.BooleanField(
        default=True, help_text="False while the name still has to be confirmed with the city."
    )

    class Meta:
        ordering = ["area__order", "order"]
        verbose_name = _("district (住民自治協議会)")
        verbose_name_plural = _("districts")


class Facility(LocalizedNameMixin):
    """A public building: city hall, 地区市民センター, shelter, welfare centre …"""

    class Kind(models.TextChoices):
        CITY_HALL = "city_hall", _("City hall")
        BRANCH = "branch", _("Branch office")
        COMMUNITY_CENTER = "community_center", _("Community centre (地区市民センター)")
        WELFARE = "welfare", _("Welfare centre")
        SHELTER = "shelter", _("Shelter")
        CULTURE = "culture", _("Culture and tourism")
        MULTICULTURAL = "multicultural", _("Multicultural centre")
        SPORTS = "sports", _("Sports and parks")

    code = models.SlugField(unique=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    district = models.ForeignKey(
        District, null=True, blank=True, on_delete=models.SET_NULL, related_name="facilities"
    )
    postal_code = models.CharField(max_length=8, blank=True)
    address = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    opening_hours = models.CharField(max_length=200, blank=True)
    services = models.JSONField(default=list, blank=True)
    name_confirmed = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")


class AuditEvent(models.Model):
    """One entry of the append-only, hash-chained audit log (監査ログ).

    Rows are never updated or deleted (the model refuses, and database triggers
    refuse too). Each row carries ``hash = HMAC(key, prev_hash || canonical(row))``;
    ``cityhall audit verify`` recomputes the chain and names the first broken row.
    """

    class ActorKind(models.TextChoices):
        STAFF = "staff", _("Staff")
        RESIDENT = "resident", _("Resident")
        SYSTEM = "system", _("System")
        ANONYMOUS = "anonymous", _("Anonymous")

    id = models.BigAutoField(primary_key=True)
    seq = models.BigIntegerField(unique=True, help_text="Position in the chain, from 1.")
    created_at = models.DateTimeField(db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_label = models.CharField(max_length=200, blank=True)
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True, db_index=True)
    target_id = models.CharField(max_length=64, blank=True)
    subject_id = models.BigIntegerField(
        null=True, blank=True, db_index=True, help_text="The resident whose data this is about."
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise PermissionError("the audit log is append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("the audit log is append-only")


class AuditChainHead(models.Model):
    """Singleton row holding the last hash; locked while an event is appended."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64)
    count = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"audit chain head #{self.count}"
