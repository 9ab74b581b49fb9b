"""Messages of Django and pydantic that cityhall translates itself.

Django ships no catalogue for やさしい日本語, and pydantic none at all, so the
messages residents meet most often are listed here for extraction into our .po
files. Pydantic's error *types* are mapped to plain messages in the user's language.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext_lazy

# Django's own form and password messages, extracted so every UI language has them.
DJANGO_MESSAGES = (
    gettext_noop("This field is required."),
    gettext_noop("Enter a valid email address."),
    gettext_noop("Enter a whole number."),
    gettext_noop("Select a valid choice. %(value)s is not one of the available choices."),
    gettext_noop("Ensure this value is greater than or equal to %(limit_value)s."),
    gettext_noop("Ensure this value is less than or equal to %(limit_value)s."),
    gettext_noop("This password is too common."),
    gettext_noop("This password is entirely numeric."),
    gettext_noop("The password is too similar to the %(verbose_name)s."),
    gettext_noop("The two password fields didn’t match."),
    ngettext_lazy(
        "This password is too short. It must contain at least %(min_length)d character.",
        "This password is too short. It must contain at least %(min_length)d characters.",
        "min_length",
    ),
    ngettext_lazy(
        "Ensure this value has at most %(limit_value)d character (it has %(show_value)d).",
        "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).",
        "limit_value",
    ),
)


def pydantic_message(error_type: str) -> str:
    """A plain, translated message for a pydantic error type."""
    messages = {
        "missing": _("This field is required."),
        "int_parsing": _("Write a whole number."),
        "int_type": _("Write a whole number."),
        "bool_parsing": _("Write true or false."),
        "bool_type": _("Write true or false."),
        "string_type": _("Write text."),
        "list_type": _("Send a list."),
        "greater_than_equal": _("The number is too small."),
        "less_than_equal": _("The number is too large."),
        "string_too_long": _("The text is too long."),
        "too_long": _("The list is too long."),
        "json_invalid": _("The body is not valid JSON."),
        "model_attributes_type": _("The body must be a JSON object."),
        "dict_type": _("The body must be a JSON object."),
    }
    return messages.get(error_type, _("This value is not valid."))
