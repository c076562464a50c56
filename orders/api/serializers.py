"""Order API shapes. Input serializers list what a client may send; prices, totals, status and the
owner are never among them (a client-sent `price` or `total` is simply ignored). Address and card
rules are the checkout forms' (orders.forms, checked per country by orders.addresses), run from here
rather than repeated."""
from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import Variant
from giftcards.selectors import order_plan
from orders.forms import COUNTRIES, CheckoutDetailsForm
from orders.models import Order, OrderLine, OrderStatusChange
from payments.models import Payment
from payments.providers import active_code
from shop.api_base import StrictJSONSerializer

MAX_ITEMS = 100  # lines in one API order


class AddressSerializer(StrictJSONSerializer):
    """A postal address; `country` is an ISO 3166-1 alpha-2 code the shop ships to."""

    name = serializers.CharField(max_length=200)
    line1 = serializers.CharField(max_length=255)
    line2 = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100)
    postcode = serializers.CharField(max_length=20)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                   help_text="State, province or county, where the country has them (\"CA\").")
    country = serializers.ChoiceField(choices=COUNTRIES)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class OrderItemSerializer(StrictJSONSerializer):
    variant = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="A variant id.")
    quantity = serializers.IntegerField(min_value=1, max_value=settings.SHOP_CART_MAX_QUANTITY,
                                        help_text="Units, 1 to SHOP_CART_MAX_QUANTITY (99 by default).")


class OrderCreateSerializer(StrictJSONSerializer):
    """POST /api/v1/orders/ body. Prices and totals come from the catalogue, never from here."""

    items = OrderItemSerializer(many=True, allow_empty=False, min_length=1, max_length=MAX_ITEMS)
    email = serializers.EmailField(required=False, help_text="Contact email; the account's when left out.")
    shipping_address = AddressSerializer()
    billing_address = AddressSerializer(required=False,
                                        help_text="Where the invoice goes, when not the shipping address.")
    shipping_method = serializers.SlugField(
        max_length=32, help_text='A shipping method code of the address\'s zone, e.g. "standard" (the shop\'s '
                                 "shipping zones decide which; another code is a 400 naming those on offer).")
    voucher_code = serializers.CharField(max_length=64, required=False, allow_blank=True, default="",
                                         help_text="A voucher code; one that cannot be used is a 400 with the reason.")
    gift_card_codes = serializers.ListField(
        child=serializers.CharField(max_length=32), required=False, default=list, max_length=5,
        help_text="Gift card codes that pay part (or all) of the total, in this order; the payment is asked for "
                  "the rest. An invalid, expired, empty or other-currency card is a 400 with the reason.")
    payment_method = serializers.ChoiceField(
        choices=[], required=False,
        help_text="The shop's payment provider (the only choice); pay with the returned payment.client_secret "
                  "(Stripe.js). No card data is ever sent to the shop.")

    def get_fields(self):
        fields = super().get_fields()
        fields["payment_method"].choices = [active_code()]
        return fields

    def validate_items(self, items: list[dict]) -> list[dict]:
        ids = {item["variant"] for item in items}
        buyable = set(Variant.objects.filter(pk__in=ids, is_active=True, product__is_visible=True)
                      .values_list("pk", flat=True))
        errors = [{} if item["variant"] in buyable else {"variant": ["No such variant, or it is not for sale."]}
                  for item in items]
        if any(errors):
            raise serializers.ValidationError(errors)
        return items

    def validate(self, attrs: dict) -> dict:
        if isinstance(self.initial_data, dict) and "card_number" in self.initial_data:
            raise serializers.ValidationError({"card_number": [
                "The shop never accepts card numbers: pay the order's PaymentIntent with payment.client_secret."]})
        address = attrs["shipping_address"]
        # The items' products: a shipping method that excludes one of them is refused by name.
        products = Variant.objects.filter(pk__in=[item["variant"] for item in attrs.get("items", [])]) \
            .values_list("product_id", flat=True)
        details = CheckoutDetailsForm(data={
            "email": attrs.get("email") or self.context["request"].user.email,
            "shipping_name": address["name"], "shipping_line1": address["line1"], "shipping_line2": address["line2"],
            "shipping_city": address["city"], "shipping_postcode": address["postcode"],
            "shipping_region": address["region"],
            "shipping_country": address["country"], "phone": address["phone"],
            "shipping_method": attrs["shipping_method"],
        }, product_ids=products)
        errors = {}
        for name, messages in details.errors.items():
            field = name.replace("shipping_", "shipping_address.") if name.startswith("shipping_") and \
                name != "shipping_method" else name
            errors[{"phone": "shipping_address.phone"}.get(field, field)] = list(messages)
        if errors:
            raise serializers.ValidationError(errors)
        return {**attrs, "details": {**details.cleaned_data, "billing_address": dict(attrs.get("billing_address") or {})},
                "payment_method": active_code()}


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["variant", "product_name", "sku", "options", "unit_price", "quantity", "line_total", "discount",
                  "discount_reason", "tax_rate", "tax"]
        read_only_fields = fields


