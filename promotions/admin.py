"""Staff manage the pricing rules here: tax rates, shipping zones with their methods and weight
bands, and vouchers (their use is counted by checkout, never typed)."""
from django.contrib import admin

from .models import ShippingMethod, ShippingZone, TaxRate, Voucher, VoucherRedemption, WeightBand


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):
    list_display = ["country", "tax_class", "rate", "name"]
    list_filter = ["tax_class", "country"]
    search_fields = ["country", "name"]


class ShippingMethodInline(admin.TabularInline):
    model = ShippingMethod
    extra = 0
    fields = ["code", "name", "price", "free_above", "is_active", "position"]
    show_change_link = True  # weight bands are edited on the method's own page


@admin.register(ShippingZone)
class ShippingZoneAdmin(admin.ModelAdmin):
    list_display = ["name", "countries", "postcode_prefixes", "position"]
    inlines = [ShippingMethodInline]


class WeightBandInline(admin.TabularInline):
    model = WeightBand
    extra = 1


@admin.register(ShippingMethod)
class ShippingMethodAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "zone", "price", "free_above", "is_active"]
    list_filter = ["zone", "is_active"]
    search_fields = ["code", "name"]
    inlines = [WeightBandInline]


class RedemptionInline(admin.TabularInline):
    model = VoucherRedemption
    extra = 0
    fields = ["order", "customer", "email", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Voucher)
class VoucherAdmin(admin.ModelAdmin):
    list_display = ["code", "kind", "value", "used_count", "usage_limit", "starts_at", "ends_at", "is_active"]
    list_filter = ["kind", "is_active", "new_customers_only"]
    search_fields = ["code"]
    readonly_fields = ["used_count", "created_at"]
    inlines = [RedemptionInline]
