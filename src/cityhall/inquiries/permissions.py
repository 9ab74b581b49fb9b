"""Who may do which inquiries work in the staff console.

- Any working member of staff (clerk or manager of a department) edits the FAQ entries of
  their department and drafts new ones; administrators edit all.
- Clerks work the inquiries (tickets) routed to their departments; staff of the triage
  department (``CITYHALL_INQUIRIES_TRIAGE_DEPARTMENT``, 広報広聴課) also work the triage
  queue and may route any inquiry; administrators see all.
- Clerks manage the booking services, slots and day lists of their departments.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from cityhall.people import permissions as people_permissions
from cityhall.people.models import Role, StaffAssignment

WORK_ROLES = {Role.CLERK, Role.MANAGER}


def department_ids(user: Any) -> set[int]:
    """Departments the user works in (clerk or manager), cached on the user object."""
    cached = getattr(user, "_cityhall_inquiry_depts", None)
    if cached is None:
        cached = set(
            StaffAssignment.objects.filter(user=user, role__in=list(WORK_ROLES)).values_list(
                "department_id", flat=True
            )
        )
        user._cityhall_inquiry_depts = cached
    return set(cached)


def _codes(user: Any) -> set[str]:
    cached = getattr(user, "_cityhall_inquiry_codes", None)
    if cached is None:
        cached = set(
            StaffAssignment.objects.filter(user=user, role__in=list(WORK_ROLES)).values_list(
                "department__code", flat=True
            )
        )
        user._cityhall_inquiry_codes = cached
    return set(cached)


def is_admin(user: Any) -> bool:
    return Role.ADMIN in people_permissions.roles(user)


def _staff(user: Any) -> bool:
    return bool(getattr(user, "is_staff", False) and getattr(user, "is_active", False))


def can_edit_faq(user: Any) -> bool:
    return _staff(user) and (is_admin(user) or bool(department_ids(user)))


def can_edit_faq_entry(user: Any, entry: Any) -> bool:
    """Admins edit all; others their department's entries and entries with none."""
    if not can_edit_faq(user):
        return False
    return (
        is_admin(user) or entry.department_id is None or entry.department_id in department_ids(user)
    )


def can_work_tickets(user: Any) -> bool:
    return _staff(user) and (is_admin(user) or bool(department_ids(user)))


def can_triage(user: Any) -> bool:
    return _staff(user) and (is_admin(user) or settings.INQUIRIES_TRIAGE_DEPARTMENT in _codes(user))


def can_work_ticket(user: Any, ticket: Any) -> bool:
    if not can_work_tickets(user):
        return False
    if is_admin(user):
        return True
    if ticket.department_id is None:
        return can_triage(user)
    return ticket.department_id in department_ids(user) or can_triage(user)


def can_manage_bookings(user: Any) -> bool:
    return _staff(user) and (is_admin(user) or bool(department_ids(user)))


def can_manage_service(user: Any, service: Any) -> bool:
    return can_manage_bookings(user) and (
        is_admin(user) or service.department_id in department_ids(user)
    )
