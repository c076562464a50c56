"""Orders API: customers place orders (with a required Idempotency-Key) and read their own;
staff list every order, move orders through the lifecycle, and look at customers.

Placing an order builds a transient server-side cart from the items (orders.services.add_to_cart:
the same quantity, availability and stock rules as the HTML cart) and hands it to
orders.services.place_order, which prices everything from the database and takes the stock.
"""
import hashlib
import json
import re

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import Http404
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from catalog.services import InsufficientStock
from orders import selectors, services
from orders.models import Cart, Order
from payments import services as payments
from payments.models import Payment
from shop.api_base import JSONParser, StrictPageNumberPagination, error_responses

from .serializers import (
    CustomerSerializer, OrderCreateSerializer, OrderSerializer, OrderSummarySerializer, StatusChangeRequest,
)

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
KEY_PATTERN = re.compile(r"[!-~]{1,%d}" % MAX_KEY_LENGTH)  # printable ASCII, no spaces


class IdempotencyMismatch(Exception):
    """The Idempotency-Key was already used with a different request body."""


def error(status_code: int, detail: str, code: str, fields: dict | None = None) -> Response:
    return Response({"detail": detail, "code": code, "fields": fields or {}}, status=status_code)


def api_owner(user) -> str:
    """The owner an API Idempotency-Key is scoped to (orders.services.stored_idempotency_key)."""
    return f"api:{user.pk}"


