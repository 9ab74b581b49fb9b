"""Forms of the inquiries (tickets): the contact form, replies, the staff's actions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cityhall.core.forms import AccessibleFormMixin
from cityhall.inquiries.models import (
    ReplyTemplate,
    RoutingRule,
    TicketChannel,
    TicketStatus,
)
from cityhall.people.models import Department, User


class DepartmentChoiceField(forms.ModelChoiceField[Department]):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.localized_name())


class StaffChoiceField(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.display_name or obj.email)


def _departments() -> Any:
    return Department.objects.filter(is_active=True).order_by("code")


class ContactForm(AccessibleFormMixin, forms.Form):
    """お問い合わせ: name and e-mail only for a visitor without an account."""

    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=_("Your question"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Please do not write your My Number or bank details."),
    )
    name = forms.CharField(label=_("Your name"), max_length=120, required=False)
    email = forms.EmailField(
        label=_("Your e-mail address"),
        required=False,
        help_text=_("We send the answer to this address."),
    )
    # A field people never see (hidden by CSS); bots fill it in.
    website = forms.CharField(label=_("Leave this empty"), required=False)

    def __init__(self, *args: Any, anonymous: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.anonymous = anonymous
        if anonymous:
            self.fields["name"].required = True
            self.fields["email"].required = True
            self.fields["email"].widget.attrs["autocomplete"] = "email"
            self.fields["name"].widget.attrs["autocomplete"] = "name"
        else:
            del self.fields["name"]
            del self.fields["email"]
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


class MessageForm(AccessibleFormMixin, forms.Form):
    body = forms.CharField(
        label=_("Your message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 5})
    )


class ReplyForm(AccessibleFormMixin, forms.Form):
    KIND_CHOICES = [
        ("answer", _("Answer to the resident")),
        ("waiting", _("Question to the resident (waiting for them)")),
        ("note", _("Internal note (the resident does not see it)")),
    ]
    kind = forms.ChoiceField(
        label=_("What is it"), choices=KIND_CHOICES, initial="answer", widget=forms.RadioSelect
    )
    body = forms.CharField(
        label=_("Text"), max_length=10000, widget=forms.Textarea(attrs={"rows": 8})
    )


class RouteForm(AccessibleFormMixin, forms.Form):
    department = DepartmentChoiceField(
        label=_("Department"), queryset=_departments(), empty_label=_("Choose…")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Department.objects.filter(is_active=True).order_by("code")


class StatusForm(AccessibleFormMixin, forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=TicketStatus.choices)
    assignee = StaffChoiceField(
        label=_("Assigned to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody yet"),
    )

    def __init__(self, *args: Any, staff: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ModelChoiceField)
        if staff is not None:
            field.queryset = staff


class FilterForm(AccessibleFormMixin, forms.Form):
    STATUS_CHOICES = [("", _("Not closed")), ("all", _("All")), *TicketStatus.choices]
    q = forms.CharField(label=_("Subject or reference"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("", _("All")), *TicketChannel.choices], required=False
    )
    department = forms.TypedChoiceField(
        label=_("Department"), required=False, coerce=int, empty_value=None
    )
    overdue = forms.BooleanField(label=_("Only overdue"), required=False)
    triage = forms.BooleanField(label=_("Only the triage queue"), required=False)

    def __init__(self, *args: Any, departments: Any = (), triage: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("All")), *[(d.pk, d.localized_name()) for d in departments]]
        if not triage:
            del self.fields["triage"]


class RuleForm(AccessibleFormMixin, forms.ModelForm[RoutingRule]):
    class Meta:
        model = RoutingRule
        fields = ["words", "department", "priority", "active"]
        field_classes = {"department": DepartmentChoiceField}
        help_texts = {
            "words": _("Comma-separated; any one of them in the subject or question matches."),
            "priority": _("Smaller numbers are tried first."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Department.objects.filter(is_active=True).order_by("code")


class TemplateForm(AccessibleFormMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120)
    department = DepartmentChoiceField(
        label=_("Department"),
        queryset=_departments(),
        required=False,
        empty_label=_("Every department"),
    )
    body_ja = forms.CharField(
        label=_("Text in Japanese"), widget=forms.Textarea(attrs={"rows": 6}), max_length=5000
    )
    body_en = forms.CharField(
        label=_("Text in English"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=5000,
        required=False,
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Department.objects.filter(is_active=True).order_by("code")

    @classmethod
    def initial_for(cls, template: ReplyTemplate) -> dict[str, Any]:
        return {
            "title": template.title,
            "department": template.department_id,
            "body_ja": template.bodies.get("ja", ""),
            "body_en": template.bodies.get("en", ""),
            "active": template.active,
        }

    def apply(self, template: ReplyTemplate) -> ReplyTemplate:
        data = self.cleaned_data
        template.title = data["title"]
        template.department = data["department"]
        bodies = dict(template.bodies or {})
        bodies["ja"] = data["body_ja"]
        if data["body_en"]:
            bodies["en"] = data["body_en"]
        else:
            bodies.pop("en", None)
        template.bodies = bodies
        template.active = data["active"]
        return template
