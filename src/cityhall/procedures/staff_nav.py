"""Puts the procedures' parts of the staff console into its navigation."""

from django.utils.translation import gettext_lazy as _

from cityhall.people.staff_views import add_section
from cityhall.procedures import permissions

add_section("procstaff:board", _("Applications"), permissions.can_use_cases)
add_section("procstaff:counter", _("Counter"), permissions.can_use_counter, after="procstaff:board")
add_section("procstaff:forms", _("Forms"), permissions.can_use_cases, after="procstaff:counter")