def body_hash(data) -> str:
    """SHA-256 of the JSON body with keys sorted, so spacing and key order do not matter."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def order_queryset():
    return Order.objects.prefetch_related("lines", "status_changes", "payments", "gift_card_transactions__card")


class OrderPagination(StrictPageNumberPagination):
    page_size = 20


IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER, {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "^[!-~]+$"},
    OpenApiParameter.HEADER, required=True,
    description="One key per order attempt (1-255 printable characters). Resending the same key and body "
                "returns the same order; the same key with another body gets 422.")
NUMBER = OpenApiParameter("number", str, OpenApiParameter.PATH, description='The order number, e.g. "IS-7KQ2M9XD".')


@extend_schema_view(
    list=extend_schema(responses={200: OrderSerializer(many=True), **error_responses(401, 404, 429)}),
    retrieve=extend_schema(parameters=[NUMBER], responses={200: OrderSerializer, **error_responses(401, 404, 429)}),
)
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own orders. Another customer's order is 404, as if it did not exist."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = OrderSerializer
    pagination_class = OrderPagination
    filter_backends: list = []
    lookup_field = "number"
    lookup_value_regex = r"[^/]+"
    parser_classes = [JSONParser]

    def get_queryset(self):
        return order_queryset().filter(customer=self.request.user).order_by("-created_at", "-pk")

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER], request=OrderCreateSerializer,
        responses={201: OrderSerializer, **error_responses(400, 401, 409, 422, 429, 503)},
    )
    def create(self, request, *args, **kwargs):
        key = request.headers.get(IDEMPOTENCY_HEADER, "")
        if not KEY_PATTERN.fullmatch(key):
            message = f"Send an {IDEMPOTENCY_HEADER} header of 1 to {MAX_KEY_LENGTH} printable ASCII characters (no spaces)."
            return error(400, message, "idempotency_key_required", {IDEMPOTENCY_HEADER: [message]})
        data = OrderCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        try:
            order = self._place(request, data.validated_data, key, body_hash(request.data))
        except IdempotencyMismatch:
            return error(422, f"This {IDEMPOTENCY_HEADER} was already used for a different order.",
                         "idempotency_key_reused", {IDEMPOTENCY_HEADER: ["Already used with another request body."]})
        except InsufficientStock as problem:
            index = next(i for i, item in enumerate(data.validated_data["items"])
                         if item["variant"] == problem.variant.pk)
            return error(409, str(problem), "insufficient_stock", {f"items.{index}.quantity": [str(problem)]})
        except payments.PaymentUnavailable as problem:  # the order stays pending: the same key retries
            return error(503, str(problem), "payment_unavailable")
        except services.UnknownShippingMethod as problem:
            return error(400, str(problem), "invalid", {"shipping_method": [str(problem)]})
        except services.VoucherNotApplicable as problem:
            return error(400, str(problem), "voucher_not_applicable", {"voucher_code": [str(problem)]})
        except services.GiftCardError as problem:
            return error(400, str(problem), "gift_card_not_applicable", {"gift_card_codes": [str(problem)]})
        except services.SHOPPER_ERRORS as problem:  # VariantUnavailable, InvalidQuantity, EmptyCart
            return error(400, str(problem), "invalid", {"items": [str(problem)]})
        return Response(OrderSerializer(order_queryset().get(pk=order.pk)).data, status=status.HTTP_201_CREATED)

    @staticmethod
    def _place(request, data: dict, key: str, request_hash: str) -> Order:
        owner = api_owner(request.user)
        stored = services.stored_idempotency_key(owner=owner, key=key)
        existing = Order.objects.filter(idempotency_key=stored).first()
        if existing is not None and existing.request_hash != request_hash:
            raise IdempotencyMismatch
        if existing is not None and existing.status != Order.Status.PENDING_PAYMENT:
            return existing
        # A transient guest cart (never the customer's saved cart) with the voucher code, checked
        # (under the voucher's row lock) when the order is placed.
        cart = Cart.objects.create(voucher_code=data.get("voucher_code", "").strip().upper())
        try:
            for item in data["items"] if existing is None else ():  # a pending order: start its payment again
                services.add_to_cart(cart=cart, variant_id=item["variant"], quantity=item["quantity"])
            # Not in a transaction: place_order commits the stock it takes before the provider is called.
            order = services.place_order(
                cart=cart, customer=request.user, details=services.CheckoutDetails(**data["details"]),
                payment_provider=data["payment_method"], idempotency_key=key, owner=owner,
                request_hash=request_hash, gift_card_codes=data.get("gift_card_codes") or [])
        finally:
            cart.delete()
        if order.request_hash != request_hash:  # a concurrent request with this key and another body won
            raise IdempotencyMismatch
        if order.status == Order.Status.PENDING_PAYMENT:  # outside any transaction
            payments.start_payment(order=order, flow=Payment.Flow.INTENT)
        return order

    @extend_schema(responses={200: OrderSummarySerializer, **error_responses(401, 429)})
    @action(detail=False, methods=["get"])
    def summary(self, request):
        """GET /api/v1/orders/summary/: count, total spent and the last order."""
        return Response(_summary(request.user))


def _summary(customer) -> dict:
    figures = selectors.customer_summary(customer)
    last = figures["last_order"]
    return OrderSummarySerializer({**figures, "currency": settings.SHOP_CURRENCY,
                                   "last_order": order_queryset().get(pk=last.pk) if last else None}).data


MAX_ID = 2**63 - 1


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.NumberFilter):
    """A database id: a whole number from 1 up to PostgreSQL's bigint limit."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=MAX_ID, **kwargs)


class StaffOrderFilter(filters.FilterSet):
    """Staff order list filters: status, placed from/to (dates, inclusive), customer id or email."""

    status = filters.ChoiceFilter(choices=Order.Status.choices)
    placed_from = filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    placed_to = filters.DateFilter(field_name="created_at", lookup_expr="date__lte")
    customer = IdFilter(field_name="customer_id", help_text="The customer's user id.")
    email = filters.CharFilter(field_name="email", lookup_expr="iexact", max_length=254)

    class Meta:
        model = Order
        fields = ["status", "placed_from", "placed_to", "customer", "email"]

    def is_valid(self) -> bool:
        """Also refuse a date, number or status filter sent empty ("?status="): the schema promises
        a value there (an empty email filter is a string like any other and filters nothing)."""
        valid = super().is_valid()
        for name, field in self.filters.items():
            if name in self.data and self.data.get(name) == "" and not isinstance(field, filters.CharFilter):
                self.form.add_error(name, "Give a value or leave the parameter out.")
                valid = False
        return valid


