"""The Django admin at /staff/admin/: behind TOTP, read-mostly, for configuration data.

The admin site becomes django-otp's ``OTPAdminSite``: only a session verified by
a TOTP device gets in (and ``StaffMFAMiddleware`` already sends everyone else to
the staff login). Rights follow the console's roles, not Django's model
permissions: administrators (role ``admin`` or superuser) see the data;
departments and staff assignments are read-only here because the staff console
changes them through services that write the audit log; the city's geography can
be corrected here and each change is audited too. The audit log is shown
read-only to auditors and administrators. TOTP devices are not in the admin at
all: their secret keys must not be readable, and resets go through the console.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django_otp.admin import OTPAdminSite
from django_otp.plugins.otp_totp.models import TOTPDevice

from cityhall.core import audit
from cityhall.core.models import Area, AuditEvent, District, Facility
from cityhall.people import permissions
from cityhall.people.models import Department, StaffAssignment

admin.site.__class__ = OTPAdminSite

if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


class RoleAdmin(admin.ModelAdmin):
    """Administrators may look; nobody deletes; changes only where a subclass allows."""

    can_add = False
    can_change = False

    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.is_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return permissions.is_admin(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.can_add and permissions.is_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.can_change and permissions.is_admin(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit.record(
            "admin.change" if change else "admin.add",
            request=request,
            target=obj,
            details={"fields": sorted(form.changed_data)},
        )


def _register(model: Any, model_admin: type[admin.ModelAdmin]) -> None:
    if not admin.site.is_registered(model):
        admin.site.register(model, model_admin)


class DepartmentAdmin(RoleAdmin):
    list_display = ("code", "name", "parent", "phone", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name", "kana")


class StaffAssignmentAdmin(RoleAdmin):
    list_display = ("user", "department", "role", "title")
    list_filter = ("role", "department")
    search_fields = ("user__email", "user__display_name", "department__code")
    list_select_related = ("user", "department")


class AreaAdmin(RoleAdmin):
    can_change = True
    list_display = ("code", "name", "kana", "order")


class DistrictAdmin(RoleAdmin):
    can_change = True
    list_display = ("code", "name", "area", "order", "name_confirmed")
    list_filter = ("area", "name_confirmed")
    search_fields = ("code", "name", "kana")
    list_select_related = ("area",)


class FacilityAdmin(RoleAdmin):
    can_add = True
    can_change = True
    list_display = ("code", "name", "kind", "district", "phone")
    list_filter = ("kind",)
    search_fields = ("code", "name", "kana", "address")
    list_select_related = ("district",)


class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only, and the console has the filters and CSV."""

    list_display = ("seq", "created_at", "actor_label", "action", "target_type", "subject_id")
    list_filter = ("action", "actor_kind")
    search_fields = ("action", "actor_label")
    ordering = ("-seq",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.can_view_audit(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return permissions.can_view_audit(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


_register(Department, DepartmentAdmin)
_register(StaffAssignment, StaffAssignmentAdmin)
_register(Area, AreaAdmin)
_register(District, DistrictAdmin)
_register(Facility, FacilityAdmin)
_register(AuditEvent, AuditEventAdmin)
