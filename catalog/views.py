"""Storefront pages: category listing, product page and search. Thin: a selector, then render."""
from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.views.generic import DetailView, ListView

from . import selectors
from .filters import ProductFilter
from .models import Category, Product
from .search import search_products


class ProductListingView(ListView):
    """Shared by category and search pages: filters, sorting and 24 cards a page."""

    template_name = "catalog/product_list.html"
    context_object_name = "products"
    default_sort = selectors.DEFAULT_SORT

    def get_paginate_by(self, queryset) -> int:
        return settings.SHOP_PRODUCTS_PER_PAGE

    def base_queryset(self):
        return Product.objects.visible()

    def get_queryset(self):
        base = self.base_queryset()
        self.filterset = ProductFilter(self.request.GET, queryset=selectors.product_cards(base),
                                       facets=selectors.facets_for(base), default_sort=self.default_sort)
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        return super().get_context_data(filter=self.filterset, **kwargs)


class CategoryView(ProductListingView):
    """/c/<path>/: products in a category and everything below it, with breadcrumbs."""

    def base_queryset(self):
        self.category = get_object_or_404(Category, path=self.kwargs["path"], is_visible=True)
        return super().base_queryset().in_category(self.category)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            category=self.category,
            breadcrumbs=selectors.breadcrumbs(self.category),
            subcategories=self.category.children.filter(is_visible=True).order_by("position", "name"),
            **kwargs,
        )


class SearchView(ProductListingView):
    """/search/?q=: ranked full-text search (PostgreSQL) or substring match (SQLite)."""

    template_name = "catalog/search.html"
    default_sort = selectors.RELEVANCE  # keep the search ranking unless the shopper picks a sort

    def base_queryset(self):
        self.query = self.request.GET.get("q", "").strip()[:200]
        return search_products(super().base_queryset(), self.query)

    def get_context_data(self, **kwargs):
        return super().get_context_data(query=self.query, **kwargs)


class ProductDetailView(DetailView):
    """/p/<slug>/: gallery, variant picker, price, stock per variant, add to cart, reviews."""

    template_name = "catalog/product_detail.html"
    context_object_name = "product"

    def get_object(self, queryset=None):
        try:
            return selectors.product_detail(self.kwargs["slug"])
        except Product.DoesNotExist:
            raise Http404("No such product") from None

    def get_context_data(self, **kwargs):
        product = self.object
        variants = list(product.variants.all())
        return super().get_context_data(
            variants=variants,
            picker=selectors.variant_picker(variants),
            breadcrumbs=selectors.breadcrumbs(product.categories.all()[0]) if product.categories.all() else [],
            **kwargs,
        )
