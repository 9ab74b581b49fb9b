from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InquiriesConfig(AppConfig):
    name = "cityhall.inquiries"
    label = "inquiries"
    verbose_name = _("Inquiries and bookings")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cityhall.inquiries import receivers, staff_nav  # noqa: F401  (signals, console nav)
        from cityhall.inquiries.services import tickets
        from cityhall.procedures.services.hooks import register_board_tab

        register_board_tab("inqstaff:tickets", _("Inquiries"), tickets.open_count)
