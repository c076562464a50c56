"""Staff API shapes of gift cards: a card with its ledger; issuing takes `amount` (and optionally
`code`, `currency`, `expires_at`, `recipient_email`); a change takes only `expires_at`,
`is_active` and `recipient_email`; the balance moves only through the ledger (an adjustment)."""
from decimal import Decimal

from django.conf import settings
from rest_framework import serializers

from giftcards.models import GiftCard, GiftCardTransaction, normalize_code
from giftcards.services import MAX_BALANCE
from shop.api_base import StrictJSONModelSerializer, StrictJSONSerializer

MAX_AMOUNT = MAX_BALANCE


class GiftCardTransactionSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number", allow_null=True, default=None,
                                  help_text="The order number, for a spend or a refund.")

    class Meta:
        model = GiftCardTransaction
        fields = ["kind", "amount", "balance_after", "order", "note", "created_at"]
        read_only_fields = fields


class GiftCardSerializer(StrictJSONModelSerializer):
    """A gift card: money is a decimal string in `currency`; `balance` is what is left to spend."""

    code = serializers.RegexField(r"^[A-Za-z0-9 -]{4,32}$", max_length=32, required=False,
                                  help_text="Letters, digits, - and spaces; stored in capitals without spaces, "
                                            "matched in any case. Left out: a generated code.")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"),
                                      max_value=MAX_AMOUNT, write_only=True, required=False,
                                      help_text="The card's value when issued (required to issue).")
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, help_text="Default: the shop's currency.")
    # No default: on a PATCH (partial) DRF would leave a field with a default out of the answer.
    source_order = serializers.CharField(source="source_order.number", allow_null=True, read_only=True)
    transactions = GiftCardTransactionSerializer(many=True, read_only=True)

    class Meta:
        model = GiftCard
        fields = ["id", "code", "amount", "currency", "initial_balance", "balance", "expires_at", "is_active",
                  "recipient_email", "source_order", "created_at", "transactions"]
        read_only_fields = ["id", "initial_balance", "balance", "created_at", "source_order", "transactions"]

    def validate_code(self, code: str) -> str:
        if len(normalize_code(code)) < 4:
            raise serializers.ValidationError("Give at least 4 letters or digits.")
        return code

    def validate(self, attrs: dict) -> dict:
        if self.instance is None:
            if "amount" not in attrs:
                raise serializers.ValidationError({"amount": ["Give the card's value."]})
            attrs.setdefault("currency", settings.SHOP_CURRENCY)
        else:
            fixed = sorted({"code", "amount", "currency"} & set(self.initial_data))
            if fixed:
                raise serializers.ValidationError({name: ["Fixed once issued; block the card and issue another."]
                                                   for name in fixed})
        return attrs

    def update(self, instance: GiftCard, validated_data: dict) -> GiftCard:
        """Save only the fields sent, never the balance (the ledger moves it under the row lock)."""
        for name, value in validated_data.items():
            setattr(instance, name, value)
        if validated_data:
            instance.save(update_fields=list(validated_data))
        return instance


class AdjustmentSerializer(StrictJSONSerializer):
    """An adjustment of a card's balance by hand: `amount` added (negative: taken away), with a reason."""

    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT)
    note = serializers.CharField(max_length=255)
