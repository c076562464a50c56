"""Staff pin or block recommendations per product (merchandising), and read what was computed."""
from django.contrib import admin

from .models import Recommendation, Rule


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ["product", "action", "recommended", "created_at"]
    list_filter = ["action"]
    search_fields = ["product__name", "product__sku", "recommended__name", "recommended__sku"]
    autocomplete_fields = ["product", "recommended"]


@admin.register(Recommendation)
class RecommendationAdmin(admin.ModelAdmin):
    """Read only: build_recommendations writes these; merchandising rules change what is shown."""

    list_display = ["product", "kind", "rank", "recommended", "score", "confidence", "reason"]
    list_filter = ["kind"]
    search_fields = ["product__name", "product__sku"]
    list_select_related = ["product", "recommended"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
