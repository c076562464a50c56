"""Staff API /api/v1/gift-cards/: list, issue, read and change gift cards (block one with
`is_active: false`; never deleted: the ledger is the record), and POST .../{id}/adjust/ to move a
balance by hand. Every balance change goes through giftcards.services."""
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from giftcards import services
from giftcards.models import GiftCard
from shop.api_base import StaffRulesAPI, error_responses, staff_rule_schema

from .serializers import AdjustmentSerializer, GiftCardSerializer


def _refused(problem: Exception, field: str) -> Response:
    return Response({"detail": str(problem), "code": "invalid", "fields": {field: [str(problem)]}},
                    status=status.HTTP_400_BAD_REQUEST)


@staff_rule_schema(GiftCardSerializer)
class GiftCardViewSet(StaffRulesAPI, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Gift cards (staff): codes with a balance, spent at checkout as part payment."""

    serializer_class = GiftCardSerializer
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

