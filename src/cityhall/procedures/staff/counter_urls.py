"""URLs (filled in by the module that owns them)."""

from django.http import HttpResponse
from django.urls import path

urlpatterns = [
    path("counter/", lambda request: HttpResponse("not built yet"), name="counter"),
]
