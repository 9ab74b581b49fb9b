"""Placeholder until this module is written."""

from django.http import Http404


def my_payments(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def notice_detail(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def notice_pdf(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404
