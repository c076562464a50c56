"""The back office for orders and carts. Status changes only through actions that call
orders.services.transition_order (the lifecycle table), never by editing the field.

At scale (issue 24, benchmarks/admin.py): the list shows the live shop by default (SourceListFilter),
reads stored counts (Order.item_count) instead of summing lines per row, never counts the whole
table, and its filters and default order are index ranges (Order.Meta.indexes). A search takes a
fast path when the term is an order number, an email or a SKU. The change page reads a constant
number of queries however many lines and status changes the order has."""
import uuid

from django import forms
from django.contrib import admin, messages
from django.core.files.storage import default_storage
from django.db.models import Subquery
from django.db.models.functions import Lower
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from catalog.selectors import primary_image_subquery
from giftcards import selectors as gift_card_reads
from payments import services as payments
from payments.admin import PaymentInline
from payments.models import PaymentEvent
from shop.admin_filters import CappedCountPaginator, SourceListFilter, cached_values_filter

from . import services
from .models import Order, OrderLine


MAX_LINES_SHOWN = 100  # an imported invoice may hold 1,000+ lines; the page shows the first ones
MAX_EVENTS_SHOWN = 50  # payment events on the order page (all of them: Payments > Payment events)


class ShipForm(forms.Form):
    """The tracking number of one order being marked as shipped."""

    tracking_number = forms.CharField(max_length=64, required=True)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Orders are records of what was sold: totals, lines and status are read-only; status moves only by actions."""

    list_display = ["number", "created_at", "customer_or_email", "status", "item_count", "total", "currency",
                    "shipping_method_name", "shipping_country"]
    list_filter = [SourceListFilter, "status", "created_at",
                   cached_values_filter("shipping_method", "shipping method"),
                   cached_values_filter("shipping_country", "country"),
                   cached_values_filter("payment_provider", "payment provider")]
    # Searched only when no fast path applies (get_search_results); no joins, so no DISTINCT.
    search_fields = ["number", "email", "shipping_name"]
    search_help_text = "An order number, an email (or part of one), a SKU, or a name."
    # No date_hierarchy: its year/month links are a DISTINCT over every listed row's truncated date
    # (a scan, and a Python call per row on SQLite) on each view. The created_at filter's ranges
    # (today, past 7 days, this month, this year) are index ranges instead.
    list_select_related = ["customer"]
    list_per_page = 50
    show_full_result_count = False
    paginator = CappedCountPaginator  # counts stop at 10,000 matches
    show_facets = admin.ShowFacets.NEVER  # per-choice counts over the whole table, on every view
    change_form_template = "admin/orders/order/change_form.html"
    readonly_fields = ["number", "status", "tracking_number", "customer", "email", "currency", "subtotal", "shipping_price", "total",
                       "payment_provider", "payment_reference", "idempotency_key", "created_at",
                       "shipping_method", "shipping_method_name", "billing_address", "item_count", "line_count",
                       "source"]
    fieldsets = [
        (None, {"fields": ["number", "status", "tracking_number", "created_at", "customer", "email", "phone"]}),
        ("Shipping", {"fields": ["shipping_name", "shipping_line1", "shipping_line2", "shipping_city",
                                 "shipping_postcode", "shipping_country", "shipping_method",
                                 "shipping_method_name", "billing_address"]}),
        ("Money", {"fields": ["currency", "subtotal", "shipping_price", "total", "payment_provider",
                              "payment_reference", "idempotency_key", "item_count", "line_count", "source"]}),
    ]
    actions = ["mark_paid", "ship_orders", "mark_delivered", "cancel_orders", "refund_orders", "refund_money"]
    inlines = [PaymentInline]  # each payment: status, ledger totals, Stripe dashboard link

    def _transition(self, request, queryset, to_status: str, done: str) -> None:
        """Move every selected order to `to_status` through the service; refusals become messages."""
        moved = 0
        for order in queryset:
            try:
                services.transition_order(order=order, to_status=to_status, by=request.user)
                moved += 1
            except services.IllegalTransition as error:
                self.message_user(request, str(error), messages.ERROR)
        if moved:
            self.message_user(request, f"{moved} order(s) {done}.")

    @admin.action(description="Mark selected orders as paid", permissions=["change"])
    def mark_paid(self, request, queryset):
        self._transition(request, queryset, Order.Status.PAID, "marked as paid")

    @admin.action(description="Mark selected orders as delivered", permissions=["change"])
    def mark_delivered(self, request, queryset):
        self._transition(request, queryset, Order.Status.DELIVERED, "marked as delivered")

    @admin.action(description="Refund selected orders and return their stock", permissions=["change"])
    def refund_orders(self, request, queryset):
        self._transition(request, queryset, Order.Status.REFUNDED, "refunded; their stock is back on sale")

    @admin.action(description="Refund the money of selected orders: the payment first, then gift cards",
                  permissions=["change"])
    def refund_money(self, request, queryset):
        """Refund all that is left on each order (payments.services.refund_order: the provider's
        part, then the gift cards'); the order moves to refunded when nothing is left."""
        for order in queryset:
            try:
                done = payments.refund_order(order=order, amount=payments.refundable_total(order),
                                             key=f"admin:{uuid.uuid4().hex}", by=request.user)
            except (payments.RefundRefused, payments.PaymentUnavailable) as error:
                self.message_user(request, f"{order}: {error}", messages.ERROR)
            else:
                cards = sum((t.amount for t in done.to_cards), 0)
                self.message_user(request, f"{order}: refunded {done.amount} {order.currency}"
                                           f"{f' ({cards} to gift cards)' if cards else ''}.")

    @admin.action(description="Ship selected orders (asks for tracking numbers)", permissions=["change"])
    def ship_orders(self, request, queryset):
        """First call: a page asking one tracking number per order. Second call (the page's
        submit, flagged by "apply"): ship each order with its number through the service."""
        orders = list(queryset.order_by("pk"))
        forms_by_order = [(order, ShipForm(request.POST if "apply" in request.POST else None,
                                           prefix=f"order-{order.pk}")) for order in orders]
        if "apply" in request.POST and all(form.is_valid() for _, form in forms_by_order):
            shipped = 0
            for order, form in forms_by_order:
                try:
                    services.transition_order(order=order, to_status=Order.Status.FULFILLED, by=request.user,
                                              tracking_number=form.cleaned_data["tracking_number"])
                    shipped += 1
                except services.IllegalTransition as error:
                    self.message_user(request, str(error), messages.ERROR)
            if shipped:
                self.message_user(request, f"{shipped} order(s) shipped; the customers are emailed their tracking number.")
            return None
        context = {**self.admin_site.each_context(request), "title": "Ship orders", "opts": self.model._meta,
                   "forms": forms_by_order, "action": "ship_orders",
                   "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME}
        return TemplateResponse(request, "admin/orders/order/ship_orders.html", context)

    @admin.action(description="Cancel selected orders and return their stock", permissions=["change"])
    def cancel_orders(self, request, queryset):
        cancelled = 0
        for order in queryset:
            try:
                services.cancel_order(order=order, by=request.user)
                cancelled += 1
            except services.IllegalTransition as error:
                self.message_user(request, str(error), messages.ERROR)
        if cancelled:
            self.message_user(request, f"Cancelled {cancelled} order(s); their stock is back on sale.")

    def get_search_results(self, request, queryset, search_term):
        """Fast paths, each one index read: an exact order number; a term with "@" is a whole
        email address in any case (the order_email_lower index), else part of one (a trigram index
        on PostgreSQL); a SKU that was sold finds the orders holding it.
        Anything else: Django's search over `search_fields`."""
        term = search_term.strip()
        if term and queryset.filter(number=term).exists():
            return queryset.filter(number=term), False
        if "@" in term:
            address = queryset.alias(email_lower=Lower("email")).filter(email_lower=term.lower())
            return (address if address.exists() else queryset.filter(email__icontains=term)), False
        with_sku = OrderLine.objects.filter(sku=term).values("order_id")
        if term and with_sku.exists():
            return queryset.filter(pk__in=Subquery(with_sku)), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="customer", ordering="email")
    def customer_or_email(self, obj: Order) -> str:
        return str(obj.customer) if obj.customer_id else f"{obj.email} (guest)"

    def has_add_permission(self, request):
        return False  # orders come from checkout, which takes stock and charges payment

    def get_urls(self):
        return [path("<int:pk>/move/", self.admin_site.admin_view(self.move_view), name="orders_order_move"),
                *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The order page: lines with thumbnails, customer, addresses, payment, the timeline, the
        payment events (newest first, with their Stripe dashboard links), the payments (inline) and
        the next statuses the lifecycle allows, as buttons (move_view)."""
        order = self.get_object(request, object_id)
        if order is not None:
            lines = list(order.lines.annotate(image_path=primary_image_subquery("variant__product"))[:MAX_LINES_SHOWN])
            for line in lines:
                line.thumbnail_url = default_storage.url(line.image_path) if line.image_path else ""
            extra_context = {
                **(extra_context or {}), "order": order, "lines": lines, "lines_hidden": order.line_count - len(lines),
                "timeline": order.status_changes.select_related("changed_by"),
                "payment_events": PaymentEvent.objects.for_order(order)[:MAX_EVENTS_SHOWN],
                "gift_card_plan": gift_card_reads.order_plan(order),
                "next_statuses": [(status, Order.Status(status).label)
                                  for status in services.allowed_transitions(order)],
                "can_move": self.has_change_permission(request, order),
                "move_url": reverse("admin:orders_order_move", args=[order.pk]),
                "shipped_status": Order.Status.FULFILLED,
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def move_view(self, request, pk: int):
        """POST: move one order to `status` (with `tracking_number` when shipping) through
        services.transition_order; a refusal becomes an error message. Back to the order page."""
        order = get_object_or_404(Order, pk=pk)
        back = HttpResponseRedirect(reverse("admin:orders_order_change", args=[pk]))
        if request.method != "POST" or not self.has_change_permission(request, order):
            self.message_user(request, "You may not change this order.", messages.ERROR)
            return back
        status = request.POST.get("status", "")
        try:
            if status == Order.Status.CANCELLED:
                services.cancel_order(order=order, by=request.user)
            else:
                services.transition_order(order=order, to_status=status, by=request.user,
                                          tracking_number=request.POST.get("tracking_number", ""))
        except services.IllegalTransition as error:
            self.message_user(request, str(error), messages.ERROR)
            return back
        self.message_user(request, f"Order {order.number} is now {Order.Status(status).label.lower()}.")
        return back
