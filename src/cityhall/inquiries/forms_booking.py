"""Forms of the booking pages (residents and staff)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cityhall.inquiries.models import BookingService, Place
from cityhall.inquiries.services import bookings
from cityhall.people.models import User
from cityhall.procedures.services.cases import department_staff, staff_label


class BookForm(forms.Form):
    """Confirm a booking: interpreter language (外国人相談) and an optional note."""

    interpreter_language = forms.ChoiceField(label=_("Interpreter"), required=False, choices=[])
    note = forms.CharField(
        label=_("What would you like to talk about?"),
        help_text=_("Optional. Only the staff who meet you read it."),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, service: BookingService, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        languages = list(service.interpreter_languages or [])
        if languages:
            self.fields["interpreter_language"].choices = [  # type: ignore[attr-defined]
                ("", _("No interpreter needed")),
                *[(code, bookings.language_name(code)) for code in languages],
            ]
        else:
            del self.fields["interpreter_language"]


class DayForm(forms.Form):
    """The staff day list's filter (GET)."""

    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    place = forms.ModelChoiceField(
        label=_("Place"),
        queryset=Place.objects.filter(active=True),
        required=False,
        empty_label=_("All places"),
    )


WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class GenerateSlotsForm(forms.Form):
    """Generate slots of a service: date range × weekdays × times."""

    service = forms.ModelChoiceField(label=_("Service"), queryset=BookingService.objects.none())
    place = forms.ModelChoiceField(label=_("Place"), queryset=Place.objects.filter(active=True))
    day_from = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    day_to = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Weekdays"),
        choices=WEEKDAYS,
        coerce=int,
        initial=[0, 1, 2, 3, 4],
        widget=forms.CheckboxSelectMultiple,
    )
    times = forms.CharField(
        label=_("Start times"),
        help_text=_("24-hour times separated by spaces or commas, for example 09:00 10:00 14:30."),
    )
    capacity = forms.IntegerField(label=_("People per time"), min_value=1, max_value=50, initial=1)
    staff = forms.ModelChoiceField(
        label=_("Consultant"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Anyone on duty"),
        help_text=_("The member of staff who takes these times (optional)."),
    )
    skip_closed_days = forms.BooleanField(
        label=_("Skip public holidays and the year-end closure"), required=False, initial=True
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        services = bookings.managed_services(user)
        self.fields["service"].queryset = services  # type: ignore[attr-defined]
        self.fields["staff"].queryset = department_staff(  # type: ignore[attr-defined]
            services.values_list("department_id", flat=True)
        )
        self.fields["staff"].label_from_instance = staff_label  # type: ignore[attr-defined]

    def clean_times(self) -> list[dt.time]:
        raw = self.cleaned_data["times"].replace(",", " ").split()
        times: list[dt.time] = []
        for part in raw:
            try:
                times.append(dt.time.fromisoformat(part if len(part) > 4 else "0" + part))
            except ValueError:
                raise forms.ValidationError(
                    _("“%(value)s” is not a time like 09:30."), params={"value": part}
                ) from None
        if not times:
            raise forms.ValidationError(_("Enter at least one time."))
        return times

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("day_from"), data.get("day_to")
        if start and end:
            if end < start:
                self.add_error("day_to", _("The end date is before the start date."))
            elif (end - start).days > 366:
                self.add_error("day_to", _("Choose at most one year at a time."))
        service, member = data.get("service"), data.get("staff")
        if (
            service
            and member
            and not department_staff([service.department_id]).filter(pk=member.pk).exists()
        ):
            self.add_error("staff", _("This member of staff does not work for that service."))
        return data

    def days(self) -> list[dt.date]:
        from cityhall.procedures.services.cases import is_working_day

        data = self.cleaned_data
        out = []
        day = data["day_from"]
        while day <= data["day_to"]:
            if day.weekday() in data["weekdays"] and (
                not data.get("skip_closed_days") or is_working_day(day) or day.weekday() >= 5
            ):
                out.append(day)
            day += dt.timedelta(days=1)
        return out
