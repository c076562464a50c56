"""Reads for the cart and order pages, each with a fixed number of queries."""
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Min, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest

from catalog.selectors import primary_image_subquery

from .models import Cart, CartLine, Order, OrderLine, OrderStatusChange
from .pricing import PricedCart, price_cart
from .services import find_cart


def cart_item_count(request: HttpRequest) -> int:
    """Units in the shopper's cart, for the header badge (one query; none for a new guest)."""
    cart = find_cart(session=request.session, customer=request.user) if hasattr(request, "session") else None
    if cart is None:
        return 0
    return cart.lines.aggregate(units=Sum("quantity"))["units"] or 0


def cart_lines(cart: Cart | None) -> list[CartLine]:
    """The cart's lines with variant, product and the product's first image path."""
    if cart is None:
        return []
    return list(
        cart.lines.select_related("variant__product")
        .annotate(image_path=primary_image_subquery("variant__product"))
        .order_by("added_at", "pk")
    )


def priced_cart(cart: Cart | None, *, details=None, customer=None) -> tuple[list[CartLine], PricedCart]:
    """The cart's lines and the pricing engine's result for them (orders.pricing.price_cart): for
    checkout `details` (orders.services.CheckoutDetails: address, shipping method, email) when
    given, else an estimate for the shop's own country with no shipping yet. The cart's voucher
    code is checked for `customer` (or the details' email); a code that cannot be used gives its
    reason in `voucher_error`. Raises UnknownShippingMethod when the details' method does not
    serve their address."""
    lines = cart_lines(cart)
    items = [(line.variant, line.quantity) for line in lines]
    code = cart.voucher_code if cart is not None else ""
    if details is None:
        return lines, price_cart(items, voucher_code=code, customer=customer)
    return lines, price_cart(items, country=details.shipping_country, postcode=details.shipping_postcode,
                             shipping_method=details.shipping_method, voucher_code=code, customer=customer,
                             email=details.email)


def customer_orders(customer) -> QuerySet[Order]:
    """A customer's orders, newest first, with their lines for item counts."""
    return Order.objects.filter(customer=customer).prefetch_related(Prefetch("lines"))


def has_delivered_line(*, customer, product_id: int) -> bool:
    """Whether `customer` has a delivered order with a line of product `product_id` (the
    "verified buyer" mark on reviews; refunded orders do not count). One query."""
    return OrderLine.objects.filter(order__customer=customer, order__status=Order.Status.DELIVERED,
                                    variant__product_id=product_id).exists()


def order_with_timeline(queryset: QuerySet[Order], **filters) -> Order | None:
    """One order from `queryset` with its lines and status history (who and when), or None."""
    return (queryset.filter(**filters)
            .prefetch_related("lines", Prefetch("status_changes",
                                                queryset=OrderStatusChange.objects.order_by("changed_at", "pk")))
            .first())
# Orders that count as money spent: placed and not cancelled or refunded.
NOT_SPENT_STATUSES = (Order.Status.CANCELLED, Order.Status.REFUNDED)


def customer_summary(customer) -> dict:
    """A customer's order figures (two queries): `count` (all orders), `total_spent` (Decimal in
    the shop currency: totals of orders not cancelled or refunded), `first_order_at` and
    `last_order` (the newest Order with its lines, or None)."""
    figures = Order.objects.filter(customer=customer).aggregate(
        count=Count("pk"),
        total_spent=Coalesce(Sum("total", filter=~Q(status__in=NOT_SPENT_STATUSES)), Decimal("0.00")),
        first_order_at=Min("created_at"),
    )
    figures["last_order"] = customer_orders(customer).order_by("-created_at", "-pk").first()
    return figures


def customers_with_figures() -> QuerySet:
    """Every customer (not staff) with `orders_count`, `total_spent`, `first_order_at` and
    `last_order_at` annotated, for staff lists (one query a page)."""
    return get_user_model().objects.filter(is_staff=False).annotate(
        orders_count=Count("orders"),
        total_spent=Coalesce(Sum("orders__total", filter=~Q(orders__status__in=NOT_SPENT_STATUSES)),
                             Decimal("0.00")),
        first_order_at=Min("orders__created_at"),
        last_order_at=Max("orders__created_at"),
    ).order_by("email", "pk")
