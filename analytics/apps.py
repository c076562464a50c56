from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """Events, rollups and the staff dashboard (filled in by the analytics issue)."""

    name = "analytics"
