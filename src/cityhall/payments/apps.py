from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "cityhall.payments"
    label = "payments"
    verbose_name = _("Payments")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cityhall.payments import staff_nav  # noqa: F401  (registers console sections)
        from cityhall.payments.services import fees
        from cityhall.procedures.services.hooks import register_fee_hook

        register_fee_hook("payments.fee", fees.fee_url)
        fees.connect_signals()
