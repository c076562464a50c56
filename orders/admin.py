"""The back office for orders and carts."""
from django.contrib import admin, messages

from . import services
from .models import Order, OrderLine


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
                       "shipping_method", "shipping_method_name"]
    fieldsets = [
        (None, {"fields": ["number", "status", "tracking_number", "created_at", "customer", "email", "phone"]}),
        ("Shipping", {"fields": ["shipping_name", "shipping_line1", "shipping_line2", "shipping_city",
                                 "shipping_postcode", "shipping_country", "shipping_method",
                                 "shipping_method_name"]}),
        ("Money", {"fields": ["currency", "subtotal", "shipping_price", "total", "payment_provider",
                              "payment_reference", "idempotency_key"]}),
    ]
    inlines = [OrderLineInline]
    actions = ["cancel_orders"]

    @admin.action(description="Cancel selected orders and return their stock")
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
