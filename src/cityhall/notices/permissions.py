"""Who may do which notices work in the staff console.

- Staff of the public-relations department (広報広聴課, ``CITYHALL_NOTICES_DEPARTMENT``)
  write and publish articles, build segments, edit templates and send messages.
- Staff of the crisis-management department (危機管理課, ``CITYHALL_NOTICES_ALERT_DEPARTMENT``)
  send emergency alerts and see their delivery boards; they can also write articles.
- Clerks of any other department draft articles for their own department; publishing
  them needs the public-relations department.
- Administrators may do everything.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from cityhall.people import permissions as people_permissions
from cityhall.people.models import Role, StaffAssignment

WORK_ROLES = {Role.CLERK, Role.MANAGER}


def _codes(user: Any) -> set[str]:
    cached = getattr(user, "_cityhall_notice_codes", None)
    if cached is None:
        cached = set(
            StaffAssignment.objects.filter(user=user, role__in=list(WORK_ROLES)).values_list(
                "department__code", flat=True
            )
        )
        user._cityhall_notice_codes = cached
    return set(cached)


def _is_admin(user: Any) -> bool:
    return Role.ADMIN in people_permissions.roles(user)


def _staff(user: Any) -> bool:
    return bool(getattr(user, "is_staff", False) and getattr(user, "is_active", False))


def can_write_articles(user: Any) -> bool:
    """Draft articles (any working member of staff)."""
    return _staff(user) and (_is_admin(user) or bool(_codes(user)))


def can_publish(user: Any) -> bool:
    """Publish and withdraw articles, approve translations."""
    return _staff(user) and (
        _is_admin(user)
        or bool(_codes(user) & {settings.NOTICES_DEPARTMENT, settings.NOTICES_ALERT_DEPARTMENT})
    )


def can_send_messages(user: Any) -> bool:
    """Segments, templates and messages to residents."""
    return _staff(user) and (_is_admin(user) or settings.NOTICES_DEPARTMENT in _codes(user))


def can_send_alerts(user: Any) -> bool:
    """Emergency alerts (防災・避難情報) and their delivery boards."""
    return _staff(user) and (_is_admin(user) or settings.NOTICES_ALERT_DEPARTMENT in _codes(user))


def can_see_messages(user: Any) -> bool:
    return can_send_messages(user) or can_send_alerts(user)
