"""Forms for residents' accounts and profiles."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cityhall.core.forms import AccessibleFormMixin
from cityhall.core.models import District
from cityhall.people.models import Channel, Consent, Interest


class SignupForm(AccessibleFormMixin, forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"),
        help_text=_("We send a link to this address to check that it is yours."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    password = forms.CharField(
        label=_("Password"),
        help_text=_("At least 10 characters. Do not use your name or a common word."),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    terms = forms.BooleanField(
        label=_("I have read how the city uses my data (privacy notice)."),
        error_messages={"required": _("Please read and accept the privacy notice.")},
    )

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password = data.get("password")
        if password:
            from cityhall.people.models import User

            try:
                password_validation.validate_password(password, User(email=data.get("email", "")))
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return data


class EmailPasswordForm(AccessibleFormMixin, AuthenticationForm):
    """E-mail (any case) and password; ``authenticate()`` sees the request, so axes does."""

    username = forms.EmailField(
        label=_("E-mail address"),
        widget=forms.EmailInput(
            attrs={"autocomplete": "username", "autofocus": True, "spellcheck": "false"}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean_username(self) -> str:
        return (self.cleaned_data.get("username") or "").strip().lower()


class LoginForm(EmailPasswordForm):
    """A resident's login; refuses staff accounts (they use the staff console)."""

    error_messages = {
        "invalid_login": _("The e-mail address or the password is not right."),
        "inactive": _("This account is closed."),
        "staff": _("Staff accounts log in at the staff console."),
        "unverified": _("Please confirm your e-mail address first: open the link we sent you."),
    }

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if user.is_staff:
            raise forms.ValidationError(self.error_messages["staff"], code="staff")
        if not user.email_verified:
            raise forms.ValidationError(self.error_messages["unverified"], code="unverified")


class ResendVerificationForm(AccessibleFormMixin, forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class AccessiblePasswordResetForm(AccessibleFormMixin, PasswordResetForm):
    email = forms.EmailField(
        label=_("E-mail address"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def get_users(self, email: str) -> Any:
        # Staff passwords are reset by an administrator, never by an e-mailed link.
        return (user for user in super().get_users(email) if not user.is_staff)


class AccessibleSetPasswordForm(AccessibleFormMixin, SetPasswordForm):
    pass


POSTAL = re.compile(r"^\d{3}-?\d{4}$")
PHONE = re.compile(r"^[0-9+()\- ]{6,20}$")


class ContactFieldsMixin:
    """Cleaning of the district, phone and postal code fields a resident's profile has
    (shared by the resident's own profile form and the counter's new-resident form)."""

    cleaned_data: dict[str, Any]

    def clean_district(self) -> District | None:
        value = self.cleaned_data.get("district")
        return District.objects.filter(pk=value).first() if value else None

    def clean_phone(self) -> str:
        value = (self.cleaned_data.get("phone") or "").strip()
        value = value.translate(str.maketrans("０１２３４５６７８９－ー", "0123456789--"))
        if value and not PHONE.match(value):
            raise forms.ValidationError(
                _("Write the phone number with digits, for example 0595-22-2500.")
            )
        return value

    def clean_postal_code(self) -> str:
        value = (self.cleaned_data.get("postal_code") or "").strip()
        value = value.translate(str.maketrans("０１２３４５６７８９－ー", "0123456789--"))
        if value and not POSTAL.match(value):
            raise forms.ValidationError(
                _("Write the postal code as 7 digits, for example 518-8501.")
            )
        if value and "-" not in value:
            value = f"{value[:3]}-{value[3:]}"
        return value


def _district_choices() -> list[tuple[str, Any]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for district in District.objects.select_related("area"):
        groups.setdefault(district.area.localized_name(), []).append(
            (str(district.pk), district.localized_name())
        )
    return [("", _("Not chosen")), *groups.items()]


class ProfileForm(ContactFieldsMixin, AccessibleFormMixin, forms.Form):
    display_name = forms.CharField(
        label=_("Name to show"),
        max_length=100,
        required=False,
        help_text=_("How we greet you on this site. It can be a nickname."),
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )
    district = forms.ChoiceField(
        label=_("Your district (住民自治協議会)"),
        required=False,
        help_text=_("We use it to show news and alerts for where you live."),
    )
    birth_year = forms.IntegerField(
        label=_("Year of birth"),
        required=False,
        min_value=1900,
        help_text=_("For example 1956. Only the year."),
        widget=forms.NumberInput(
            attrs={"autocomplete": "bday-year", "inputmode": "numeric", "class": "input--short"}
        ),
    )
    household_size = forms.IntegerField(
        label=_("People in your household"),
        help_text=_("Count yourself too."),
        required=False,
        min_value=1,
        max_value=20,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "input--short"}),
    )
    children_birth_years = forms.CharField(
        label=_("Years of birth of your children"),
        required=False,
        max_length=100,
        help_text=_("Separate with commas, for example 2018, 2021. Leave empty if none."),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    care_in_household = forms.BooleanField(
        label=_("Someone in my household needs care"), required=False
    )
    preferred_language = forms.ChoiceField(
        label=_("Language for messages"), choices=settings.LANGUAGES
    )
    interests = forms.MultipleChoiceField(
        label=_("Topics that interest you"),
        required=False,
        choices=Interest.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    channels = forms.MultipleChoiceField(
        label=_("How we may contact you"),
        required=False,
        choices=Channel.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    phone = forms.CharField(
        label=_("Phone number"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "type": "tel"}),
    )
    postal_code = forms.CharField(
        label=_("Postal code"),
        required=False,
        max_length=8,
        help_text=_("For example 518-8501."),
        widget=forms.TextInput(
            attrs={"autocomplete": "postal-code", "inputmode": "numeric", "class": "input--short"}
        ),
    )
    address = forms.CharField(
        label=_("Address"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    furigana = forms.BooleanField(label=_("Show furigana over kanji"), required=False)
    large_text = forms.BooleanField(label=_("Show larger text"), required=False)
    consents = forms.MultipleChoiceField(
        label=_("What you allow the city to do"),
        required=False,
        choices=Consent.Purpose.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("You can change this at any time. Nothing is allowed until you tick it."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        district = self.fields["district"]
        assert isinstance(district, forms.ChoiceField)
        district.choices = _district_choices()

    def clean_birth_year(self) -> int | None:
        year = self.cleaned_data.get("birth_year")
        if year is not None and year > timezone.localdate().year:
            raise forms.ValidationError(_("The year of birth cannot be in the future."))
        return year

    def clean_children_birth_years(self) -> list[int]:
        raw = self.cleaned_data.get("children_birth_years") or ""
        parts = [p for p in re.split(r"[,、，\s]+", raw.strip()) if p]
        this_year = timezone.localdate().year
        years: list[int] = []
        for part in parts:
            part = part.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
            if not part.isdigit() or not (this_year - 60 <= int(part) <= this_year):
                raise forms.ValidationError(
                    _("Write years like 2018, between %(low)s and %(high)s.")
                    % {"low": this_year - 60, "high": this_year}
                )
            years.append(int(part))
        return sorted(years)


def years_to_text(years: list[int]) -> str:
    return ", ".join(str(y) for y in years)
