"""Staff issue gift cards (a generated code unless one is typed), block them, adjust a balance with
a reason, and read each card's ledger. Balances change only through giftcards.services."""
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages

from . import services
from .models import GiftCard, GiftCardTransaction


class TransactionInline(admin.TabularInline):
    """The card's ledger, read-only: every issue, spend, refund and adjustment with the balance after."""

    model = GiftCardTransaction
    extra = 0
    fields = ["created_at", "kind", "amount", "balance_after", "order", "note", "created_by"]
    readonly_fields = fields
    can_delete = False
    ordering = ["created_at", "pk"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class GiftCardForm(forms.ModelForm):
    """Issue (amount, optional code) or, for an existing card, an adjustment with its reason."""

    code = forms.CharField(max_length=32, required=False, help_text="Leave empty for a generated code.")
    initial_balance = forms.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"), required=False,
                                         label="Amount", help_text="The card's value when issued.")
    adjustment = forms.DecimalField(max_digits=12, decimal_places=2, required=False,
                                    help_text="Add (or take away, negative) this amount now.")
    adjustment_note = forms.CharField(max_length=255, required=False, label="Reason for the adjustment")

    class Meta:
        model = GiftCard
        fields = ["code", "currency", "initial_balance", "expires_at", "is_active", "recipient_email"]

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and not data.get("initial_balance"):
            self.add_error("initial_balance", "Give the card's value.")
        if data.get("adjustment") and not data.get("adjustment_note"):
            self.add_error("adjustment_note", "Say why the balance changes.")
        if self.instance.pk and data.get("adjustment") and self.instance.balance + data["adjustment"] < 0:
            self.add_error("adjustment", f"The card has only {self.instance.balance} {self.instance.currency} left.")
        if self.instance.pk is None and data.get("code") and services.find_card(data["code"]):
            self.add_error("code", "A gift card with this code exists.")
        return data


@admin.register(GiftCard)
class GiftCardAdmin(admin.ModelAdmin):
    list_display = ["masked_code", "balance", "initial_balance", "currency", "expires_at", "is_active",
                    "source_order", "created_at"]
    list_filter = ["is_active", "currency", "created_at"]
    search_fields = ["code", "recipient_email", "source_order__number"]
    list_select_related = ["source_order"]
    raw_id_fields = ["source_order"]
    inlines = [TransactionInline]
    form = GiftCardForm

    def get_search_results(self, request, queryset, search_term):
        """A whole code finds its card however it is typed (hyphens, spaces, case); else the usual search."""
        card = services.find_card(search_term)
        if card is not None:
            return queryset.filter(pk=card.pk), False
        return super().get_search_results(request, queryset, search_term)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["code", "initial_balance", "currency", "expires_at", "recipient_email"]
        return ["code", "currency", "initial_balance", "balance", "expires_at", "is_active", "recipient_email",
                "source_order", "issued_by", "created_at", "adjustment", "adjustment_note"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["code", "currency", "initial_balance", "balance", "source_order", "issued_by", "created_at"]

    def get_changeform_initial_data(self, request):
        return {"currency": settings.SHOP_CURRENCY}

    def save_model(self, request, obj, form, change):
        """A new card goes through services.issue_card (with its ISSUE transaction); an existing one
        saves its own fields and any adjustment through services.adjust_card."""
        data = form.cleaned_data
        if not change:
            card = services.issue_card(amount=data["initial_balance"], currency=data["currency"], code=data["code"],
                                       expires_at=data["expires_at"], by=request.user,
                                       recipient_email=data["recipient_email"])
            obj.pk = card.pk
            obj.refresh_from_db()
            return
        GiftCard.objects.filter(pk=obj.pk).update(expires_at=obj.expires_at, is_active=obj.is_active,
                                                  recipient_email=obj.recipient_email)
        if data.get("adjustment"):
            try:
                services.adjust_card(card=obj, amount=data["adjustment"], note=data["adjustment_note"], by=request.user)
            except services.GiftCardError as error:
                self.message_user(request, str(error), messages.ERROR)

    def has_delete_permission(self, request, obj=None):
        return False  # the ledger is the record: block a card instead
