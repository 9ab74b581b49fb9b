"""Puts the payments' parts of the staff console into its navigation."""

from django.utils.translation import gettext_lazy as _

from cityhall.payments import permissions
from cityhall.people.staff_views import add_section

add_section("paystaff:charges", _("Charges"), permissions.can_use_charges, after="procstaff:forms")
add_section(
    "paystaff:reconcile", _("Reconciliation"), permissions.can_reconcile, after="paystaff:charges"
)
add_section(
    "paystaff:print", _("Slip printing"), permissions.can_reconcile, after="paystaff:reconcile"
)
add_section(
    "paystaff:online", _("Online payments"), permissions.can_reconcile, after="paystaff:reconcile"
)
