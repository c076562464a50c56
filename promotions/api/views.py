"""Staff API for the pricing rules: /api/v1/vouchers/ (list, create, read, change; a voucher is
retired with `is_active: false`, never deleted: orders keep pointing at the uses they counted;
/api/v1/vouchers/bulk/ makes a batch of single-use codes),
/api/v1/tax-rates/ and /api/v1/shipping-zones/ (also delete: placed orders keep their own copy of
the rate and of the shipping method)."""
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from promotions.models import ShippingZone, TaxRate, Voucher
from promotions.services import InvalidVoucherBatch, generate_vouchers
from shop.api_base import StaffRulesAPI, error_responses, staff_rule_schema

from .serializers import BulkVoucherResultSerializer, BulkVoucherSerializer, TaxRateSerializer, VoucherSerializer
from .shipping import ShippingZoneSerializer


@staff_rule_schema(VoucherSerializer)
class VoucherViewSet(StaffRulesAPI, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Vouchers (staff): codes for a percentage or amount off, or free shipping."""

    serializer_class = VoucherSerializer
    queryset = Voucher.objects.prefetch_related("products", "categories").order_by("-created_at", "-pk")

    @extend_schema(request=BulkVoucherSerializer,
                   responses={201: BulkVoucherResultSerializer, **error_responses(400, 401, 403, 429)})
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request):
        """Make a batch of single-use codes (promotions.services.generate_vouchers)."""
        batch = BulkVoucherSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        try:
            vouchers = generate_vouchers(**batch.validated_data)
        except InvalidVoucherBatch as problem:
            raise serializers.ValidationError({field: [message] for field, message in problem.errors.items()})
        return Response({"count": len(vouchers), "codes": [voucher.code for voucher in vouchers]},
                        status=status.HTTP_201_CREATED)


@staff_rule_schema(TaxRateSerializer, destroy=True)
class TaxRateViewSet(StaffRulesAPI, viewsets.ModelViewSet):
    """Tax rates (staff), by country and tax class; no row means no tax."""

    serializer_class = TaxRateSerializer
    queryset = TaxRate.objects.order_by("country", "tax_class", "pk")


@staff_rule_schema(ShippingZoneSerializer, destroy=True)
class ShippingZoneViewSet(StaffRulesAPI, viewsets.ModelViewSet):
    """Shipping zones (staff) with their methods, weight bands and excluded products nested."""

    serializer_class = ShippingZoneSerializer
    queryset = ShippingZone.objects.prefetch_related("methods__bands", "methods__excluded_products") \
        .order_by("position", "pk")
