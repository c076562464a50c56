"""Storefront pages: category listing, product page and search. Thin: a selector, then render.
A guest's category and product pages (category_page, product_page) are served from the page cache
(shop.pagecache) while their versions (catalog.versions) stand."""
from types import SimpleNamespace

from django.conf import settings
from django.http import Http404, HttpResponsePermanentRedirect
from django.views.generic import DetailView, TemplateView

from branding.selectors import branding_keys, site_branding
from orders.pricing import display
from shop.cache import get_many
from shop.pagecache import cache_page_at_versions, fragment_vary_on

from . import selectors, versions
from .filters import ProductFilter
from .former_slugs import moved_product
from .gallery import image_colours
from .models import Product
from .pagination import page_number
from .search import parse_query, search_products
from .tree import request_tree, version_keys


class ProductListingView(TemplateView):
    """Shared by category and search pages: filters, sorting and keyset pages of 24 cards
    (catalog.pagination: ?after=, ?before= and ?last=1, and ?page= for the numbered links)."""

    template_name = "catalog/product_list.html"
    default_sort = selectors.DEFAULT_SORT

    def base_queryset(self):
        return Product.objects.visible()

    def listing_facts(self) -> selectors.ListingFacts:
        """The listing's cached facets and count (none by default)."""
        return selectors.ListingFacts(None)

    def get_context_data(self, **kwargs):
        base = self.base_queryset()
        facts = self.listing_facts()
        self.filterset = ProductFilter(self.request.GET, queryset=base, facets=facts.facets(base),
                                       default_sort=self.default_sort)
        queryset = self.filterset.qs
        params = self.request.GET
        page = selectors.product_cards_page(
            queryset, self.filterset.chosen_sort, size=settings.SHOP_PRODUCTS_PER_PAGE,
            after=params.get("after", "")[:2000], before=params.get("before", "")[:2000],
            last=params.get("last") == "1", number=page_number(params["page"]) if "page" in params else None,
            count=facts.count)
        facts.save()
        return super().get_context_data(filter=self.filterset, products=page.items, page=page, **kwargs)


class CategoryView(ProductListingView):
    """/c/<path>/: products in a category and everything below it, with breadcrumbs."""

    def base_queryset(self):
        path = self.kwargs["path"]
        # Facets per category; the count per category and filters, as fresh as the category's cached
        # page (its versions move with every stock, price or catalogue change). Read in the same
        # cache round trip as the category tree's versions.
        self.facts = selectors.ListingFacts(
            f"c:{path}", filters=ProductFilter.counted_params(self.request.GET),
            version_keys=versions.category_page_keys({"path": path}), also=[*version_keys(), *branding_keys()])
        # The card grid is a {% cache %} fragment while the page's versions stand (shop.pagecache):
        # they are read here, before the listing is, so a grid is never kept under newer versions.
        self.grid_vary_on = fragment_vary_on(self.request, versions.category_page_keys({"path": path}),
                                             self.facts.found)
        site_branding(self.request, found=self.facts.found)
        tree = request_tree(self.request, found=self.facts.found)
        self.category = tree.visible(path)
        if self.category is None:
            raise Http404("No such category")
        return tree.listing(self.category)

    def listing_facts(self) -> selectors.ListingFacts:
        """The category's facts, read with the tree (base_queryset)."""
        return self.facts

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)  # sets self.category
        context.update(
            category=self.category,
            breadcrumbs=request_tree(self.request).breadcrumbs(self.category),
            subcategories=request_tree(self.request).subcategories(self.category),
            grid_vary_on=self.grid_vary_on,
            page_cache_seconds=settings.SHOP_PAGE_CACHE_SECONDS,
        )
        return context


class SearchView(ProductListingView):
    """/search/?q=: products best match first, typos forgiven, with a "Did you mean" suggestion
    (catalog.search)."""

    template_name = "catalog/search.html"
    default_sort = selectors.RELEVANCE  # keep the search ranking unless the shopper picks a sort

    def base_queryset(self):
        self.query = self.request.GET.get("q", "").strip()[:200]
        self.parsed = parse_query(self.query)
        return search_products(super().base_queryset(), self.parsed)

    def listing_facts(self) -> selectors.ListingFacts:
        """Facets per query; the count is counted each time (no version covers every product)."""
        return selectors.ListingFacts(f"s:{self.query.lower()}")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)  # sets self.query
        context.update(query=self.query, suggestion=self.parsed.suggestion)
        return context


def _viewed_product(context: dict) -> dict:
    """What a cached product page keeps of its context: the product's id, which the analytics
    middleware records with a page view."""
    return {"product": SimpleNamespace(pk=context["product"].pk)}


class ProductDetailView(DetailView):
    """/p/<slug>/: gallery, variant picker, price, stock per variant, add to cart, reviews."""

    template_name = "catalog/product_detail.html"
    context_object_name = "product"

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            if (product := moved_product(kwargs["slug"])) is None:
                raise
            return HttpResponsePermanentRedirect(product.get_absolute_url())  # an old link (catalog.former_slugs)

    def get_object(self, queryset=None):
        try:
            return selectors.product_page(self.kwargs["slug"])
        except Product.DoesNotExist:
            raise Http404("No such product") from None

    def get_context_data(self, **kwargs):
        product = self.object
        found = get_many([*version_keys(), *branding_keys()])  # the tree and the header's branding: one round trip
        site_branding(self.request, found=found)
        tree = request_tree(self.request, found=found)
        deepest = tree.deepest(product.category_ids)
        return super().get_context_data(
            picker=selectors.variant_picker(product.active_variants, shown=display.catalogue_shower(product.tax_class)),
            image_colours=image_colours(product.gallery, product.active_variants),
            breadcrumbs=tree.breadcrumbs(deepest) if deepest else [],
            **kwargs,
        )


# The page cache wraps the views once, here, rather than per request (method_decorator builds its
# wrappers on every call: about 40 us of a 0.7 ms page-cache hit, measured in-process).
category_page = cache_page_at_versions(versions.category_page_keys)(CategoryView.as_view())
product_page = cache_page_at_versions(versions.product_page_keys, keep_context=_viewed_product)(
    ProductDetailView.as_view())
