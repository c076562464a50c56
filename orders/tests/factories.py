"""factory_boy factories and helpers for carts, checkout and (for lists and benchmarks) orders."""
from decimal import Decimal

import factory

from orders.models import Cart, CartLine, Order, OrderLine, OrderStatusChange
from orders.services import CheckoutDetails


class CartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cart


class CartLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CartLine

    cart = factory.SubFactory(CartFactory)
    quantity = 1


def checkout_details(**overrides) -> CheckoutDetails:
    """Valid checkout details for a US address with standard shipping."""
    values = dict(email="guest@example.com", shipping_name="Gale Guest", shipping_line1="1 Main Street",
                  shipping_city="Springfield", shipping_postcode="12345", shipping_country="US",
                  shipping_method="standard")
    return CheckoutDetails(**{**values, **overrides})


def cart_with(*variant_quantities, customer=None) -> Cart:
    """A cart holding the given (variant, quantity) pairs."""
    cart = Cart.objects.create(customer=customer)
    for variant, quantity in variant_quantities:
        CartLine.objects.create(cart=cart, variant=variant, quantity=quantity)
    return cart


class OrderFactory(factory.django.DjangoModelFactory):
    """A paid web order with no lines yet (its stored counts say `item_count`/`line_count`; use
    `order_with_lines` for one whose lines match). Made directly, not through checkout: for lists
    and the benchmark's synthetic orders (benchmarks/admin.py), never to test checkout."""

    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"SY-{n:08d}")
    email = factory.Sequence(lambda n: f"buyer{n}@example.com")
    status = Order.Status.PAID
    currency = "USD"
    shipping_name = "Sam Synthetic"
    shipping_line1 = "1 Main Street"
    shipping_city = "Springfield"
    shipping_postcode = "12345"
    shipping_country = factory.Iterator(["US", "GB", "DE", "FR", "NL"])
    shipping_method = "standard"
    shipping_method_name = "Standard"
    shipping_price = Decimal("5.00")
    subtotal = Decimal("20.00")
    total = Decimal("25.00")
    payment_provider = "test"
    payment_reference = factory.Sequence(lambda n: f"pay-{n}")
    idempotency_key = factory.Sequence(lambda n: f"synthetic-{n}")
    item_count = 2
    line_count = 1


class OrderLineFactory(factory.django.DjangoModelFactory):
    """One line of an order: 2 x a 10.00 item."""

    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    product_name = "Synthetic tee"
    sku = factory.Sequence(lambda n: f"SYN-{n % 500:04d}")
    unit_price = Decimal("10.00")
    quantity = 2
    line_total = Decimal("20.00")


def order_with_lines(lines: int, **fields) -> Order:
    """A web order with `lines` lines of 2 x 10.00 (counts and totals to match) and its first status change."""
    order = OrderFactory(item_count=2 * lines, line_count=lines, subtotal=Decimal(20 * lines),
                         total=Decimal(20 * lines) + Decimal("5.00"), **fields)
    OrderLineFactory.create_batch(lines, order=order)
    OrderStatusChange.objects.create(order=order, to_status=order.status, note="Made by a factory.")
    return order
