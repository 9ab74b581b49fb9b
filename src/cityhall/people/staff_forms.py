"""Forms of the staff console: login, TOTP, residents, departments, staff, audit filters."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cityhall.core.forms import AccessibleFormMixin
from cityhall.people import permissions
from cityhall.people.forms import PHONE, EmailPasswordForm, ProfileForm
from cityhall.people.models import Department, Role, StaffAssignment, User
from cityhall.people.services.staff import AuditFilters


class StaffLoginForm(EmailPasswordForm):
    """E-mail and password of a staff account."""

    error_messages = {
        "invalid_login": _("The e-mail address or the password is not right."),
        "inactive": _("The e-mail address or the password is not right."),
    }

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not user.is_staff:
            # Same words as a wrong password: the form does not tell who has which account.
            raise forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login")


CODE = re.compile(r"^\d{6}$")


class TOTPForm(AccessibleFormMixin, forms.Form):
    code = forms.CharField(
        label=_("6-digit code"),
        max_length=12,
        help_text=_("The code your authenticator app shows now."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "class": "input--short",
            }
        ),
    )

    def clean_code(self) -> str:
        value = re.sub(r"\s", "", self.cleaned_data.get("code") or "")
        value = value.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
        if not CODE.match(value):
            raise forms.ValidationError(_("Enter the 6 digits, for example 123456."))
        return value


class ResidentSearchForm(AccessibleFormMixin, forms.Form):
    q = forms.CharField(
        label=_("E-mail address or name"),
        min_length=2,
        max_length=100,
        help_text=_("At least 2 characters. Every search is recorded in the audit log."),
        widget=forms.TextInput(attrs={"type": "search", "spellcheck": "false"}),
    )


class ResidentProfileForm(ProfileForm):
    """The resident's profile as a clerk fills it in with them (no consents, no interests)."""

    STAFF_LABELS = {
        "display_name": _("Name to show"),
        "district": _("District (住民自治協議会)"),
        "birth_year": _("Year of birth"),
        "household_size": _("People in the household"),
        "children_birth_years": _("Years of birth of the children"),
        "care_in_household": _("Someone in the household needs care"),
        "preferred_language": _("Language for messages"),
        "phone": _("Phone number"),
        "postal_code": _("Postal code"),
        "address": _("Address"),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("interests", "channels", "consents"):
            del self.fields[name]
        for name, label in self.STAFF_LABELS.items():
            self.fields[name].label = label
        self.fields["display_name"].help_text = ""
        self.fields["district"].help_text = ""


class ReasonForm(AccessibleFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("Kept in the audit log. For example: the resident asked by phone."),
    )

    def clean_reason(self) -> str:
        value = (self.cleaned_data.get("reason") or "").strip()
        if not value:
            raise forms.ValidationError(_("Write why."))
        return value


# --- departments ---------------------------------------------------------------------------

NAME_LANGUAGES = (
    ("en", "name_en", _("Name in English")),
    ("pt-br", "name_pt_br", _("Name in Portuguese")),
    ("vi", "name_vi", _("Name in Vietnamese")),
    ("zh-hans", "name_zh_hans", _("Name in Chinese (simplified)")),
    ("es", "name_es", _("Name in Spanish")),
)


class DepartmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.code})"


