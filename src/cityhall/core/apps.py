from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "cityhall.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from cityhall.core import signals  # noqa: F401  (post_migrate: cache table)
