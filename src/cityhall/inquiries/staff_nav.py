"""Puts the inquiries' parts of the staff console into its navigation (inquiries
themselves are a tab of the case board)."""

from django.utils.translation import gettext_lazy as _

from cityhall.inquiries import permissions
from cityhall.people.staff_views import add_section

add_section("inqstaff:faq", _("FAQ"), permissions.can_edit_faq, after="procstaff:board")
add_section(
    "inqstaff:bookings", _("Bookings"), permissions.can_manage_bookings, after="inqstaff:faq"
)
