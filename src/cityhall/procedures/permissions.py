"""Who may see and change which applications and forms.

A member of staff works on the applications of the departments they are assigned
to (one :class:`~cityhall.people.models.StaffAssignment` per department: assigning
a clerk to a second department is how access is granted). Administrators see all.
Auditors read the audit log only. Residents see only their own applications.
"""

from __future__ import annotations

from typing import Any

from cityhall.people import permissions as people_permissions
from cityhall.people.models import Department, Role, StaffAssignment

CASE_ROLES = {Role.CLERK, Role.MANAGER, Role.ADMIN}


def case_department_ids(user: Any) -> set[int] | None:
    """Ids of departments whose applications ``user`` may work on; ``None`` means all."""
    roles = people_permissions.roles(user)
    if Role.ADMIN in roles:
        return None
    if not roles & CASE_ROLES:
        return set()
    cached = getattr(user, "_cityhall_case_departments", None)
    if cached is None:
        cached = set(
            StaffAssignment.objects.filter(
                user=user, role__in=[Role.CLERK, Role.MANAGER]
            ).values_list("department_id", flat=True)
        )
        user._cityhall_case_departments = cached
    return set(cached)


def can_use_cases(user: Any) -> bool:
    ids = case_department_ids(user)
    return ids is None or bool(ids)


def case_departments(user: Any) -> list[Department]:
    ids = case_department_ids(user)
    qs = Department.objects.filter(is_active=True)
    if ids is not None:
        qs = qs.filter(id__in=ids)
    return list(qs)


def can_work_on_department(user: Any, department_id: int) -> bool:
    ids = case_department_ids(user)
    return ids is None or department_id in ids


def can_view_application(user: Any, application: Any) -> bool:
    """Staff of the application's department (or admins); the applicant themself."""
    if getattr(user, "is_staff", False):
        return can_work_on_department(user, application.department_id)
    return bool(getattr(user, "is_authenticated", False) and application.applicant_id == user.pk)


def can_edit_form(user: Any, procedure: Any) -> bool:
    """Clerks and managers of the procedure's department build its form; admins any form."""
    return can_work_on_department(user, procedure.department_id) and can_use_cases(user)


def can_use_counter(user: Any) -> bool:
    return can_use_cases(user)
