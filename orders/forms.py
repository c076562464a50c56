"""Validation of what shoppers post. No prices here: prices only ever come from the database."""
from django import forms
from django.conf import settings

from shop.templatetags.shop import money

from .pricing import available_methods, shipping_rates

COUNTRIES = [
    ("US", "United States"), ("GB", "United Kingdom"), ("CA", "Canada"), ("IE", "Ireland"), ("FR", "France"),
    ("DE", "Germany"), ("NL", "Netherlands"), ("ES", "Spain"), ("IT", "Italy"), ("AU", "Australia"),
]


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


class VoucherForm(forms.Form):
    """A voucher code typed in the cart ("remove" posted alongside takes the cart's code off)."""

    code = forms.CharField(label="Voucher code", max_length=64, required=False)

    def clean(self):
        data = super().clean()
        if not data.get("code") and "remove" not in self.data:
            raise forms.ValidationError("Enter a voucher code.")
        return data


class CheckoutDetailsForm(forms.Form):
    """Contact, shipping address and shipping method."""

    email = forms.EmailField()
    shipping_name = forms.CharField(label="Full name", max_length=200)
    shipping_line1 = forms.CharField(label="Address line 1", max_length=255)
    shipping_line2 = forms.CharField(label="Address line 2", max_length=255, required=False)
    shipping_city = forms.CharField(label="City", max_length=100)
    shipping_postcode = forms.CharField(label="Postcode / ZIP", max_length=20)
    shipping_country = forms.ChoiceField(label="Country", choices=COUNTRIES,
                                         initial=lambda: settings.SHOP_DEFAULT_COUNTRY)
    phone = forms.CharField(max_length=32, required=False)
    shipping_method = forms.ChoiceField(widget=forms.RadioSelect, choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shipping_method"].choices = [
            (rate.code, f"{rate.name} ({money(rate.price)}"  # "$5.00", as every price
                        + (f", free from {money(rate.free_above)})" if rate.free_above is not None else ")"))
            for rate in shipping_rates()
        ]

    def clean(self):
        """Refuse a shipping method that does not serve the address's zone, naming those that do."""
        data = super().clean()
        code, country = data.get("shipping_method"), data.get("shipping_country")
        if code and country:
            offered = available_methods(country, data.get("shipping_postcode", ""))
            if code not in {method.code for method in offered}:
                self.add_error("shipping_method", (
                    f"This method does not deliver to {country}; choose "
                    + " or ".join(method.name for method in offered) + "." if offered
                    else f"Sorry, we do not ship to {country} yet."))
        return data


class PaymentForm(forms.Form):
    """The checkout attempt's idempotency key. No card field: card data is typed on the payment
    provider's hosted page only and never reaches the shop."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
