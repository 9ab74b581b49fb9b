from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProceduresConfig(AppConfig):
    name = "cityhall.procedures"
    label = "procedures"
    verbose_name = _("Procedures")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cityhall.procedures import staff_nav  # noqa: F401  (registers console sections)
        from cityhall.procedures.services import prefill  # noqa: F401  (registers plug-ins)
