"""The back office for orders and carts. Status changes only through actions that call
orders.services.transition_order (the lifecycle table), never by editing the field."""
from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from . import services
from .models import Order, OrderLine, OrderStatusChange


class OrderStatusChangeInline(admin.TabularInline):
    """The order's timeline: every status change, who made it and when."""

    model = OrderStatusChange
    extra = 0
    can_delete = False
    fields = ["changed_at", "from_status", "to_status", "changed_by", "note"]
    readonly_fields = fields
    verbose_name_plural = "timeline"

    def has_add_permission(self, request, obj=None):
        return False


class ShipForm(forms.Form):
    """The tracking number of one order being marked as shipped."""

    tracking_number = forms.CharField(max_length=64, required=True)


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = ["sku", "product_name", "options", "unit_price", "quantity", "line_total"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Orders are records of what was sold: totals, lines and status are read-only; status moves only by actions."""

    list_display = ["number", "created_at", "customer_or_email", "status", "item_total", "total", "currency",
                    "shipping_method_name", "shipping_country"]
    list_filter = ["status", "created_at", "shipping_method", "shipping_country", "payment_provider"]
    search_fields = ["number", "email", "shipping_name", "customer__email", "lines__sku"]
    date_hierarchy = "created_at"
    list_select_related = ["customer"]
    readonly_fields = ["number", "status", "tracking_number", "customer", "email", "currency", "subtotal", "shipping_price", "total",
                       "payment_provider", "payment_reference", "idempotency_key", "created_at",
                       "shipping_method", "shipping_method_name", "billing_address"]
    fieldsets = [
        (None, {"fields": ["number", "status", "tracking_number", "created_at", "customer", "email", "phone"]}),
        ("Shipping", {"fields": ["shipping_name", "shipping_line1", "shipping_line2", "shipping_city",
                                 "shipping_postcode", "shipping_country", "shipping_method",
                                 "shipping_method_name", "billing_address"]}),
        ("Money", {"fields": ["currency", "subtotal", "shipping_price", "total", "payment_provider",
                              "payment_reference", "idempotency_key"]}),
    ]
    inlines = [OrderLineInline, OrderStatusChangeInline]
    actions = ["mark_paid", "ship_orders", "mark_delivered", "cancel_orders", "refund_orders"]

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

    def get_queryset(self, request):
        from django.db.models import Sum

        return super().get_queryset(request).annotate(units=Sum("lines__quantity"))

    @admin.display(description="customer", ordering="email")
    def customer_or_email(self, obj: Order) -> str:
        return str(obj.customer) if obj.customer_id else f"{obj.email} (guest)"

    @admin.display(description="items", ordering="units")
    def item_total(self, obj: Order) -> int:
        return obj.units or 0

    def has_add_permission(self, request):
        return False  # orders come from checkout, which takes stock and charges payment
