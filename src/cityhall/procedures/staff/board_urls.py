"""URLs (filled in by the module that owns them)."""

from django.http import HttpResponse
from django.urls import path

urlpatterns = [
    path("cases/", lambda request: HttpResponse("not built yet"), name="board"),
]
