"""Placeholder until this module is written."""

from django.http import Http404


def payments(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def payment_detail(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404
