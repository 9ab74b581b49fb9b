"""Who may do what: roles of staff, object-level checks for residents' resources."""

from __future__ import annotations

from typing import Any

from cityhall.people.models import Department, Role, StaffAssignment, User


def roles(user: Any) -> set[str]:
    if not getattr(user, "is_authenticated", False) or not user.is_staff or not user.is_active:
        return set()
    cached = getattr(user, "_cityhall_roles", None)
    if cached is None:
        cached = set(StaffAssignment.objects.filter(user=user).values_list("role", flat=True))
        if user.is_superuser:
            cached.add(Role.ADMIN)
        user._cityhall_roles = cached
    return set(cached)


def is_admin(user: Any) -> bool:
    return Role.ADMIN in roles(user)


def can_view_residents(user: Any) -> bool:
    """Clerks, managers and administrators work with residents; auditors only read the log."""
    return bool(roles(user) & {Role.CLERK, Role.MANAGER, Role.ADMIN})


def can_edit_residents(user: Any) -> bool:
    return bool(roles(user) & {Role.CLERK, Role.MANAGER, Role.ADMIN})


def can_view_audit(user: Any) -> bool:
    return bool(roles(user) & {Role.AUDITOR, Role.ADMIN})


def managed_departments(user: Any) -> list[Department]:
    """Departments whose staff this user may manage: all for admins, their own for managers."""
    if is_admin(user):
        return list(Department.objects.all())
    if not roles(user):
        return []
    ids = StaffAssignment.objects.filter(user=user, role=Role.MANAGER).values_list(
        "department_id", flat=True
    )
    return list(Department.objects.filter(id__in=list(ids)))


def can_manage_department(user: Any, department: Department) -> bool:
    return is_admin(user) or any(d.pk == department.pk for d in managed_departments(user))


def can_manage_departments(user: Any) -> bool:
    return is_admin(user)


def can_manage_staff_member(user: Any, member: User) -> bool:
    """Admins manage everyone; managers manage staff only of their own departments.

    A manager never manages a superuser, an administrator or an auditor, even one
    placed in the manager's own department.
    """
    if is_admin(user):
        return True
    if member.is_superuser:
        return False
    if StaffAssignment.objects.filter(user=member, role__in=[Role.ADMIN, Role.AUDITOR]).exists():
        return False
    managed = {d.pk for d in managed_departments(user)}
    if not managed:
        return False
    member_depts = set(
        StaffAssignment.objects.filter(user=member).values_list("department_id", flat=True)
    )
    return bool(member_depts) and member_depts <= managed


def assignable_roles(user: Any) -> list[str]:
    """A manager may make clerks and managers; only admins hand out admin and auditor."""
    if is_admin(user):
        return [r.value for r in Role]
    return [Role.CLERK.value, Role.MANAGER.value]


# --- the staff console ----------------------------------------------------------------


def is_console_user(user: Any) -> bool:
    """An active staff account (what the console needs before TOTP and roles)."""
    return bool(getattr(user, "is_authenticated", False) and user.is_staff and user.is_active)


def can_view_resident(user: Any, resident: User) -> bool:
    """Object-level: staff read residents' accounts, never other staff through this door."""
    return can_view_residents(user) and not resident.is_staff


def can_edit_resident(user: Any, resident: User) -> bool:
    return can_edit_residents(user) and not resident.is_staff


def can_manage_staff(user: Any) -> bool:
    """Whether the staff section is open at all: administrators and managers."""
    return bool(roles(user) & {Role.ADMIN, Role.MANAGER})


def can_view_staff_member(user: Any, member: User) -> bool:
    """Admins see every member of staff; managers those placed in their departments."""
    if not member.is_staff:
        return False
    if is_admin(user):
        return True
    managed = [d.pk for d in managed_departments(user)]
    return (
        bool(managed)
        and StaffAssignment.objects.filter(user=member, department_id__in=managed).exists()
    )


def can_change_staff_member(user: Any, member: User) -> bool:
    """Manage another member of staff (nobody changes their own role or account here)."""
    return (
        member.is_staff
        and getattr(user, "pk", None) != member.pk
        and can_manage_staff_member(user, member)
    )


def can_reset_totp(user: Any, member: User) -> bool:
    """Only administrators take away a TOTP device, and not their own."""
    return is_admin(user) and member.is_staff and getattr(user, "pk", None) != member.pk
