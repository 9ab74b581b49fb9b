"""Placeholder until this module is written."""

from django.http import Http404


def pay_start(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def fee(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def pay_return(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def webhook(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def sandbox_page(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404