class DepartmentForm(AccessibleFormMixin, forms.Form):
    code = forms.SlugField(
        label=_("Code"),
        max_length=50,
        help_text=_("Short name in letters, digits and hyphens, for example shimin-ka."),
        widget=forms.TextInput(attrs={"spellcheck": "false"}),
    )
    name = forms.CharField(label=_("Name (Japanese)"), max_length=120)
    kana = forms.CharField(label=_("Reading (kana)"), max_length=200, required=False)
    name_en = forms.CharField(label=_("Name in English"), max_length=120, required=False)
    name_pt_br = forms.CharField(label=_("Name in Portuguese"), max_length=120, required=False)
    name_vi = forms.CharField(label=_("Name in Vietnamese"), max_length=120, required=False)
    name_zh_hans = forms.CharField(
        label=_("Name in Chinese (simplified)"), max_length=120, required=False
    )
    name_es = forms.CharField(label=_("Name in Spanish"), max_length=120, required=False)
    parent = DepartmentChoiceField(
        label=_("Part of"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("None"),
    )
    phone = forms.CharField(
        label=_("Phone number"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )
    email = forms.EmailField(label=_("E-mail address"), required=False)
    location = forms.CharField(label=_("Where"), max_length=200, required=False)
    duties = forms.CharField(
        label=_("What it handles"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, department: Department | None = None, **kwargs: Any) -> None:
        self.department = department
        if department is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(department)
        super().__init__(*args, **kwargs)
        parents = Department.objects.all()
        if department is not None:
            parents = parents.exclude(pk=department.pk)
        self.fields["parent"].queryset = parents  # type: ignore[attr-defined]

    @staticmethod
    def initial_from(department: Department) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "code": department.code,
            "name": department.name,
            "kana": department.kana,
            "parent": department.parent_id,
            "phone": department.phone,
            "email": department.email,
            "location": department.location,
            "duties": department.duties,
            "is_active": department.is_active,
        }
        for language, field, _label in NAME_LANGUAGES:
            initial[field] = (department.names or {}).get(language, "")
        return initial

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip().lower()
        others = Department.objects.filter(code=code)
        if self.department is not None:
            others = others.exclude(pk=self.department.pk)
        if others.exists():
            raise forms.ValidationError(_("A department with this code already exists."))
        return code

    def clean_phone(self) -> str:
        value = (self.cleaned_data.get("phone") or "").strip()
        if value and not PHONE.match(value):
            raise forms.ValidationError(
                _("Write the phone number with digits, for example 0595-22-2500.")
            )
        return value

    def clean_parent(self) -> Department | None:
        parent = self.cleaned_data.get("parent")
        node, seen = parent, set()
        while node is not None and node.pk not in seen:
            if self.department is not None and node.pk == self.department.pk:
                raise forms.ValidationError(_("A department cannot be inside itself."))
            seen.add(node.pk)
            node = node.parent
        return parent

    def department_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        names = {
            language: data[field].strip()
            for language, field, _label in NAME_LANGUAGES
            if data.get(field, "").strip()
        }
        return {
            "code": data["code"],
            "name": data["name"].strip(),
            "kana": data["kana"].strip(),
            "names": names,
            "parent": data["parent"],
            "phone": data["phone"],
            "email": data["email"],
            "location": data["location"].strip(),
            "duties": data["duties"].strip(),
            "is_active": data["is_active"],
        }


# --- staff ---------------------------------------------------------------------------------


def _role_choices(actor: Any) -> list[tuple[str, Any]]:
    allowed = permissions.assignable_roles(actor)
    return [(value, label) for value, label in Role.choices if value in allowed]


def _department_queryset(actor: Any) -> Any:
    ids = [d.pk for d in permissions.managed_departments(actor)]
    return Department.objects.filter(pk__in=ids, is_active=True).order_by("code")


class AssignmentForm(AccessibleFormMixin, forms.Form):
    department = DepartmentChoiceField(label=_("Department"), queryset=Department.objects.none())
    role = forms.ChoiceField(label=_("Role"))
    title = forms.CharField(
        label=_("Job title"),
        max_length=100,
        required=False,
        help_text=_("For example counter clerk (窓口担当)."),
    )

    def __init__(
        self,
        *args: Any,
        actor: Any,
        member: User | None = None,
        assignment: StaffAssignment | None = None,
        **kwargs: Any,
    ) -> None:
        self.member = member
        self.assignment = assignment
        if assignment is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "department": assignment.department_id,
                "role": assignment.role,
                "title": assignment.title,
            }
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = _department_queryset(actor)  # type: ignore[attr-defined]
        self.fields["role"].choices = _role_choices(actor)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        department = data.get("department")
        if self.member is not None and department is not None:
            taken = StaffAssignment.objects.filter(user=self.member, department=department)
            if self.assignment is not None:
                taken = taken.exclude(pk=self.assignment.pk)
            if taken.exists():
                self.add_error("department", _("This person already works in that department."))
        return data


class StaffCreateForm(AssignmentForm):
    email = forms.EmailField(
        label=_("E-mail address"),
        help_text=_("The work address. The person logs in with it."),
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    display_name = forms.CharField(label=_("Name"), max_length=100)

    field_order = ["email", "display_name", "department", "role", "title"]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("An account with this e-mail address already exists."))
        return email


# --- audit log -----------------------------------------------------------------------------


class AuditFilterForm(AccessibleFormMixin, forms.Form):
    action = forms.CharField(
        label=_("Action"),
        max_length=64,
        required=False,
        help_text=_("Start of the action name, for example staff.resident"),
        widget=forms.TextInput(attrs={"spellcheck": "false"}),
    )
    actor = forms.CharField(
        label=_("Who (e-mail or account number)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"spellcheck": "false"}),
    )
    subject = forms.IntegerField(
        label=_("Resident (account number)"),
        required=False,
        min_value=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "input--short"}),
    )
    target_type = forms.CharField(
        label=_("Target type"),
        max_length=64,
        required=False,
        help_text=_("For example people.user"),
        widget=forms.TextInput(attrs={"spellcheck": "false"}),
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date cannot be before the start date."))
        return data

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        return AuditFilters(
            action=(data.get("action") or "").strip(),
            actor=(data.get("actor") or "").strip(),
            subject=data.get("subject"),
            target_type=(data.get("target_type") or "").strip().lower(),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
