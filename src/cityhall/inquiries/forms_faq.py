"""Forms of the FAQ pages: the staff console's entry, language version, filter and CSV
upload forms, and the residents' search and feedback forms."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from cityhall.inquiries import permissions
from cityhall.inquiries.models import FaqCategory, FaqEntry, FaqText
from cityhall.inquiries.services import faq
from cityhall.people.models import Department
from cityhall.procedures.services import catalogue

MAX_UPLOAD_BYTES = faq.MAX_FILE_BYTES


class SearchForm(forms.Form):
    """The residents' FAQ search (GET)."""

    q = forms.CharField(label=_("Search the questions"), max_length=200, required=False)
    category = forms.ChoiceField(
        label=_("Category"), choices=[("", ""), *FaqCategory.choices], required=False
    )


class FeedbackForm(forms.Form):
    helpful = forms.ChoiceField(choices=[("yes", _("Yes")), ("no", _("No"))])


class StaffFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=200, required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.filter(is_active=True),
        required=False,
        to_field_name="code",
    )
    missing = forms.ChoiceField(label=_("Missing translation"), required=False)
    due = forms.BooleanField(label=_("Due for review"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["category"]).choices = [
            ("", _("All categories")),
            *FaqCategory.choices,
        ]
        cast(forms.ModelChoiceField, self.fields["department"]).empty_label = str(
            _("All departments")
        )
        cast(forms.ChoiceField, self.fields["missing"]).choices = [("", _("Any"))] + [
            (code, name) for code, name in settings.LANGUAGES if code != faq.ORIGINAL
        ]


class EntryForm(forms.Form):
    """An entry's settings with its Japanese question and answer."""

    key = forms.CharField(
        label=_("Id"),
        max_length=faq.KEY_MAX,
        help_text=_("Letters, digits, “-”, “_” and “.”, e.g. gomi-001. It cannot change later."),
    )
    question = forms.CharField(label=_("Question (Japanese)"), max_length=faq.QUESTION_MAX)
    answer = forms.CharField(
        label=_("Answer (Japanese)"),
        max_length=faq.MAX_ANSWER_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    keywords = forms.CharField(
        label=_("Search words"),
        max_length=faq.KEYWORDS_MAX,
        required=False,
        help_text=_("Other words residents use for this, separated by spaces."),
    )
    category = forms.ChoiceField(label=_("Category"), choices=FaqCategory.choices)
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.none(), required=False
    )
    procedures = forms.CharField(
        label=_("Related procedures"),
        max_length=500,
        required=False,
        help_text=_("Procedure ids (slugs) of the procedure catalogue, separated by spaces."),
    )
    url = forms.URLField(
        label=_("Source page"),
        max_length=faq.URL_MAX,
        required=False,
        assume_scheme="https",
        help_text=_("The city web page this answer comes from."),
    )
    review_on = forms.DateField(
        label=_("Review by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The date by which someone checks the answer is still right."),
    )
    published = forms.BooleanField(label=_("Published"), required=False, initial=True)

    def __init__(self, *args: Any, user: Any, entry: FaqEntry | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entry = entry
        departments = Department.objects.filter(is_active=True)
        if not permissions.is_admin(user):
            allowed = permissions.department_ids(user)
            if entry is not None and entry.department_id:
                allowed.add(entry.department_id)
            departments = departments.filter(pk__in=allowed)
        department = cast(forms.ModelChoiceField, self.fields["department"])
        department.queryset = departments
        department.empty_label = str(_("No department"))
        if entry is not None:
            self.fields["key"].required = False
            self.fields["key"].disabled = True

    @staticmethod
    def initial_for(entry: FaqEntry, text: FaqText | None) -> dict[str, Any]:
        return {
            "key": entry.key,
            "question": text.question if text else "",
            "answer": text.answer if text else "",
            "keywords": text.keywords if text else "",
            "category": entry.category,
            "department": entry.department_id,
            "procedures": " ".join(entry.procedures or []),
            "url": entry.url,
            "review_on": entry.review_on,
            "published": entry.published,
        }

    def clean_key(self) -> str:
        if self.entry is not None:
            return self.entry.key
        key = (self.cleaned_data.get("key") or "").strip()
        if not faq.KEY_RE.match(key):
            raise forms.ValidationError(
                _("Use only letters, digits, “-”, “_” and “.”, starting with a letter or digit.")
            )
        if FaqEntry.objects.filter(key=key).exists():
            raise forms.ValidationError(_("An entry with this id already exists."))
        return key

    def clean_procedures(self) -> list[str]:
        slugs = faq.split_slugs(self.cleaned_data.get("procedures") or "")
        if not slugs:
            return []
        known = catalogue.by_slugs(slugs)
        unknown = [s for s in slugs if s not in known]
        if unknown:
            raise forms.ValidationError(
                _("Not in the procedure catalogue: %(slugs)s.") % {"slugs": ", ".join(unknown)}
            )
        return slugs


class TextForm(forms.Form):
    """One language version of an entry."""

    question = forms.CharField(label=_("Question"), max_length=faq.QUESTION_MAX)
    answer = forms.CharField(
        label=_("Answer"),
        max_length=faq.MAX_ANSWER_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    keywords = forms.CharField(
        label=_("Search words"),
        max_length=faq.KEYWORDS_MAX,
        required=False,
        help_text=_("Other words residents use for this, separated by spaces."),
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8 or Shift_JIS (CP932); columns as described in the guide."),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB.") % {"mb": MAX_UPLOAD_BYTES // 2**20}
            )
        return upload
