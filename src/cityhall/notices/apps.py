from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NoticesConfig(AppConfig):
    name = "cityhall.notices"
    label = "notices"
    verbose_name = _("News and messages")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cityhall.notices import receivers, staff_nav  # noqa: F401  (signals, console nav)
        from cityhall.notices.services import reminders
        from cityhall.payments.services.reminders import register_reminder_sender

        register_reminder_sender(reminders.send_reminder)
