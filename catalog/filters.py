"""Storefront filters for product listings (django-filter).

Size, colour, price range and "in stock" all apply to the same variant: "M in Gray, in stock,
under $50" finds products that have one variant matching all four, not four different variants.
"""
import django_filters
from django import forms
from django.utils.functional import cached_property

from .selectors import (DEFAULT_SORT, RELEVANCE, SORTS, Facets, matching_variant_exists, shown_price_in,
                        sort_products)


SORT_CHOICES = tuple((key, label) for key, (label, _) in SORTS.items())


class ProductFilter(django_filters.FilterSet):
    """Filters and sorting for a category or search listing. Pass `facets` to offer only the
    sizes and colours present in that listing. The price range is in prices as shoppers are shown
    them (with or without tax, orders.pricing.display); with `prices_as_shown=False` in the prices
    as entered, which the API shows."""

    size = django_filters.MultipleChoiceFilter(
        choices=[], method="_noop", widget=forms.CheckboxSelectMultiple, label="Size")
    colour = django_filters.MultipleChoiceFilter(
        choices=[], method="_noop", widget=forms.CheckboxSelectMultiple, label="Colour")
    min_price = django_filters.NumberFilter(method="_noop", label="Min price", min_value=0)
    max_price = django_filters.NumberFilter(method="_noop", label="Max price", min_value=0)
    in_stock = django_filters.BooleanFilter(method="_noop", widget=forms.CheckboxInput, label="In stock only")
    sort = django_filters.ChoiceFilter(choices=SORT_CHOICES, method="_noop", label="Sort by", empty_label=None)

    COUNTED = ("size", "colour", "min_price", "max_price", "in_stock")  # the parameters that change what is counted

    def __init__(self, data=None, queryset=None, *, facets: Facets | None = None,
                 default_sort: str = DEFAULT_SORT, prices_as_shown: bool = True, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.prices_as_shown = prices_as_shown  # the price range is in shown prices (pages) or entered ones (the API)
        self.default_sort = default_sort
        fields = self.form.fields  # this filterset's own form, with its own copies of the fields
        if default_sort == RELEVANCE:
            fields["sort"].choices = ((RELEVANCE, "Best match"), *SORT_CHOICES)
        if facets is not None:
            fields["size"].choices = [(size, size) for size in facets.sizes]
            fields["colour"].choices = [(colour, colour) for colour in facets.colours]

    def _noop(self, queryset, name, value):
        return queryset  # every field is applied together in filter_queryset

    def filter_queryset(self, queryset):
        """Apply all variant conditions as one EXISTS, then the chosen sort."""
        data = self.form.cleaned_data
        conditions = {}
        if data.get("size"):
            conditions["size__in"] = data["size"]
        if data.get("colour"):
            conditions["colour__in"] = data["colour"]
        prices = []
        if data.get("min_price") is not None or data.get("max_price") is not None:
            prices.append(shown_price_in(data.get("min_price"), data.get("max_price"), as_shown=self.prices_as_shown))
        if data.get("in_stock"):
            conditions["stock__gt"] = 0
        if conditions or prices:
            queryset = queryset.filter(matching_variant_exists(*prices, **conditions))
        return queryset if self.chosen_sort == RELEVANCE else sort_products(queryset, self.chosen_sort)

    @property
    def chosen_sort(self) -> str:
        """The chosen sort (a SORTS key, or RELEVANCE on search pages): the listing's default
        when none was chosen or the choice was refused."""
        self.form.is_valid()  # cleans once
        return self.form.cleaned_data.get("sort") or self.default_sort

    @cached_property
    def shown(self) -> dict:
        """The shopper's choices as the filter form shows them back (templates/catalog/_filters.html
        writes the form's HTML itself, with the names and ids Django's widgets would give):
        {"sort": str, "size"/"colour": set of str, "min_price"/"max_price": the text as typed,
        "in_stock": bool, "invalid": names of the fields whose value was refused}."""
        form = self.form
        form.is_valid()  # cleans once; cleaned_data then holds the fields that were valid
        data, cleaned = form.data, form.cleaned_data
        return {"sort": self.chosen_sort,
                "size": set(cleaned.get("size") or ()), "colour": set(cleaned.get("colour") or ()),
                "min_price": data.get("min_price", ""), "max_price": data.get("max_price", ""),
                "in_stock": bool(cleaned.get("in_stock")), "invalid": set(form.errors)}

    @classmethod
    def counted_params(cls, data) -> str:
        """The parameters of `data` (a QueryDict) that change what a listing counts, in a canonical
        order: "colour=Blue&size=M&size=S" (the key of a cached count)."""
        return "&".join(f"{name}={value}" for name in cls.COUNTED for value in sorted(data.getlist(name)))

    @property
    def active_filter_count(self) -> int:
        """How many of the COUNTED filters the shopper set (validly)."""
        data = self.form.cleaned_data if self.form.is_valid() else {}
        return sum(1 for key in self.COUNTED
                   if data.get(key) not in (None, "", [], False))