class StatusChangeSerializer(serializers.ModelSerializer):
    from_status = serializers.CharField(help_text="The status before; empty for the order's first status.")
    to_status = serializers.CharField(help_text="The status after.")

    class Meta:
        model = OrderStatusChange
        fields = ["from_status", "to_status", "changed_at", "note"]
        read_only_fields = fields


class ShippingAddressOut(serializers.Serializer):
    name = serializers.CharField(source="shipping_name")
    line1 = serializers.CharField(source="shipping_line1")
    line2 = serializers.CharField(source="shipping_line2")
    city = serializers.CharField(source="shipping_city")
    postcode = serializers.CharField(source="shipping_postcode")
    region = serializers.CharField(source="shipping_region")
    country = serializers.CharField(source="shipping_country")
    phone = serializers.CharField()


class PaymentSerializer(serializers.ModelSerializer):
    """The order's PaymentIntent: confirm it with Stripe.js and `client_secret`; the webhook marks
    the order paid."""

    class Meta:
        model = Payment
        fields = ["provider", "status", "amount", "currency", "intent_id", "client_secret"]
        read_only_fields = fields


class GiftCardChargeSerializer(serializers.Serializer):
    code = serializers.CharField(source="masked_code", help_text='The card\'s last four characters, e.g. "****7KQ2".')
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="What the card paid.")


class OrderSerializer(serializers.ModelSerializer):
    """An order as placed: every amount is a decimal string in `currency`, computed by the shop."""

    shipping_address = ShippingAddressOut(source="*")
    billing_address = AddressSerializer(allow_null=True, source="billing_address_or_none",
                                        help_text="Null when billing goes to the shipping address.")
    lines = OrderLineSerializer(many=True)
    history = StatusChangeSerializer(source="status_changes", many=True)
    customer = serializers.IntegerField(source="customer_id", allow_null=True)
    payment = serializers.SerializerMethodField(help_text="The latest PaymentIntent (null until one is made).")
    gift_cards = serializers.SerializerMethodField(help_text="What each gift card paid of the total (a payment, "
                                                             "not a discount).")
    to_pay = serializers.SerializerMethodField(help_text="The total less the gift cards: what the payment charges.")

    class Meta:
        model = Order
        fields = ["number", "status", "customer", "email", "currency", "shipping_address", "billing_address", "shipping_method",
                  "shipping_method_name", "shipping_price", "subtotal", "discount_total", "shipping_tax", "tax_total",
                  "prices_include_tax", "voucher_code", "price_explanation", "total", "payment_provider",
                  "payment_reference", "tracking_number", "created_at", "lines", "history", "payment",
                  "gift_cards", "to_pay"]
        read_only_fields = fields

    @extend_schema_field(GiftCardChargeSerializer(many=True))
    def get_gift_cards(self, order):
        return GiftCardChargeSerializer(order_plan(order).charges, many=True).data

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2))
    def get_to_pay(self, order):
        return serializers.DecimalField(max_digits=12, decimal_places=2).to_representation(order_plan(order).to_pay)

    @extend_schema_field(PaymentSerializer(allow_null=True))
    def get_payment(self, order):
        payment = next((p for p in order.payments.all() if p.flow == Payment.Flow.INTENT), None)
        return PaymentSerializer(payment).data if payment is not None else None


class OrderSummarySerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Orders placed.")
    total_spent = serializers.DecimalField(max_digits=14, decimal_places=2,
                                           help_text="Totals of orders not cancelled or refunded.")
    currency = serializers.CharField()
    first_order_at = serializers.DateTimeField(allow_null=True)
    last_order = OrderSerializer(allow_null=True)


class StatusChangeRequest(StrictJSONSerializer):
    """A staff status change. Shipping (`fulfilled`) needs a tracking number."""

    status = serializers.ChoiceField(choices=Order.Status.choices)
    tracking_number = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class CustomerSerializer(serializers.Serializer):
    """A customer with their order figures (staff only)."""

    id = serializers.IntegerField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_joined = serializers.DateTimeField()
    is_active = serializers.BooleanField()
    orders_count = serializers.IntegerField()
    total_spent = serializers.DecimalField(max_digits=14, decimal_places=2)
    first_order_at = serializers.DateTimeField(allow_null=True)
    last_order_at = serializers.DateTimeField(allow_null=True)
