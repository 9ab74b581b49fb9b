"""The staff console (being built: login, MFA and home only so far)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def login(request: HttpRequest) -> HttpResponse:
    return render(request, "people/staff/placeholder.html")


def mfa(request: HttpRequest) -> HttpResponse:
    return render(request, "people/staff/placeholder.html")


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "people/staff/placeholder.html")
