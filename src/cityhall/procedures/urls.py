"""Resident pages of the procedures: catalogue, life-event guide, online applications."""

from django.urls import include, path

app_name = "procedures"

urlpatterns = [
    path("", include("cityhall.procedures.views.catalogue_urls")),
    path("", include("cityhall.procedures.views.apply_urls")),
]
