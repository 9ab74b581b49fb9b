"""The staff console under /staff/ (every page but login, logout and set-password needs TOTP)."""

from django.urls import path

from cityhall.people import staff_views

app_name = "staff"

urlpatterns = [
    path("login/", staff_views.login, name="login"),
    # Under login/ so that StaffMFAMiddleware lets a member without a password in.
    path(
        "login/set-password/<uidb64>/<token>/",
        staff_views.set_password,
        name="set_password",
    ),
    path("logout/", staff_views.logout, name="logout"),
    path("mfa/", staff_views.mfa, name="mfa"),
    path("", staff_views.home, name="home"),
    path("residents/", staff_views.residents, name="residents"),
    path("residents/<int:pk>/", staff_views.resident, name="resident"),
    path("residents/<int:pk>/edit/", staff_views.resident_edit, name="resident_edit"),
    path("residents/<int:pk>/active/", staff_views.resident_active, name="resident_active"),
    path("departments/", staff_views.departments, name="departments"),
    path("departments/new/", staff_views.department_create, name="department_create"),
    path("departments/<int:pk>/edit/", staff_views.department_edit, name="department_edit"),
    path("members/", staff_views.members, name="members"),
    path("members/new/", staff_views.member_create, name="member_create"),
    path("members/<int:pk>/", staff_views.member, name="member"),
    path("members/<int:pk>/assignments/new/", staff_views.assignment_add, name="assignment_add"),
    path(
        "members/<int:pk>/assignments/<int:assignment_pk>/edit/",
        staff_views.assignment_edit,
        name="assignment_edit",
    ),
    path("members/<int:pk>/active/", staff_views.member_active, name="member_active"),
    path("members/<int:pk>/reset-totp/", staff_views.member_reset_totp, name="member_reset_totp"),
    path(
        "members/<int:pk>/reset-password/",
        staff_views.member_reset_password,
        name="member_reset_password",
    ),
    path("audit/", staff_views.audit, name="audit"),
    path("audit/export.csv", staff_views.audit_csv, name="audit_csv"),
    path("audit/verify/", staff_views.audit_verify, name="audit_verify"),
]
