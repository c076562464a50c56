"""Staff API /api/v1/gift-cards/: list, issue, read and change gift cards (block one with
`is_active: false`; never deleted: the ledger is the record), and POST .../{id}/adjust/ to move a
balance by hand. Every balance change goes through giftcards.services."""
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from giftcards import services
from giftcards.models import GiftCard
from shop.api_base import JSONParser, StrictPageNumberPagination, error_responses

from .serializers import AdjustmentSerializer, GiftCardSerializer


class GiftCardPagination(StrictPageNumberPagination):
    page_size = 50


def _refused(problem: Exception, field: str) -> Response:
    return Response({"detail": str(problem), "code": "invalid", "fields": {field: [str(problem)]}},
                    status=status.HTTP_400_BAD_REQUEST)


@extend_schema_view(
    list=extend_schema(responses={200: GiftCardSerializer(many=True), **error_responses(401, 403, 404, 429)}),
    retrieve=extend_schema(responses={200: GiftCardSerializer, **error_responses(401, 403, 404, 429)}),
    create=extend_schema(responses={201: GiftCardSerializer, **error_responses(400, 401, 403, 429)}),
    update=extend_schema(responses={200: GiftCardSerializer, **error_responses(400, 401, 403, 404, 429)}),
    partial_update=extend_schema(responses={200: GiftCardSerializer, **error_responses(400, 401, 403, 404, 429)}),
)
class GiftCardViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Gift cards (staff): codes with a balance, spent at checkout as part payment."""

    permission_classes = [permissions.IsAdminUser]
    serializer_class = GiftCardSerializer
    pagination_class = GiftCardPagination
    parser_classes = [JSONParser]
    filter_backends: list = []
    lookup_value_regex = r"[0-9]{1,18}"
    queryset = (GiftCard.objects.select_related("source_order").prefetch_related("transactions__order")
                .order_by("-created_at", "-pk"))

    def create(self, request, *args, **kwargs):
        """Issue a card (services.issue_card, with its ISSUE transaction); a code in use is a 400."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            card = services.issue_card(amount=data["amount"], currency=data["currency"], code=data.get("code", ""),
                                       expires_at=data.get("expires_at"), by=request.user,
                                       recipient_email=data.get("recipient_email", ""))
        except services.GiftCardError as problem:
            return _refused(problem, "code")
        return Response(GiftCardSerializer(self.get_queryset().get(pk=card.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AdjustmentSerializer,
                   responses={200: GiftCardSerializer, **error_responses(400, 401, 403, 404, 429)})
    @action(detail=True, methods=["post"])
    def adjust(self, request, pk=None):
        """POST /api/v1/gift-cards/{id}/adjust/: add `amount` (negative: take away) with `note`;
        a change that would take the balance below zero is a 400."""
        card = self.get_object()
        data = AdjustmentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.adjust_card(card=card, amount=data.validated_data["amount"], note=data.validated_data["note"],
                                 by=request.user)
        except services.GiftCardError as problem:
            return _refused(problem, "amount")
        return Response(GiftCardSerializer(self.get_queryset().get(pk=card.pk)).data)

