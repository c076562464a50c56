"""Staff manage the pricing rules here: tax rates, shipping zones with their methods, weight bands
and excluded products, vouchers (their use is counted by checkout, never typed), with
"Generate codes" (a batch of single-use codes) and "Export codes as CSV", and catalogue promotions
(saved: the variants' prices follow at once, promotions.sales)."""
import csv

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from . import selectors, services
from .forms import GenerateCodesForm
from .models import Promotion, ShippingMethod, ShippingZone, TaxRate, Voucher, VoucherRedemption, WeightBand


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


class ShippingZoneForm(forms.ModelForm):
    """The zone's countries and postcode rules checked as the API checks them (services.zone_errors)."""

    class Meta:
        model = ShippingZone
        fields = ["name", "countries", "postcode_prefixes", "position"]

    def clean(self):
        data = super().clean()
        countries = data.get("countries") or []
        if isinstance(countries, list):
            countries = data["countries"] = [str(code).upper() for code in countries]
        for field, message in services.zone_errors(countries=countries,
                                                   postcode_prefixes=data.get("postcode_prefixes") or []).items():
            self.add_error(field, message)
        return data


@admin.register(ShippingZone)
class ShippingZoneAdmin(admin.ModelAdmin):
    form = ShippingZoneForm
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
    autocomplete_fields = ["excluded_products"]
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
    autocomplete_fields = ["products", "categories"]
    inlines = [RedemptionInline]
    actions = ["export_csv"]

    @admin.action(description="Export codes as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        """The selected vouchers as a CSV file (selectors.voucher_csv_rows), e.g. a generated batch
        to hand to a printer or a mailing tool."""
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="vouchers-{timezone.now():%Y%m%d-%H%M}.csv"'
        writer = csv.writer(response)
        writer.writerow(selectors.VOUCHER_CSV_HEADER)
        writer.writerows(selectors.voucher_csv_rows(queryset))
        return response

    def get_urls(self):
        return [path("generate/", self.admin_site.admin_view(self.generate_view), name="promotions_voucher_generate"),
                *super().get_urls()]

    def generate_view(self, request):
        """"Generate codes": a form (GenerateCodesForm); on a valid POST, services.generate_vouchers
        makes the batch and the list shows it (searched by its prefix), ready to export."""
        if not self.has_add_permission(request):
            self.message_user(request, "You may not add vouchers.", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:promotions_voucher_changelist"))
        form = GenerateCodesForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                made = services.generate_vouchers(**{**data, "prefix": data["prefix"] or ""})
            except services.InvalidVoucherBatch as problem:
                for field, message in problem.errors.items():
                    form.add_error(field if field in form.fields else None, message)
            else:
                prefix = data["prefix"].upper()
                self.message_user(request, f"Made {len(made)} single-use codes{f' starting {prefix}' if prefix else ''}"
                                           ". Select them and choose “Export codes as CSV”.")
                return HttpResponseRedirect(reverse("admin:promotions_voucher_changelist") + (
                    f"?q={prefix}" if prefix else ""))
        context = {**self.admin_site.each_context(request), "title": "Generate single-use codes",
                   "opts": self.model._meta, "form": form, "media": self.media + form.media}
        return TemplateResponse(request, "admin/promotions/voucher/generate_codes.html", context)


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "value", "starts_at", "ends_at", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["variants", "products", "categories"]
    fields = ["name", "kind", "value", "starts_at", "ends_at", "is_active", "categories", "products", "variants",
              "created_at"]
