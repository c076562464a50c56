from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """Events, the order-history import, daily rollups, and the staff dashboards."""

    name = "analytics"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the event receivers
