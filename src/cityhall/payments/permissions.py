"""Who may see which charges and do which payment work.

- A resident sees only their own charges (``Charge.resident``).
- Staff of the central collection department (収納課, ``CITYHALL_PAYMENT_CENTRAL_DEPARTMENT``)
  and administrators see every charge, print slips, reconcile files, resolve exceptions
  and export revenue.
- Other clerks and managers see the charges of the kinds their department owns
  (水道料金 for 上下水道部 …) and can reissue their slips.
- Refunds need a manager of the central department or an administrator.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from cityhall.people import permissions as people_permissions
from cityhall.people.models import Role, StaffAssignment

WORK_ROLES = {Role.CLERK, Role.MANAGER}


def _assignments(user: Any) -> list[tuple[int, str, str]]:
    cached = getattr(user, "_cityhall_payment_assignments", None)
    if cached is None:
        cached = list(
            StaffAssignment.objects.filter(user=user, role__in=list(WORK_ROLES)).values_list(
                "department_id", "department__code", "role"
            )
        )
        user._cityhall_payment_assignments = cached
    return cached


def is_central(user: Any) -> bool:
    """Administrators and the clerks and managers of the collection department."""
    if not getattr(user, "is_staff", False):
        return False
    if Role.ADMIN in people_permissions.roles(user):
        return True
    central = settings.PAYMENT_CENTRAL_DEPARTMENT
    return any(code == central for _id, code, _role in _assignments(user))


def charge_department_ids(user: Any) -> set[int] | None:
    """Departments whose kinds' charges ``user`` may see; ``None`` means all."""
    if not getattr(user, "is_staff", False):
        return set()
    if is_central(user):
        return None
    return {dept_id for dept_id, _code, _role in _assignments(user)}


def can_use_charges(user: Any) -> bool:
    ids = charge_department_ids(user)
    return ids is None or bool(ids)


def can_view_charge(user: Any, charge: Any) -> bool:
    if getattr(user, "is_staff", False):
        ids = charge_department_ids(user)
        return ids is None or charge.kind.department_id in ids
    return bool(getattr(user, "is_authenticated", False) and charge.resident_id == user.pk)


def can_reconcile(user: Any) -> bool:
    """Read collection files, resolve exceptions, print batches, export revenue."""
    return is_central(user)


def can_refund(user: Any) -> bool:
    if Role.ADMIN in people_permissions.roles(user):
        return True
    central = settings.PAYMENT_CENTRAL_DEPARTMENT
    return any(code == central and role == Role.MANAGER for _id, code, role in _assignments(user))
