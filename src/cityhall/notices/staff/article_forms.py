"""Forms of the articles pages in the staff console."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cityhall.core.forms import AccessibleFormMixin
from cityhall.core.models import District
from cityhall.notices.models import TOPIC_CHOICES, Article, Audience
from cityhall.notices.services import articles
from cityhall.people.models import Department, StaffAssignment

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
BODY_HELP = _(
    "HTML: paragraphs (p), headings (h2–h4), lists (ul, ol, li), links (a href with "
    "https:, mailto: or tel:), strong, em and simple tables. Anything else is removed."
)


def _datetime_widget() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT)


class ArticleTextForm(AccessibleFormMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(
        label=_("Summary"),
        max_length=400,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One or two sentences shown in lists and feeds."),
    )
    body_html = forms.CharField(
        label=_("Text"), widget=forms.Textarea(attrs={"rows": 12}), help_text=BODY_HELP
    )

    def clean_body_html(self) -> str:
        value: str = self.cleaned_data.get("body_html") or ""
        if not re.sub(r"<[^>]+>", "", articles.sanitize_html(value)).strip():
            raise forms.ValidationError(_("Enter the text of the article."))
        return value


class ArticleForm(ArticleTextForm):
    """A new article or its settings with its Japanese text."""

    topic = forms.ChoiceField(label=_("Topic"), choices=TOPIC_CHOICES)
    audience = forms.ChoiceField(
        label=_("For whom"), choices=Audience.choices, initial=Audience.EVERYONE
    )
    districts = forms.ModelMultipleChoiceField(
        label=_("Districts"),
        queryset=District.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave empty for the whole city."),
    )
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.none(), required=False
    )
    valid_from = forms.DateTimeField(
        label=_("Shown from"), widget=_datetime_widget(), required=False
    )
    valid_until = forms.DateTimeField(
        label=_("Shown until"),
        widget=_datetime_widget(),
        required=False,
        help_text=_("Leave empty to show it until it is withdrawn."),
    )
    urgent = forms.BooleanField(label=_("Urgent: show it above other news"), required=False)

    field_order = [
        "title",
        "summary",
        "body_html",
        "topic",
        "audience",
        "districts",
        "department",
        "valid_from",
        "valid_until",
        "urgent",
    ]

    def __init__(self, *args: Any, user: Any, all_departments: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["districts"].queryset = District.objects.select_related("area")  # type: ignore[attr-defined]
        self.fields["districts"].label_from_instance = lambda d: d.localized_name()  # type: ignore[attr-defined]
        departments = Department.objects.filter(is_active=True)
        if not all_departments:
            codes = StaffAssignment.objects.filter(user=user).values("department_id")
            departments = departments.filter(pk__in=codes)
            self.fields["department"].required = True
        self.fields["department"].queryset = departments  # type: ignore[attr-defined]
        self.fields["department"].label_from_instance = lambda d: d.localized_name()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end <= start:
            self.add_error("valid_until", _("The end must be after the start."))
        return data

    def settings(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "topic": data["topic"],
            "audience": data["audience"],
            "districts": list(data.get("districts") or []),
            "department": data.get("department"),
            "valid_from": data.get("valid_from"),
            "valid_until": data.get("valid_until"),
            "urgent": bool(data.get("urgent")),
        }

    @classmethod
    def initial_for(cls, article: Article, version: Any) -> dict[str, Any]:
        return {
            "title": version.title if version else "",
            "summary": version.summary if version else "",
            "body_html": version.body_html if version else "",
            "topic": article.topic,
            "audience": article.audience,
            "districts": list(article.districts.all()),
            "department": article.department,
            "valid_from": article.valid_from,
            "valid_until": article.valid_until,
            "urgent": article.urgent,
        }


class VersionForm(ArticleTextForm):
    machine_translated = forms.BooleanField(
        label=_("This text is a machine translation"),
        required=False,
        help_text=_("Residents are told so. A person must still approve it."),
    )


class AttachmentForm(AccessibleFormMixin, forms.Form):
    title = forms.CharField(label=_("Title of the file"), max_length=200)
    file = forms.FileField(
        label=_("File"),
        help_text=_("PDF, PNG or JPEG."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )


class StatusFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *Article.Status.choices],
    )
