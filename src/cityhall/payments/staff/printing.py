"""Placeholder until this module is written."""

from django.http import Http404


def runs(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def run_detail(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def run_progress(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def part_pdf(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404
