"""Placeholder until this module is written."""

from django.http import Http404


def files(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def file_detail(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def exceptions(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def exception_detail(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def revenue_export(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def reminders(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404
