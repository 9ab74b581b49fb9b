"""The resident's notification settings form (one page: channels, topics, alerts, quiet hours).

The rules live in :mod:`cityhall.notices.services.preferences`; the form shows them as
field errors so that the page's error summary can link to each field.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cityhall.notices.models import TOPIC_CHOICES
from cityhall.notices.services import preferences
from cityhall.people.models import Channel


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%H:%M")


class PreferencesForm(forms.Form):
    channels = forms.MultipleChoiceField(
        label=_("How to reach me"),
        required=False,
        choices=[(c, label) for c, label in Channel.choices if c in preferences.CHOOSABLE_CHANNELS],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Messages always appear in your inbox on this site as well."),
    )
    notify = forms.BooleanField(
        label=_("Send me messages on the channels I chose"),
        required=False,
        help_text=_("Without this, the city sends you nothing except emergency alerts."),
    )
    topics = forms.MultipleChoiceField(
        label=_("What to tell me about"),
        required=False,
        choices=[(v, label) for v, label in TOPIC_CHOICES if v in preferences.SWITCHABLE_TOPICS],
        widget=forms.CheckboxSelectMultiple,
    )
    emergency = forms.BooleanField(
        label=_("Send me emergency alerts for my district"),
        required=False,
        help_text=_(
            "Evacuation information and other warnings, on every channel you linked, at any "
            "hour — also during your quiet hours."
        ),
    )
    quiet_start = forms.TimeField(
        label=_("Quiet from"),
        required=False,
        widget=TimeInput(),
        help_text=_("For example 21:00."),
    )
    quiet_end = forms.TimeField(
        label=_("Quiet until"),
        required=False,
        widget=TimeInput(),
        help_text=_("For example 07:00."),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)
        for name in ("quiet_start", "quiet_end"):
            self.fields[name].widget.attrs["aria-describedby"] = f"quiet-hint id_{name}_helptext"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        errors = preferences.validate_settings(
            self.user,
            channels=list(data.get("channels") or []),
            topics=list(data.get("topics") or []),
            quiet_start=data.get("quiet_start"),
            quiet_end=data.get("quiet_end"),
        )
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
        return data
