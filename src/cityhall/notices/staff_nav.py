"""Puts the notices' parts of the staff console into its navigation."""

from django.utils.translation import gettext_lazy as _

from cityhall.notices import permissions
from cityhall.people.staff_views import add_section

add_section(
    "noticestaff:articles", _("News"), permissions.can_write_articles, after="paystaff:online"
)
add_section(
    "noticestaff:messages",
    _("Messages"),
    permissions.can_see_messages,
    after="noticestaff:articles",
)
add_section(
    "noticestaff:alert_new",
    _("Emergency alert"),
    permissions.can_send_alerts,
    after="noticestaff:messages",
)