@extend_schema_view(
    list=extend_schema(responses={200: OrderSerializer(many=True), **error_responses(400, 401, 403, 404, 429)}),
    retrieve=extend_schema(parameters=[NUMBER],
                           responses={200: OrderSerializer, **error_responses(401, 403, 404, 429)}),
)
class StaffOrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Every order (staff): filter, read, and change status through the order lifecycle."""

    permission_classes = [permissions.IsAdminUser]
    serializer_class = OrderSerializer
    pagination_class = OrderPagination
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = StaffOrderFilter
    lookup_field = "number"
    lookup_value_regex = r"[^/]+"
    parser_classes = [JSONParser]

    def get_queryset(self):
        return order_queryset().order_by("-created_at", "-pk")

    def list(self, request, *args, **kwargs):
        """Every order, filtered; an unknown parameter (`?created_after=`) is a 400 naming it, not
        a filter silently left out."""
        known = [*StaffOrderFilter.base_filters, self.paginator.page_query_param]
        unknown = sorted(set(request.query_params) - set(known) - {api_settings.URL_FORMAT_OVERRIDE})
        if unknown:
            message = f"Unknown filter {', '.join(unknown)}: the filters are {', '.join(known)}."
            return error(400, message, "invalid", {name: [message] for name in unknown})
        return super().list(request, *args, **kwargs)



class StaffOrderStatusView(APIView):
    """POST /api/v1/admin/orders/{number}/status (staff): a legal lifecycle move
    (orders.services.transition_order and its TRANSITIONS table); an illegal one is 409."""

    permission_classes = [permissions.IsAdminUser]
    parser_classes = [JSONParser]

    @extend_schema(parameters=[NUMBER], request=StatusChangeRequest, operation_id="admin_orders_status",
                   responses={200: OrderSerializer, **error_responses(400, 401, 403, 404, 409, 429)})
    def post(self, request, number: str):
        change = StatusChangeRequest(data=request.data)
        change.is_valid(raise_exception=True)
        order = Order.objects.filter(number=number).first()
        if order is None:
            raise Http404
        try:
            services.transition_order(order=order, to_status=change.validated_data["status"], by=request.user,
                                      tracking_number=change.validated_data["tracking_number"],
                                      note=change.validated_data["note"])
        except services.IllegalTransition as problem:
            return error(409, str(problem), "illegal_transition", {"status": [str(problem)]})
        return Response(OrderSerializer(order_queryset().get(pk=order.pk)).data)


CUSTOMER_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The customer's user id.")


@extend_schema_view(
    list=extend_schema(responses={200: CustomerSerializer(many=True), **error_responses(401, 403, 404, 429)}),
    retrieve=extend_schema(parameters=[CUSTOMER_ID],
                           responses={200: CustomerSerializer, **error_responses(401, 403, 404, 429)}),
)
class StaffCustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Customers with their order figures (staff)."""

    permission_classes = [permissions.IsAdminUser]
    serializer_class = CustomerSerializer
    pagination_class = OrderPagination
    filter_backends: list = []
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        return selectors.customers_with_figures()

    @extend_schema(parameters=[CUSTOMER_ID], responses={200: OrderSummarySerializer, **error_responses(401, 403, 404, 429)})
    @action(detail=True, methods=["get"])
    def summary(self, request, pk=None):
        """GET /api/v1/admin/customers/{id}/summary/: count, total spent, first and last order."""
        customer = get_user_model().objects.filter(pk=pk, is_staff=False).first()
        if customer is None:
            raise Http404
        return Response(_summary(customer))
