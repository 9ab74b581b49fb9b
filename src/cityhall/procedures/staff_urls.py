"""Staff console pages of the procedures (mounted under /staff/, behind TOTP)."""

from django.urls import include, path

app_name = "procstaff"

urlpatterns = [
    path("", include("cityhall.procedures.staff.board_urls")),
    path("", include("cityhall.procedures.staff.builder_urls")),
    path("", include("cityhall.procedures.staff.counter_urls")),
]
