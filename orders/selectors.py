"""Reads for the cart and order pages, each with a fixed number of queries."""
from django.db.models import Prefetch, QuerySet, Sum
from django.http import HttpRequest

from catalog.selectors import primary_image_subquery

from .models import Cart, CartLine, Order, OrderLine, OrderStatusChange
from .pricing import PricedCart, price_lines
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


def priced_cart(cart: Cart | None, *, shipping_method: str | None = None) -> tuple[list[CartLine], PricedCart]:
    """The cart's lines and their prices from the database (see orders.pricing)."""
    lines = cart_lines(cart)
    return lines, price_lines([(line.variant, line.quantity) for line in lines], shipping_method=shipping_method)


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
