"""Customers and staff in the Django admin."""
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from shop.admin_filters import CappedCountPaginator, SourceListFilter

from .models import Address, User


class AddressInline(admin.StackedInline):
    model = Address
    extra = 0


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Users keyed by email; orders are reachable from the order admin filtered by customer.
    The list shows the shop's own customers by default (SourceListFilter: the imported history on
    request), ordered by email on the (source, email) index, and never counts the whole table.
    A search with "@" in it is an email search (prefix first: an index range)."""

    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "email_verified_at", "is_staff", "is_active", "date_joined",
                    "last_login"]
    list_filter = [SourceListFilter, "is_staff", "is_superuser", "is_active", "groups", "date_joined"]
    inlines = [AddressInline]
    search_fields = ["email", "first_name", "last_name"]
    show_full_result_count = False
    paginator = CappedCountPaginator  # counts stop at 10,000 matches
    show_facets = admin.ShowFacets.NEVER  # per-choice counts over the whole table, on every view
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email_verified_at", "country", "source")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    def get_search_results(self, request, queryset, search_term):
        """An email (a term with "@"): the exact address, else addresses starting with it (both
        index reads: emails are stored lower-case), else containing it. Else Django's search."""
        term = search_term.strip().lower()
        if "@" in term:
            for lookup in ("exact", "startswith", "contains"):
                found = queryset.filter(**{f"email__{lookup}": term})
                if lookup == "contains" or found.exists():
                    return found, False
        return super().get_search_results(request, queryset, search_term)

    def get_readonly_fields(self, request, obj=None):
        """Only superusers grant staff status, roles or permissions: an Order manager may edit a
        customer, never promote anyone (themselves included)."""
        readonly = list(super().get_readonly_fields(request, obj)) + ["source"]  # set by whoever made the account
        if not request.user.is_superuser:
            readonly += ["is_staff", "is_superuser", "groups", "user_permissions"]
        return readonly

    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
