"""Segments in the staff console (/staff/notices/segments/).

Thin views over :mod:`cityhall.notices.services.segments`: the saved segments with their
last count; the form with the profile facets that shows, as the facets change, how many
residents match and a masked sample of five (``notices/segment-preview.js`` asks
:func:`preview` for a fragment; without JavaScript the "Count" button re-renders the
page). Showing the sample is audited (``notices.segment_sample``). Only the
public-relations department and administrators
(:func:`cityhall.notices.permissions.can_send_messages`); ``StaffMFAMiddleware`` keeps the
pages behind a TOTP-verified staff session.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cityhall.core.problems import problem_response
from cityhall.notices import permissions
from cityhall.notices.models import Segment
from cityhall.notices.services import segments
from cityhall.notices.staff.segment_forms import SegmentForm
from cityhall.people.staff_views import sections

SECTION = "noticestaff:messages"
SAMPLE_SIZE = 5


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    context.setdefault("staff_sections", sections(request.user))
    context.setdefault("staff_section", SECTION)
    return render(request, f"notices/staff/{template}", context, status=status)


def _check(request: HttpRequest) -> None:
    if not permissions.can_send_messages(request.user):
        raise PermissionDenied


def _preview(request: HttpRequest, filters: segments.Filters) -> dict[str, Any]:
    """Counts and the audited masked sample for the form's filters."""
    return {
        "matching": segments.count(filters, purpose=None),
        "consenting": segments.count(filters, purpose="notify"),
        "sample": segments.sample(filters, SAMPLE_SIZE, actor=request.user, request=request),
        "description": filters.describe(),
    }


@require_GET
def segment_list(request: HttpRequest) -> HttpResponse:
    _check(request)
    rows = [
        {"segment": s, "description": segments.Filters.from_dict(s.filters).describe()}
        if _valid(s)
        else {"segment": s, "description": [_("These filters are no longer valid.")]}
        for s in Segment.objects.select_related("created_by")
    ]
    return _render(request, "segments.html", {"rows": rows})


def _valid(segment: Segment) -> bool:
    try:
        segments.Filters.from_dict(segment.filters)
    except segments.SegmentError:
        return False
    return True


def _form_page(request: HttpRequest, segment: Segment | None) -> HttpResponse:
    if request.method == "POST":
        form = SegmentForm(request.POST)
        action = request.POST.get("action", "count")
        if action == "delete" and segment is not None:
            segments.delete_segment(segment, actor=request.user, request=request)
            messages.success(request, _("The segment “%(name)s” was deleted.") % {"name": segment})
            return redirect("noticestaff:segments")
        preview: dict[str, Any] | None = None
        status = 200
        if form.is_valid() and form.filters is not None:
            if action == "save":
                try:
                    saved = segments.save_segment(
                        form.cleaned_data["name"],
                        form.cleaned_data["description"],
                        form.filters,
                        actor=request.user,
                        request=request,
                        segment=segment,
                    )
                except segments.SegmentError as exc:
                    for name, errors in exc.errors.items():
                        for error in errors:
                            form.add_error(name if name in form.fields else None, error)
                    status = 400
                else:
                    messages.success(
                        request,
                        _("The segment “%(name)s” was saved: %(count)s residents.")
                        % {"name": saved.name, "count": f"{saved.last_count:,}"},
                    )
                    return redirect("noticestaff:segment", pk=saved.pk)
            else:
                preview = _preview(request, form.filters)
        else:
            status = 400
    else:
        initial = (
            SegmentForm.initial_for(segment.filters, segment.name, segment.description)
            if segment is not None
            else {}
        )
        form = SegmentForm(initial=initial)
        preview = None
    return _render(
        request,
        "segment_form.html",
        {"form": form, "segment": segment, "preview": preview},
        status=status if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def segment_new(request: HttpRequest) -> HttpResponse:
    _check(request)
    return _form_page(request, None)


@require_http_methods(["GET", "POST"])
def segment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _check(request)
    return _form_page(request, get_object_or_404(Segment, pk=pk))


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "") or (
        request.GET.get("format") == "json"
    )


@require_http_methods(["GET", "POST"])
def preview(request: HttpRequest) -> HttpResponse:
    """The live count and sample for ``segment-preview.js``: an HTML fragment, or JSON
    when the client asks for it (``Accept: application/json``)."""
    _check(request)
    form = SegmentForm(request.POST if request.method == "POST" else request.GET)
    valid = form.is_valid() and form.filters is not None
    if _wants_json(request):
        if not valid:
            errors = [
                {"field": name, "detail": str(error)}
                for name, field_errors in form.errors.items()
                for error in field_errors
            ]
            return problem_response("validation-error", request, errors=errors)
        assert form.filters is not None
        data = _preview(request, form.filters)
        response: HttpResponse = JsonResponse(
            {
                "filters": form.filters.to_dict(),
                "description": [str(line) for line in data["description"]],
                "matching": data["matching"],
                "consenting": data["consenting"],
                "sample": data["sample"],
            }
        )
    else:
        context: dict[str, Any] = {"form": form}
        if valid:
            assert form.filters is not None
            context["preview"] = _preview(request, form.filters)
        html = render_to_string("notices/staff/segment_preview.html", context, request=request)
        response = HttpResponse(html, status=200 if valid else 422)
    response["Cache-Control"] = "no-store"
    return response
