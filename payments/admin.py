"""Admin: each payment with its ledger and events, a link to the Stripe dashboard, and a refund
action (payments.services.refund)."""
import uuid
from decimal import Decimal

from django.contrib import admin, messages
from django.template.loader import render_to_string

from . import services
from .models import LedgerEntry, Payment, PaymentEvent
from .money import exponent


def dashboard_link(url: str, label: str) -> str:
    """A link to the Stripe dashboard (opens a new tab), or "-" without `url` (a template)."""
    return render_to_string("admin/payments/_dashboard_link.html", {"url": url, "label": label})


class LedgerInline(admin.TabularInline):
    model = LedgerEntry
    extra = 0
    can_delete = False
    fields = readonly_fields = ["kind", "status", "amount", "reference", "note", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = PaymentEvent
    extra = 0
    can_delete = False
    fields = readonly_fields = ["event_id", "type", "outcome", "received_at", "dashboard"]

    @admin.display(description="Stripe dashboard")
    def dashboard(self, obj):
        return dashboard_link(obj.dashboard_url, obj.event_id)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    """Payments with their ledger, events and dashboard link; "Refund in full" action."""

    list_display = ["order", "provider", "flow", "status", "amount", "currency", "intent_id", "created_at"]
    list_filter = ["status", "provider", "flow"]
    search_fields = ["order__number", "intent_id", "session_id"]
    list_select_related = ["order"]
    raw_id_fields = ["order"]
    readonly_fields = ["order", "provider", "flow", "status", "amount", "currency", "intent_id", "session_id",
                       "error", "created_at", "ledger_totals", "dashboard"]
    exclude = ["client_secret", "redirect_url"]
    inlines = [LedgerInline, EventInline]
    actions = ["refund_in_full"]

    @admin.display(description="Ledger")
    def ledger_totals(self, obj):
        return ", ".join(f"{name} {value}" for name, value in obj.totals().items())

    @admin.display(description="Stripe dashboard")
    def dashboard(self, obj):
        return dashboard_link(obj.dashboard_url, obj.intent_id)

    @admin.action(description="Refund the balance of the selected payments")
    def refund_in_full(self, request, queryset):
        for payment in queryset:
            balance = payment.totals()["balance"]
            try:
                services.refund(payment=payment, amount=balance, key=f"admin:{uuid.uuid4().hex}", by=request.user)
            except (services.RefundRefused, services.PaymentUnavailable) as error:
                self.message_user(request, f"{payment.order}: {error}", messages.ERROR)
            else:
                self.message_user(request, f"{payment.order}: refunded {balance} {payment.currency}.")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PaymentEvent)
class PaymentEventAdmin(admin.ModelAdmin):
    """Every provider event received, with what it did."""

    list_display = ["event_id", "type", "payment", "outcome", "received_at"]
    list_filter = ["type", "provider"]
    search_fields = ["event_id", "payment__order__number"]
    readonly_fields = ["provider", "event_id", "type", "payment", "outcome", "payload", "received_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PaymentInline(admin.TabularInline):
    """An order's payments on its admin page (OrderAdmin.inlines): status, ledger totals (one
    annotated query whatever the number of payments), the Stripe dashboard link, and a link to
    the payment's own page (its ledger lines, events and refund action)."""

    model = Payment
    extra = 0
    can_delete = False
    show_change_link = True
    fields = readonly_fields = ["provider", "flow", "status", "amount", "currency", "ledger", "dashboard",
                                "error", "created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).with_totals()

    @admin.display(description="Ledger")
    def ledger(self, obj):
        def amount(value) -> Decimal:  # SQLite's sums lose the scale: show the currency's decimals
            return Decimal(value).quantize(Decimal(1).scaleb(-exponent(obj.currency)))

        charged, refunded, fees = amount(obj.charged_total), amount(obj.refunded_total), amount(obj.fees_total)
        return (f"charged {charged}, refunded {refunded}, fees {fees}, balance {charged - refunded}, "
                f"net {charged - refunded - fees}")

    @admin.display(description="Stripe dashboard")
    def dashboard(self, obj):
        return dashboard_link(obj.dashboard_url, obj.intent_id)

    def has_add_permission(self, request, obj=None):
        return False
