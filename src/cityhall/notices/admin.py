"""Notices in the admin (/staff/admin/), read-mostly.

Templates can be switched on and off and renamed here by administrators (each change
audited); their texts are edited in the staff console, where every language is
checked (:func:`cityhall.notices.services.templates.validate_content`). Articles,
segments, messages and deliveries are shown read-only: they change only through the
services, which check permissions and audit. Deliveries have no change page at all.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from cityhall.core import audit
from cityhall.notices.models import Article, Delivery, Message, MessageTemplate, Segment
from cityhall.people import permissions


class _ReadMostly(admin.ModelAdmin):
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


class ArticleAdmin(_ReadMostly):
    list_display = ("slug", "topic", "audience", "status", "urgent", "published_at")
    list_filter = ("status", "topic", "audience", "urgent")
    search_fields = ("slug", "versions__title")
    date_hierarchy = "published_at"


class MessageTemplateAdmin(_ReadMostly):
    can_change = True
    list_display = ("name", "code", "kind", "topic", "is_active", "updated_at")
    list_filter = ("kind", "topic", "is_active")
    search_fields = ("name", "code")
    fields = ("code", "name", "kind", "topic", "is_active", "content", "updated_at")
    readonly_fields = ("code", "kind", "topic", "content", "updated_at")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit.record(
            "admin.change",
            request=request,
            target=obj,
            details={"fields": sorted(form.changed_data)},
        )


class SegmentAdmin(_ReadMostly):
    list_display = ("name", "last_count", "last_counted_at", "updated_at")
    search_fields = ("name",)


class MessageAdmin(_ReadMostly):
    list_display = ("id", "kind", "topic", "state", "level", "recipients", "created_at")
    list_filter = ("kind", "state", "topic", "level")
    date_hierarchy = "created_at"
    show_full_result_count = False


class DeliveryAdmin(_ReadMostly):
    """The list only: a delivery names a resident, so its rows are not opened one by one."""

    list_display = ("id", "message_id", "channel", "language", "state", "attempts", "sent_at")
    list_filter = ("state", "channel", "language")
    search_fields = ("=message__id",)
    show_full_result_count = False
    list_display_links = None

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


for model, model_admin in (
    (Article, ArticleAdmin),
    (MessageTemplate, MessageTemplateAdmin),
    (Segment, SegmentAdmin),
    (Message, MessageAdmin),
    (Delivery, DeliveryAdmin),
):
    if not admin.site.is_registered(model):
        admin.site.register(model, model_admin)
