"""POST /api/v1/admin/orders/{number}/refund (staff): a full or partial refund, by amount or by
lines, through payments.services.refund_order with the request's Idempotency-Key: the provider
payment first, then the gift cards."""
from decimal import Decimal

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.api.views import IDEMPOTENCY_HEADER, KEY_PATTERN, MAX_KEY_LENGTH, NUMBER, error
from orders.models import Order
from shop.api_base import JSONParser, StrictJSONSerializer, error_responses

from . import services


class RefundLine(StrictJSONSerializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=10_000)


class RefundRequest(StrictJSONSerializer):
    """Refund `amount` (in the order's currency), or `lines`; neither: the whole balance."""

    amount = serializers.RegexField(r"^\d{1,10}(\.\d{1,2})?$", max_length=13, required=False,
                                    help_text='A decimal string, e.g. "12.50".')
    lines = RefundLine(many=True, required=False, max_length=100, help_text="Empty or left out: by amount.")


class LedgerSerializer(serializers.Serializer):
    charged = serializers.DecimalField(max_digits=12, decimal_places=2)
    refunded = serializers.DecimalField(max_digits=12, decimal_places=2)
    fees = serializers.DecimalField(max_digits=12, decimal_places=2)
    balance = serializers.DecimalField(max_digits=12, decimal_places=2)


class RefundResponse(serializers.Serializer):
    refund_id = serializers.CharField(allow_null=True)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    status = serializers.CharField()
    to_gift_cards = serializers.DecimalField(max_digits=12, decimal_places=2,
                                             help_text="The part returned to the order's gift cards (refunded last).")
    ledger = LedgerSerializer(help_text="The provider payment's ledger (zeros when gift cards paid it all).")


class StaffRefundView(APIView):
    """Refund an order's payment (staff). 409 when it is more than the balance or nothing was paid;
    503 when the provider fails (try again with a new Idempotency-Key)."""

    permission_classes = [permissions.IsAdminUser]
    parser_classes = [JSONParser]

    @extend_schema(parameters=[NUMBER, OpenApiParameter(
        IDEMPOTENCY_HEADER, {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "^[!-~]+$"},
        OpenApiParameter.HEADER, required=True,
        description="One key per refund (1-255 printable characters); the same key again returns the first refund.")],
                   request=RefundRequest, operation_id="admin_orders_refund",
                   responses={200: RefundResponse, **error_responses(400, 401, 403, 404, 409, 429, 503)})
    def post(self, request, number: str):
        key = request.headers.get(IDEMPOTENCY_HEADER, "")
        if not KEY_PATTERN.fullmatch(key):
            return error(400, f"Send an {IDEMPOTENCY_HEADER} header.", "idempotency_key_required")
        data = RefundRequest(data=request.data)
        data.is_valid(raise_exception=True)
        order = Order.objects.filter(number=number).first()
        if order is None:
            raise Http404
        try:
            if data.validated_data.get("lines"):
                amount = services.amount_for_lines(order, {line["sku"]: line["quantity"]
                                                           for line in data.validated_data["lines"]})
            else:
                amount = Decimal(data.validated_data.get("amount") or services.refundable_total(order))
            if amount <= 0 and not order.payments.filter(status="succeeded").exists():
                raise services.RefundRefused(f"Order {order.number} has no payment to refund.")
            done = services.refund_order(order=order, amount=amount, key=f"api:{request.user.pk}:{key}",
                                         by=request.user)
        except services.RefundRefused as problem:
            return error(409, str(problem), "refund_refused")
        except services.PaymentUnavailable as problem:
            return error(503, str(problem), "payment_unavailable")
        payment = order.payments.filter(status="succeeded").order_by("-pk").first()
        entry = done.entry
        return Response(RefundResponse({
            "refund_id": entry.reference if entry else None, "amount": done.amount,
            "status": entry.status if entry else "succeeded",
            "to_gift_cards": sum((t.amount for t in done.to_cards), Decimal("0")),
            "ledger": payment.totals() if payment else dict.fromkeys(["charged", "refunded", "fees", "balance"],
                                                                     Decimal("0"))}).data)
