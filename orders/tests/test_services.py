"""Checkout service: stock, money and idempotency rules, tested on the service directly."""
from decimal import Decimal

import pytest

from catalog.models import Variant
from catalog.tests.factories import VariantFactory
from orders import services
from orders.models import Cart, Order
from orders.tests.factories import cart_with, checkout_details
from payments.testing import pay, place_paid_order

pytestmark = pytest.mark.django_db


def place(cart, key="key-1", **details):
    """Place the order and pay it through the test provider (a signed payment_intent.succeeded)."""
    return place_paid_order(cart=cart, customer=None, details=checkout_details(**details), idempotency_key=key)


def test_placing_an_order_takes_stock_and_snapshots_lines():
    hoodie = VariantFactory(sku="MH01-M-Gray", size="M", colour="Gray", price=Decimal("52.00"), stock=10,
                            product__name="Chaz Kangeroo Hoodie")
    bag = VariantFactory(price=Decimal("34.00"), sale_price=Decimal("30.00"), stock=3)
    order = place(cart_with((hoodie, 2), (bag, 1)), shipping_method="express")

    assert order.status == Order.Status.PAID
    assert order.subtotal == Decimal("134.00")  # 2 x 52 + 1 x 30 (the sale price)
    assert order.shipping_price == Decimal("15.00")
    assert order.total == Decimal("149.00")
    assert order.payment_reference.startswith("pi_test_")
    hoodie.refresh_from_db(), bag.refresh_from_db()
    assert (hoodie.stock, bag.stock) == (8, 2)
    line = order.lines.get(sku="MH01-M-Gray")
    assert (line.product_name, line.options, line.unit_price, line.quantity, line.line_total) == (
        "Chaz Kangeroo Hoodie", {"size": "M", "colour": "Gray"}, Decimal("52.00"), 2, Decimal("104.00"))

    # The snapshot survives later catalogue changes.
    Variant.objects.filter(pk=hoodie.pk).update(price=Decimal("99.00"))
    assert order.lines.get(sku="MH01-M-Gray").unit_price == Decimal("52.00")
    assert not Cart.objects.get().lines.exists()  # the cart is emptied


def test_short_stock_places_nothing_and_moves_no_stock():
    plenty = VariantFactory(stock=5)
    scarce = VariantFactory(stock=1)
    cart = cart_with((plenty, 2), (scarce, 2))
    with pytest.raises(services.InsufficientStock, match="Only 1 of .* left"):
        place(cart)
    assert not Order.objects.exists()
    assert Variant.objects.get(pk=plenty.pk).stock == 5
    assert Variant.objects.get(pk=scarce.pk).stock == 1
    assert cart.lines.count() == 2  # the shopper keeps their cart to fix it


def test_a_declined_payment_keeps_the_order_pending_until_it_expires_and_sends_nothing(settings):
    """The order is created with its stock before the provider is called; a decline leaves it
    pending (the shopper may try again); unpaid after SHOP_PAYMENT_TIMEOUT it is voided in one
    place: stock back, order cancelled with the reason, no email, and the same key free for the
    shopper's next try."""
    from datetime import timedelta

    from outbox.models import Message
    from payments.services import expire_unpaid_orders

    variant = VariantFactory(stock=5)
    cart = cart_with((variant, 1))
    pending = services.place_order(cart=cart, customer=None, details=checkout_details(), payment_provider="test",
                                   idempotency_key="try")
    assert pay(pending, approve=False).status == Order.Status.PENDING_PAYMENT
    assert Variant.objects.get(pk=variant.pk).stock == 4
    Order.objects.filter(pk=pending.pk).update(created_at=pending.created_at - timedelta(
        seconds=settings.SHOP_PAYMENT_TIMEOUT + 1))
    assert expire_unpaid_orders() == [pending.number]
    voided = Order.objects.get()
    assert voided.status == Order.Status.CANCELLED and Variant.objects.get(pk=variant.pk).stock == 5
    assert [(c.to_status, c.note) for c in voided.status_changes.order_by("pk")] == [
        (Order.Status.PENDING_PAYMENT, "Stock taken; waiting for the payment."),
        (Order.Status.CANCELLED, "Payment failed: not paid within 30 minutes")]
    assert not Message.objects.filter(kind="orders.order_email").exists()
    paid = place(cart_with((variant, 1)), key="try")  # the same key again: a new attempt
    assert paid.pk != voided.pk and paid.status == Order.Status.PAID
    assert Variant.objects.get(pk=variant.pk).stock == 4
    assert [m.payload for m in Message.objects.filter(kind="orders.order_email")] == [
        {"order_id": paid.pk, "event": "confirmation"}]


def test_a_retry_pays_an_order_left_pending(monkeypatch):
    """An order left pending (the payment never started: the process died, the provider was down)
    keeps its stock; the shopper's retry with the same key pays that order and takes no stock twice."""
    from outbox.models import Message

    variant = VariantFactory(stock=5)
    cart = cart_with((variant, 2))
    pending = services.place_order(cart=cart, customer=None, details=checkout_details(), payment_provider="test",
                                   idempotency_key="k")
    assert pending.status == Order.Status.PENDING_PAYMENT and Variant.objects.get(pk=variant.pk).stock == 3
    paid = place(cart, key="k")
    assert paid.pk == pending.pk and paid.status == Order.Status.PAID and Variant.objects.get(pk=variant.pk).stock == 3
    assert Message.objects.filter(kind="orders.order_email").count() == 1 and cart.lines.count() == 0


def test_same_idempotency_key_returns_the_first_order():
    variant = VariantFactory(stock=5)
    cart = cart_with((variant, 2))
    first = place(cart, key="same")
    CartLineAgain = cart.lines.model
    CartLineAgain.objects.create(cart=cart, variant=variant, quantity=1)  # even if the cart changed since
    second = place(cart, key="same")
    assert first.pk == second.pk
    assert Order.objects.count() == 1
    assert Variant.objects.get(pk=variant.pk).stock == 3


def test_empty_cart_and_unknown_shipping_method_are_refused():
    with pytest.raises(services.EmptyCart):
        place(Cart.objects.create())
    variant = VariantFactory(stock=5)
    with pytest.raises(services.UnknownShippingMethod):
        place(cart_with((variant, 1)), shipping_method="teleport")
    assert Variant.objects.get(pk=variant.pk).stock == 5


def test_hidden_product_cannot_be_bought():
    variant = VariantFactory(stock=5, product__is_visible=False)
    with pytest.raises(services.VariantUnavailable):
        place(cart_with((variant, 1)))


def test_add_to_cart_respects_stock_and_limits():
    variant = VariantFactory(stock=3)
    cart = Cart.objects.create()
    services.add_to_cart(cart=cart, variant_id=variant.pk, quantity=2)
    services.add_to_cart(cart=cart, variant_id=variant.pk, quantity=1)
    assert cart.lines.get().quantity == 3
    with pytest.raises(services.InsufficientStock):
        services.add_to_cart(cart=cart, variant_id=variant.pk, quantity=1)
    with pytest.raises(services.InvalidQuantity):
        services.add_to_cart(cart=cart, variant_id=variant.pk, quantity=0)
    with pytest.raises(services.VariantUnavailable):
        services.add_to_cart(cart=cart, variant_id=999_999, quantity=1)
    assert services.set_line_quantity(cart=cart, variant_id=variant.pk, quantity=0) is None
    assert not cart.lines.exists()
