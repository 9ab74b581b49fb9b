"""The emergency alert, the fast path (/staff/notices/alerts/new/).

One short page: a preset template (radio list with its やさしい日本語 subject), the level,
the districts (grouped by former municipality, or the whole city), the template's
values (the shelter from the list of shelters or written in), and one big button. The
first POST checks everything and shows, on the same page, how many residents the alert
reaches and the やさしい日本語 text with the values filled; the second POST (the
confirm button, which has the focus) sends through
:func:`cityhall.notices.services.messages.send_alert` and lands on the delivery board.
Everything works with the keyboard alone, in seconds.

Only the crisis-management department and administrators
(:func:`cityhall.notices.permissions.can_send_alerts`).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cityhall.core.i18n import HTML_LANG
from cityhall.notices import permissions
from cityhall.notices.models import Message
from cityhall.notices.services import templates as template_service
from cityhall.notices.staff.message_forms import AlertForm
from cityhall.people.staff_views import sections

SECTION = "noticestaff:alert_new"


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    context.setdefault("staff_sections", sections(request.user))
    context.setdefault("staff_section", SECTION)
    return render(request, f"notices/staff/{template}", context, status=status)


@require_http_methods(["GET", "POST"])
def alert_new(request: HttpRequest) -> HttpResponse:
    if not permissions.can_send_alerts(request.user):
        raise PermissionDenied
    from cityhall.notices.services import messages as engine
    from cityhall.notices.services import segments

    form = AlertForm(request.POST or None)
    context: dict[str, Any] = {"form": form}
    status = 200
    if request.method == "POST":
        if form.is_valid():
            template = form.cleaned_data["template"]
            districts = form.district_codes()
            values = form.values()
            level = form.level_value()
            if request.POST.get("action") == "send":
                try:
                    message = engine.send_alert(
                        template=template,
                        level=level,
                        districts=districts,
                        values=values,
                        actor=request.user,
                        request=request,
                    )
                except engine.MessageError as exc:
                    _add_errors(form, exc.errors)
                else:
                    flash.success(
                        request,
                        _("The alert is being sent to %(n)s residents.")
                        % {"n": f"{message.recipients:,}"},
                    )
                    return redirect("noticestaff:message", pk=message.pk)
            else:
                reach = segments.count(segments.Filters(districts=districts), purpose="emergency")
                if not reach:
                    form.add_error(
                        "districts",
                        _(
                            "Nobody in these districts has agreed to receive emergency "
                            "alerts. Nothing would be sent."
                        ),
                    )
                else:
                    preview = engine.preview(template, values, "ja-easy")
                    context["confirm"] = {
                        "reach": reach,
                        "template": template,
                        "level": dict(Message.Level.choices).get(level, level),
                        "districts": [
                            d.localized_name() for d in form.district_rows if d.code in districts
                        ],
                        "whole_city": not districts,
                        "preview": preview,
                        "preview_lang": HTML_LANG["ja-easy"],
                        "languages": [
                            template_service.language_name(code)
                            for code in template_service.LANGUAGE_ORDER
                            if code in template.content
                        ],
                        "hidden": _hidden(request),
                    }
        if form.errors:
            status = 400
    return _render(request, "alert_new.html", context, status=status)


def _hidden(request: HttpRequest) -> list[tuple[str, str]]:
    """The form's answers again, for the confirm button's own form."""
    return [
        (name, value)
        for name, values in request.POST.lists()
        if name not in ("csrfmiddlewaretoken", "action")
        for value in values
    ]


def _add_errors(form: AlertForm, errors: dict[str, list[str]]) -> None:
    for key, messages in errors.items():
        field: str | None = key if key in form.fields else None
        if key == "values":
            field = None
        for message in messages:
            form.add_error(field, message)
