"""The shop's admin site (Django's documented way to override the default site: ShopAdminConfig's
default_site, in place of "django.contrib.admin" in INSTALLED_APPS).

- Log in: accounts.forms.AdminLoginForm, so that the admin login has the same login guard as the
  shop's log-in page and the API (accounts.login_guard).
- Invalid list filters are said to be invalid. Django's change list answers a filter it cannot
  apply (`?created_at__gte=2020-13-45`, an unknown field, a lookup it does not allow) by
  redirecting to the unfiltered list (`?e=1`) without a word, so a member of staff reads the whole
  list as the filtered one. Every ModelAdmin registered here, the apps' and the libraries', also
  adds a message naming what was wrong.
"""
from django.contrib import admin, messages
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import ValidationError


def invalid_filter_message(error: Exception) -> str:
    """What was wrong with a change list's filter, for a person."""
    cause = error.args[0] if error.args else error
    reason = " ".join(cause.messages) if isinstance(cause, ValidationError) else str(cause or "not a valid filter")
    return f"That filter is not valid, so the list shows everything: {reason}"


class InvalidFilterMessage:
    """ModelAdmin mixin: a filter the change list cannot apply gets an error message (and, as in
    Django, the unfiltered list)."""

    def get_changelist_instance(self, request):
        try:
            return super().get_changelist_instance(request)
        except (IncorrectLookupParameters, DisallowedModelAdminLookup) as error:
            messages.error(request, invalid_filter_message(error))
            raise IncorrectLookupParameters(error) from None


class ShopAdminSite(admin.AdminSite):
    """The default admin site: the guarded login form, and InvalidFilterMessage on every ModelAdmin."""

    @property
    def login_form(self):
        from accounts.forms import AdminLoginForm

        return AdminLoginForm

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, InvalidFilterMessage):
            admin_class = type(admin_class.__name__, (InvalidFilterMessage, admin_class),
                               {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__})
        super().register(model_or_iterable, admin_class, **options)


class ShopAdminConfig(AdminConfig):
    """django.contrib.admin with ShopAdminSite as the default site."""

    default_site = "shop.admin_site.ShopAdminSite"
