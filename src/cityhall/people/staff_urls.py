"""The staff console under /staff/ (every page needs password + TOTP)."""

from django.urls import path

from cityhall.people import staff_views

app_name = "staff"

urlpatterns = [
    path("login/", staff_views.login, name="login"),
    path("mfa/", staff_views.mfa, name="mfa"),
    path("", staff_views.home, name="home"),
]
