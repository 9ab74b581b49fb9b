"""Placeholder until this module is written."""

from django.http import Http404


def charge_list(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def charge_detail(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def reissue(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def link_payer(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def notice_pdf(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404


def imports(request, *args, **kwargs):  # type: ignore[no-untyped-def]
    raise Http404
