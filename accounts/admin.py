"""Customers and staff in the Django admin."""
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import Address, User


class AddressInline(admin.StackedInline):
    model = Address
    extra = 0


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Users keyed by email; orders are reachable from the order admin filtered by customer."""

    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "email_verified_at", "is_staff", "is_active", "date_joined",
                    "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups", "date_joined"]
    inlines = [AddressInline]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email_verified_at", "country")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    def get_readonly_fields(self, request, obj=None):
        """Only superusers grant staff status, roles or permissions: an Order manager may edit a
        customer, never promote anyone (themselves included)."""
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ["is_staff", "is_superuser", "groups", "user_permissions"]
        return readonly

    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
