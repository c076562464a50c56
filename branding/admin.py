"""The admin's "Site settings" page: the one SiteSettings row, edited in place (no list, no add,
no delete; the row is created by its first save). Saving it changes the storefront on the next page (branding.selectors)."""
from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from .models import SiteSettings


@admin.register(SiteSettings)
class SiteSettingsAdmin(admin.ModelAdmin):
    """The settings page; the list URL opens the row's change form (created on first visit)."""

    fieldsets = [
        ("Identity", {"fields": ["shop_name", "logo"]}),
        ("Theme", {"fields": ["brand_colour", "accent_colour", "font"],
                   "description": "Both colours carry white text: each must have a contrast of at least "
                                  "4.5:1 against white."}),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None):
        """There is one row: go to its form."""
        return HttpResponseRedirect(reverse("admin:branding_sitesettings_change", args=[SiteSettings.SINGLETON_PK]))

    def get_object(self, request: HttpRequest, object_id: str, from_field=None):
        """The row, or before its first save an empty one (every field the environment's)."""
        row = super().get_object(request, object_id, from_field)
        if row is None and object_id == str(SiteSettings.SINGLETON_PK):
            row = SiteSettings(pk=SiteSettings.SINGLETON_PK)
        return row
