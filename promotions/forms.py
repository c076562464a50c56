"""Admin forms of the pricing rules (validation only; promotions.services makes the vouchers)."""
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminSplitDateTime, AutocompleteSelectMultiple

from catalog.models import Category, Product

from .models import Voucher
from .services import MAX_BATCH, voucher_errors


class ChosenIdsAutocomplete(AutocompleteSelectMultiple):
    """The admin's autocomplete for a form outside a ModelAdmin: re-showing a refused form shows
    only the posted choices that are ids (Django's widget looks every posted value up as an id,
    and a made-up one would be a 500 instead of the field's own "not a valid value")."""

    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [choice for choice in value if str(choice).isdigit()], attr)


class GenerateCodesForm(forms.Form):
    """"Generate codes" in the voucher admin: a batch of single-use codes alike but for the code."""

    prefix = forms.RegexField(r"^[A-Za-z0-9_-]{0,20}$", max_length=20, required=False,
                              help_text='Up to 20 letters, digits, - and _, e.g. "XMAS-"; 8 random characters follow.')
    count = forms.IntegerField(min_value=1, max_value=MAX_BATCH, initial=100)
    kind = forms.ChoiceField(choices=Voucher.Kind.choices)
    value = forms.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0"), initial=Decimal("0"),
                               help_text="Percent (10 for 10 %) or an amount; unused for free shipping.")
    min_subtotal = forms.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0"), required=False)
    starts_at = forms.SplitDateTimeField(required=False, widget=AdminSplitDateTime)
    ends_at = forms.SplitDateTimeField(required=False, widget=AdminSplitDateTime)
    products = forms.ModelMultipleChoiceField(
        Product.objects.all(), required=False, help_text="Only these products (and the categories').",
        widget=ChosenIdsAutocomplete(Voucher._meta.get_field("products"), admin.site))
    categories = forms.ModelMultipleChoiceField(
        Category.objects.all(), required=False,
        help_text="Only products in these categories (and below); none of either: every product.",
        widget=ChosenIdsAutocomplete(Voucher._meta.get_field("categories"), admin.site))

    def clean(self):
        data = super().clean()
        if "kind" in data:
            for field, message in voucher_errors(kind=data["kind"], value=data.get("value"),
                                                 starts_at=data.get("starts_at"), ends_at=data.get("ends_at")).items():
                self.add_error(field, message)
        return data
