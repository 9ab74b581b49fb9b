"""Payments in the admin (/staff/admin/): the kinds of public money are configuration and
can be edited here by administrators (each change audited); the rest is read-only.

Charges show no payer names in the list, and opening one is written to the audit log
like in the staff console (``payments.charge_viewed``): payers' data is personal data.
Day-to-day work (imports, reissues, links, reconciliation) happens in the staff console,
through the services that check permissions and audit.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from cityhall.core import audit
from cityhall.payments.models import Charge, ImportedFile, PaymentKind, PrintRun
from cityhall.people import permissions


class _AdminOnly(admin.ModelAdmin):
    """Administrators may look; nobody adds or deletes; changes only where allowed."""

    can_change = False

    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.is_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return permissions.is_admin(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.can_change and permissions.is_admin(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PaymentKindAdmin(_AdminOnly):
    can_change = True
    list_display = (
        "code",
        "name",
        "tax_code",
        "department",
        "account_code",
        "cvs_allowed",
        "online_allowed",
        "is_active",
    )
    list_filter = ("is_active", "is_tax", "department")
    search_fields = ("code", "name", "kana", "tax_code")
    list_select_related = ("department",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return permissions.is_admin(request.user)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit.record(
            "admin.change" if change else "admin.add",
            request=request,
            target=obj,
            details={"fields": sorted(form.changed_data)},
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("code",) if obj is not None else ()


class ChargeAdmin(_AdminOnly):
    list_display = ("reference", "kind", "fiscal_year", "status", "total_yen", "source")
    list_filter = ("status", "kind", "fiscal_year", "source")
    search_fields = ("reference",)
    list_select_related = ("kind",)
    show_full_result_count = False
    exclude = ("payer_address",)  # encrypted; shown in the staff console, audited

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        charge = Charge.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        if charge is not None and self.has_view_permission(request, charge):
            audit.record(
                "payments.charge_viewed",
                request=request,
                target=charge,
                subject=charge.resident_id,
                details={"via": "admin"},
            )
        return super().change_view(request, object_id, form_url, extra_context)


class ImportedFileAdmin(_AdminOnly):
    list_display = ("created_at", "kind", "filename", "status", "rows", "uploaded_by")
    list_filter = ("kind", "status")
    search_fields = ("filename", "sha256")
    list_select_related = ("uploaded_by",)


class PrintRunAdmin(_AdminOnly):
    list_display = ("created_at", "title", "status", "printed", "total")
    list_filter = ("status",)


for model, model_admin in (
    (PaymentKind, PaymentKindAdmin),
    (Charge, ChargeAdmin),
    (ImportedFile, ImportedFileAdmin),
    (PrintRun, PrintRunAdmin),
):
    if not admin.site.is_registered(model):
        admin.site.register(model, model_admin)
