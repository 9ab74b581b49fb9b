from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "cityhall.people"
    label = "people"
    verbose_name = "People"

    def ready(self) -> None:
        from cityhall.people import signals  # noqa: F401  (login audit)
        from cityhall.people.services import identity  # noqa: F401  (OIDC link after login)
