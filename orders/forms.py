"""Validation of what shoppers post. No prices here: prices only ever come from the database."""
from django import forms
from django.conf import settings

from shop.templatetags.shop import money

from .addresses import COUNTRIES, AddressInvalid, normalize, postcode_help, region_help
from .pricing import shipping_rates

__all__ = ["COUNTRIES", "AddToCartForm", "AddressFormMixin", "CartLineForm", "CheckoutDetailsForm", "PaymentForm"]


class AddToCartForm(forms.Form):
    """The product page's form: a variant id chosen directly, or a size and colour to resolve."""

    product = forms.IntegerField(widget=forms.HiddenInput)
    variant = forms.IntegerField(required=False, widget=forms.HiddenInput)
    size = forms.CharField(required=False, max_length=32)
    colour = forms.CharField(required=False, max_length=32)
    quantity = forms.IntegerField(min_value=1, max_value=settings.SHOP_CART_MAX_QUANTITY, initial=1)


class CartLineForm(forms.Form):
    """A new quantity for one cart line; 0 removes it."""

    variant = forms.IntegerField(widget=forms.HiddenInput)
    quantity = forms.IntegerField(min_value=0, max_value=settings.SHOP_CART_MAX_QUANTITY)


class AddressFormMixin:
    """Checks the form's address against its country's rules (orders.addresses.normalize) once
    the fields are valid one by one: each problem becomes an error on its own field ("Enter the
    state." under the state), and the cleaned data gets the normalised postcode and region.
    `address_prefix` is the address fields' name prefix ("shipping_" or "")."""

    address_prefix = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("postcode", "region"):  # needed in some countries: no "(optional)" (orders/_field.html)
            self.fields[f"{self.address_prefix}{name}"].per_country = True

    def clean(self) -> dict:
        data = super().clean()
        prefix = self.address_prefix
        names = ("line1", "line2", "city", "postcode", "region", "country")
        if any(f"{prefix}{name}" in self.errors for name in names):
            return data  # a field already failed on its own: that error first
        try:
            cleaned = normalize(**{name: data.get(f"{prefix}{name}") or "" for name in names})
        except AddressInvalid as invalid:
            for name, message in invalid.errors.items():
                self.add_error(f"{prefix}{name}", message)
            return data
        data.update({f"{prefix}{name}": value for name, value in cleaned.items()})
        return data


class CheckoutDetailsForm(AddressFormMixin, forms.Form):
    """Contact, shipping address (checked per country) and shipping method."""

    address_prefix = "shipping_"

    email = forms.EmailField()
    shipping_name = forms.CharField(label="Full name", max_length=200)
    shipping_country = forms.ChoiceField(label="Country", choices=COUNTRIES,
                                         initial=lambda: settings.SHOP_DEFAULT_COUNTRY)
    shipping_line1 = forms.CharField(label="Address line 1", max_length=255)
    shipping_line2 = forms.CharField(label="Address line 2", max_length=255, required=False)
    shipping_city = forms.CharField(label="City", max_length=100)
    shipping_region = forms.CharField(label="State / province / county", max_length=100, required=False,
                                      help_text=region_help())
    shipping_postcode = forms.CharField(label="Postcode / ZIP", max_length=20, required=False,
                                        help_text=postcode_help())
    phone = forms.CharField(max_length=32, required=False)
    shipping_method = forms.ChoiceField(widget=forms.RadioSelect, choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shipping_method"].choices = [
            (rate.code, f"{rate.name} ({money(rate.price)})") for rate in shipping_rates()  # "$5.00", as every price
        ]


class PaymentForm(forms.Form):
    """The checkout attempt's idempotency key. No card field: card data is typed on the payment
    provider's hosted page only and never reaches the shop."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
