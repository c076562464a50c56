"""Validation of what shoppers post. No prices here: prices only ever come from the database."""
from django import forms
from django.conf import settings

from shop.templatetags.shop import money

from .addresses import COUNTRIES, AddressInvalid, normalize, postcode_help, region_help
from .pricing import shipping_offer, shipping_rates

__all__ = ["COUNTRIES", "AddToCartForm", "AddressFormMixin", "CartLineForm", "CheckoutDetailsForm", "PaymentForm",
           "VoucherForm"]


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


class GiftCardForm(forms.Form):
    """A gift card code typed in the cart, or `remove`: the id of a card to take off the cart."""

    code = forms.CharField(label="Gift card code", max_length=32, required=False)
    remove = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if not data.get("code") and not data.get("remove"):
            raise forms.ValidationError("Enter a gift card code.")
        return data


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

    def __init__(self, *args, product_ids=(), **kwargs):
        """`product_ids`: the cart's products; methods that exclude one of them are not offered."""
        super().__init__(*args, **kwargs)
        self.product_ids = set(product_ids)
        self.country, self.postcode = (self._address_value("shipping_country").upper(),
                                       self._address_value("shipping_postcode"))
        offer = shipping_offer(self.country, self.postcode, self.product_ids)
        offered = {method.code for method in offer.methods}
        rates = [rate for rate in shipping_rates() if rate.code in offered]
        field = self.fields["shipping_method"]
        field.choices = [
            (rate.code, f"{rate.name} ({money(rate.price)}"  # "$5.00", as every price
                        + (f", free from {money(rate.free_above)})" if rate.free_above is not None else ")"))
            for rate in rates
        ]
        # Only the methods serving the address and taking the cart's products are offered; none at all says why.
        self.no_shipping = "" if rates else offer.reason or f"Sorry, we do not ship to {self.country} yet."
        field.error_messages["invalid_choice"] = offer.refusal(self._address_value("shipping_method"), self.country) \
            if rates else self.no_shipping
        if not rates:
            field.error_messages["required"] = self.no_shipping

    def _address_value(self, name: str) -> str:
        """The posted value of address field `name` (bound forms), else its initial value."""
        if self.is_bound:
            return str(self.data.get(name) or "").strip()
        return str(self.get_initial_for_field(self.fields[name], name) or "").strip()

    def summary_pricing(self) -> dict:
        """Keyword arguments for orders.selectors.cart_summary beside this form: the address's
        country and postcode and the chosen method when it serves them, else the first that does
        (None when none does: the summary then shows shipping as the next step)."""
        codes = [code for code, _ in self.fields["shipping_method"].choices]
        chosen = self._address_value("shipping_method")
        method = chosen if chosen in codes else (codes[0] if codes else None)
        known = self.country in dict(COUNTRIES)
        return {"country": self.country if known else None, "postcode": self.postcode if known else "",
                "shipping_method": method if known else None}

    def clean(self):
        """Refuse a shipping method that does not serve the (normalised) address's zone or cannot take
        the cart's products, naming those that do (or why none does)."""
        data = super().clean()
        code, country = data.get("shipping_method"), data.get("shipping_country")
        if code and country:
            offer = shipping_offer(country, data.get("shipping_postcode", ""), self.product_ids)
            if code not in {method.code for method in offer.methods}:
                self.add_error("shipping_method", offer.refusal(code, country))
        return data


class PaymentForm(forms.Form):
    """The checkout attempt's idempotency key. No card field: card data is typed on the payment
    provider's hosted page only and never reaches the shop."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
