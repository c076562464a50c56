"""What the domain services call to publish an event, inside their transaction (one call each):

    order_event(order=..., event_type="order.paid")       orders.services (created, paid, status moves)
    payment_failed(payment=...)                           payments.services (a failed payment)
    stock_events(variant_ids=[...])                       catalog.services.broadcast_stock (every stock change)
    product_event(product=..., event_type=...)            webhooks.signals (products have no write service)
    customer_created(user=...)                            accounts.services.register_customer
    reviews_approved(review_ids=[...])                    catalog.services.moderate_reviews

Each event's `data` is the JSON the REST API gives for the object, from its own serializer:
orders: orders.api.serializers.OrderSerializer (with the Stripe `client_secret` blanked: it is the
customer's, not an integrator's); variants (stock.changed, stock.low): catalog's VariantSerializer
plus `product` (its product id; the API nests variants in their product); products: catalog's
ProductDetailSerializer; customers: accounts' UserSerializer; payment.failed: the order, as
order.* events, plus `failed_payment` (status, amount, currency, error); reviews have no API yet:
ReviewSerializer here gives what the product page shows of one. Nothing is computed when no
endpoint subscribes to the type (one query).
"""
from collections.abc import Iterable

from rest_framework import serializers

from . import services


def _order_data(order_id: int) -> dict:
    from orders.api.serializers import OrderSerializer
    from orders.api.views import order_queryset

    data = OrderSerializer(order_queryset().get(pk=order_id)).data
    if data.get("payment"):
        data["payment"] = {**data["payment"], "client_secret": ""}
    return data


def order_event(*, order, event_type: str) -> None:
    """Publish order.created, order.paid, order.fulfilled, order.delivered, order.cancelled or
    order.refunded for `order` (an orders.models.Order) as it is now in this transaction."""
    services.publish(event_type=event_type, data=lambda: _order_data(order.pk))


ORDER_STATUS_EVENTS = {"paid": "order.paid", "fulfilled": "order.fulfilled", "delivered": "order.delivered",
                       "cancelled": "order.cancelled", "refunded": "order.refunded"}


def order_status_event(*, order, status: str) -> None:
    """Publish the order.* event of `order` having moved to `status` (an Order.Status value); none
    for a status without one (pending payment)."""
    if status in ORDER_STATUS_EVENTS:
        order_event(order=order, event_type=ORDER_STATUS_EVENTS[status])


def payment_failed(*, payment) -> None:
    """Publish payment.failed for `payment` (a payments.models.Payment whose attempt failed)."""
    def data() -> dict:
        return {**_order_data(payment.order_id), "failed_payment": {
            "provider": payment.provider, "status": payment.status, "amount": str(payment.amount),
            "currency": payment.currency, "error": payment.error}}

    services.publish(event_type="payment.failed", data=data)


def stock_events(*, variant_ids: Iterable[int]) -> None:
    """Publish stock.changed for each of these variants (its new level in `stock`) and stock.low for
    each active one of a visible product at or below its low_stock_threshold, oldest id first."""
    from catalog.api.serializers import VariantSerializer
    from catalog.models import Variant

    ids = sorted(set(variant_ids))
    if not ids:
        return
    endpoints = services.subscribers("stock.changed", "stock.low")
    changed, low = endpoints["stock.changed"], endpoints["stock.low"]
    if not (changed or low):
        return
    for variant in Variant.objects.filter(pk__in=ids).select_related("product").order_by("pk"):
        data = {**VariantSerializer(variant).data, "product": variant.product_id}
        if changed:
            services.publish(event_type="stock.changed", data=data, endpoint_ids=changed)
        if low and variant.is_active and variant.product.is_visible and variant.stock <= variant.low_stock_threshold:
            services.publish(event_type="stock.low", data=data, endpoint_ids=low)


def product_data(product) -> dict:
    """The product as GET /api/v1/products/{id}/ shows it to staff."""
    from catalog.api.serializers import ProductDetailSerializer
    from catalog.selectors import product_detail

    return ProductDetailSerializer(product_detail(product.slug, include_hidden=True)).data


def product_event(*, product, event_type: str) -> None:
    """Publish product.created or product.updated for `product` (catalog.models.Product) as saved."""
    services.publish(event_type=event_type, data=lambda: product_data(product))


def customer_created(*, user) -> None:
    """Publish customer.created for a new customer account (accounts.models.User)."""
    from accounts.api.serializers import UserSerializer

    services.publish(event_type="customer.created", data=lambda: UserSerializer(user).data)


class ReviewSerializer(serializers.Serializer):
    """A review as the product page shows it (the REST API has no review endpoint yet)."""

    id = serializers.IntegerField()
    product = serializers.IntegerField(source="product_id")
    product_sku = serializers.CharField(source="product.sku")
    rating = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    reviewer_name = serializers.CharField()
    is_verified_buyer = serializers.BooleanField()
    is_featured = serializers.BooleanField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


def reviews_approved(*, review_ids: Iterable[int]) -> None:
    """Publish review.approved for each of these reviews (just approved by staff)."""
    from catalog.models import Review

    ids = sorted(set(review_ids))
    endpoints = services.subscribers("review.approved") if ids else []
    if not endpoints:
        return
    for review in Review.objects.filter(pk__in=ids).select_related("product").order_by("pk"):
        services.publish(event_type="review.approved", data=ReviewSerializer(review).data, endpoint_ids=endpoints)
