"""The back office for the catalogue: categories, products with variant and image inlines,
stock, and reviews."""
from django import forms
from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string

from shop.admin_filters import SourceListFilter

from . import services
from .forms import ProductImageForm
from .models import Category, Product, ProductImage, Review, Variant


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "path", "depth", "parent", "position", "is_visible", "product_count"]
    list_filter = ["depth", "is_visible"]
    list_editable = ["position", "is_visible"]
    search_fields = ["name", "path"]
    autocomplete_fields = ["parent"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("parent").annotate(num_products=Count("products"))

    @admin.display(description="products", ordering="num_products")
    def product_count(self, obj: Category) -> int:
        return obj.num_products


class VariantInlineForm(forms.ModelForm):
    """A variant row sized to fit the product page: short boxes for size, colour, money and stock."""

    class Meta:
        model = Variant
        fields = ["sku", "size", "colour", "price", "sale_price", "stock", "low_stock_threshold", "weight", "is_active"]
        widgets = {"sku": forms.TextInput(attrs={"size": 14}), "size": forms.TextInput(attrs={"size": 5}),
                   "colour": forms.TextInput(attrs={"size": 8}),
                   **{name: forms.NumberInput(attrs={"style": "width:6em"})
                      for name in ("price", "sale_price", "stock", "low_stock_threshold")}}


class VariantInline(admin.TabularInline):
    """Each variant's stock and prices, edited on the product page (saved through the stock service)."""

    model = Variant
    form = VariantInlineForm
    extra = 0
    show_change_link = True


def thumbnail(image_field, size: int = 60) -> str:
    """An <img> for an admin list or inline (templates/admin/catalog/_thumbnail.html), or a dash
    when there is no file."""
    if not image_field:
        return "-"
    return render_to_string("admin/catalog/_thumbnail.html", {"url": image_field.url, "size": size})


class ProductImageInline(admin.TabularInline):
    """Upload and order a product's photos. The upload is checked by ProductImageForm (a refused
    file gets an error naming the reason); renditions are made by the worker after saving, and
    `renditions` shows how far it got (and why a file failed)."""

    model = ProductImage
    form = ProductImageForm
    extra = 0
    fields = ["preview", "image", "alt_text", "position", "variant", "renditions_status"]
    readonly_fields = ["preview", "renditions_status"]
    autocomplete_fields = ["variant"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(num_renditions=Count("renditions"))

    @admin.display(description="preview")
    def preview(self, obj: ProductImage) -> str:
        return thumbnail(obj.image)

    @admin.display(description="renditions")
    def renditions_status(self, obj: ProductImage) -> str:
        if not obj.pk:
            return "-"
        if obj.status in (ProductImage.Status.FAILED, ProductImage.Status.READY):
            return render_to_string("admin/catalog/_renditions_status.html", {"image": obj})
        return "Pending (a worker makes them shortly)"


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["preview", "name", "sku", "is_visible", "variant_count", "stock_total", "rating_average",
                    "rating_count", "created_at"]
    list_display_links = ["preview", "name"]
    list_filter = [SourceListFilter, "is_visible", "categories", "created_at",
                   ("images__status", admin.ChoicesFieldListFilter)]
    search_fields = ["name", "sku"]
    search_help_text = "A name, or a product or variant SKU."
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["categories"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # per-choice counts over the whole table, on every view
    readonly_fields = ["source", "rating_average", "rating_count", "created_at", "updated_at"]
    # The short part first, so that the variants (stock, prices) and photos (renditions) are near the top.
    fieldsets = [
        (None, {"fields": ["name", "sku", "slug", "is_visible", "source", "categories"]}),
        ("Tax and shipping", {"fields": ["tax_class", "weight", "is_gift_card"]}),
        ("Recommendations", {"fields": ["is_consumable"]}),
        ("Description", {"fields": ["description", "short_description", "attributes"], "classes": ["collapse"]}),
        ("Search engines", {"fields": ["seo_title", "seo_description"], "classes": ["collapse"]}),
        ("Ratings and dates", {"fields": ["rating_average", "rating_count", "created_at", "updated_at"],
                               "classes": ["collapse"]}),
    ]
    inlines = [VariantInline, ProductImageInline]
    list_per_page = 50
    actions = ["remake_image_renditions"]

    def save_formset(self, request, form, formset, change):
        if formset.model is ProductImage:
            return self._save_image_formset(formset)
        if formset.model is not Variant:
            return super().save_formset(request, form, formset, change)
        # Variant rows go through the stock service, so that stock edits are broadcast live.
        variants = formset.save(commit=False)
        for variant in formset.deleted_objects:
            variant.delete()
        changed_fields = {variant.pk: fields for variant, fields in formset.changed_objects}
        for variant in variants:
            services.save_variant(variant=variant, changed_fields=changed_fields.get(variant.pk, ["stock"]))
        formset.save_m2m()

    def _save_image_formset(self, formset) -> None:
        """Image rows go through the image service: a new or replaced file becomes pending and
        its rendition job is sent after commit."""
        images = formset.save(commit=False)
        for image in formset.deleted_objects:
            image.delete()
        uploads = {
            id(inline_form.instance): inline_form.cleaned_data.get("image")
            for inline_form in formset.forms
            if inline_form.has_changed() and "image" in inline_form.changed_data
        }
        for image in images:
            services.save_product_image(image=image, upload=uploads.get(id(image)))
        formset.save_m2m()

    @admin.action(description="Re-make image renditions of selected products")
    def remake_image_renditions(self, request, queryset):
        image_ids = ProductImage.objects.filter(product__in=queryset).values_list("pk", flat=True)
        count = services.reprocess_product_images(image_ids=image_ids, force=True)
        self.message_user(request, f"{count} images queued for new renditions.")

    def get_queryset(self, request):
        """Per-row figures as correlated subqueries (no GROUP BY over the whole table): a page
        computes them for its own rows only."""
        from .selectors import primary_image_subquery

        variants = Variant.objects.filter(product=OuterRef("pk")).order_by().values("product")
        return super().get_queryset(request).annotate(
            num_variants=Coalesce(Subquery(variants.annotate(n=Count("pk")).values("n"),
                                           output_field=IntegerField()), 0),
            total_stock=Subquery(variants.annotate(n=Sum("stock")).values("n"), output_field=IntegerField()),
            image_path=primary_image_subquery())

    def get_search_results(self, request, queryset, search_term):
        """A SKU (the product's, or one of its variants') is an exact index read; else Django's search."""
        term = search_term.strip()
        by_sku = queryset.filter(Q(sku=term) | Q(pk__in=Variant.objects.filter(sku=term).values("product_id")))
        if term and by_sku.exists():
            return by_sku, False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="image")
    def preview(self, obj: Product) -> str:
        from django.core.files.storage import default_storage

        if not obj.image_path:
            return "-"
        return render_to_string("admin/catalog/_thumbnail.html",
                                {"url": default_storage.url(obj.image_path), "size": 48})

    @admin.display(description="variants", ordering="num_variants")
    def variant_count(self, obj: Product) -> int:
        return obj.num_variants

    @admin.display(description="stock", ordering="total_stock")
    def stock_total(self, obj: Product) -> int:
        return obj.total_stock or 0


class StockStatusFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "stock_status"

    def lookups(self, request, model_admin):
        return [("out", "Sold out"), ("low", "Low (at or below threshold)"), ("in", "In stock")]

    def queryset(self, request, queryset):
        from django.db.models import F

        if self.value() == "out":
            return queryset.filter(stock=0)
        if self.value() == "low":
            return queryset.filter(stock__gt=0, stock__lte=F("low_stock_threshold"))
        if self.value() == "in":
            return queryset.filter(stock__gt=0)
        return queryset


@admin.register(Variant)
class VariantAdmin(admin.ModelAdmin):
    """Stock is edited here (list_editable) or in the product's variant inline."""

    list_display = ["sku", "product", "size", "colour", "price", "sale_price", "stock", "is_active"]
    list_editable = ["stock"]
    list_filter = [StockStatusFilter, "is_active", "size", "colour"]
    search_fields = ["sku", "product__name"]
    list_select_related = ["product"]
    autocomplete_fields = ["product"]
    actions = ["mark_sold_out"]

    def save_model(self, request, obj, form, change):
        services.save_variant(variant=obj, changed_fields=form.changed_data)

    @admin.action(description="Set stock to 0 (sold out)")
    def mark_sold_out(self, request, queryset):
        for variant in queryset:
            services.set_stock(variant=variant, stock=0)
        self.message_user(request, f"{queryset.count()} variants marked sold out.")


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    """Moderation: approve, reject or feature reviews; only approved ones count in the rating."""

    list_display = ["title", "product", "rating", "reviewer_name", "status", "is_featured", "is_verified_buyer",
                    "created_at"]
    list_filter = ["status", "is_featured", "is_verified_buyer", "rating", "created_at"]
    search_fields = ["title", "body", "reviewer_name", "product__name", "product__sku"]
    list_select_related = ["product"]
    autocomplete_fields = ["product", "user"]
    readonly_fields = ["is_verified_buyer"]
    actions = ["approve", "reject", "feature", "unfeature"]

    def _moderate(self, request, queryset, action: str, done: str) -> None:
        changed = services.moderate_reviews(review_ids=queryset.values_list("pk", flat=True), action=action)
        self.message_user(request, f"{changed} review(s) {done}.")

    @admin.action(description="Approve selected reviews", permissions=["change"])
    def approve(self, request, queryset):
        self._moderate(request, queryset, "approve", "approved")

    @admin.action(description="Reject selected reviews", permissions=["change"])
    def reject(self, request, queryset):
        self._moderate(request, queryset, "reject", "rejected")

    @admin.action(description="Feature selected reviews (approves them)", permissions=["change"])
    def feature(self, request, queryset):
        self._moderate(request, queryset, "feature", "featured")

    @admin.action(description="Stop featuring selected reviews", permissions=["change"])
    def unfeature(self, request, queryset):
        self._moderate(request, queryset, "unfeature", "no longer featured")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.refresh_product_rating(product_ids=[obj.product_id])

    def delete_model(self, request, obj):
        services.delete_reviews(review_ids=[obj.pk])

    def delete_queryset(self, request, queryset):
        services.delete_reviews(review_ids=queryset.values_list("pk", flat=True))
