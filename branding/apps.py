"""Branding: the shop's name, logo, colours and typeface, edited on the admin's "Site settings"
page (one row) over defaults from the environment (SHOP_NAME, SHOP_LOGO_URL, SHOP_BRAND_COLOUR,
SHOP_ACCENT_COLOUR)."""
from django.apps import AppConfig


class BrandingConfig(AppConfig):
    """Connects the invalidation of the cached branding to every save of the site settings."""

    name = "branding"
    verbose_name = "Branding"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .models import SiteSettings
        from .selectors import invalidate_branding

        post_save.connect(invalidate_branding, sender=SiteSettings, dispatch_uid="branding-saved")
        post_delete.connect(invalidate_branding, sender=SiteSettings, dispatch_uid="branding-deleted")
