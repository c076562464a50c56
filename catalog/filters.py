"""Storefront filters for product listings (django-filter).

Size, colour, price range and "in stock" all apply to the same variant: "M in Gray, in stock,
under $50" finds products that have one variant matching all four, not four different variants.
"""
import copy
import functools

import django_filters
from django import forms
from django.http import QueryDict
from django.utils.functional import cached_property

from .selectors import DEFAULT_SORT, RELEVANCE, SORTS, Facets, matching_variant_exists, sort_products


SORT_CHOICES = tuple((key, label) for key, (label, _) in SORTS.items())


class _SharedFields(dict):
    """A filter form class's base_fields, which its forms share. BaseForm.__init__ gives every form
    a deep copy of base_fields, so that a form may change its fields; copying the dict only is
    enough here, because cleaning only reads fields and a ProductFilter replaces, never changes,
    the fields whose choices depend on the listing (_offering)."""

    def __deepcopy__(self, memo):
        return dict(self)


@functools.lru_cache(maxsize=256)
def _offering(field: forms.ChoiceField, choices: tuple) -> forms.ChoiceField:
    """A copy of `field` offering `choices`, made once and then shared like the form's other fields
    (a listing offers the same facets until they change). A shallow copy with its own widget is
    enough: setting choices replaces the choices of the field and of its widget, and nothing
    changes a field's other attributes."""
    copied = copy.copy(field)
    copied.widget = copy.copy(field.widget)
    copied.choices = choices
    return copied


class _ChoiceFilter(django_filters.ChoiceFilter):
    """A ChoiceFilter on Django's own ChoiceField. django-filter's field re-normalizes its choices
    every time they are read (some 8 µs for a handful: validating, and listing them in the filter
    form, `{% filter_form %}`), to add an empty or a null choice, which ours do not offer."""

    field_class = forms.ChoiceField


class _MultipleChoiceFilter(django_filters.MultipleChoiceFilter):
    """A MultipleChoiceFilter on Django's own MultipleChoiceField (see _ChoiceFilter)."""

    field_class = forms.MultipleChoiceField


class ProductFilter(django_filters.FilterSet):
    """Filters and sorting for a category or search listing. Pass `facets` to offer only the
    sizes and colours present in that listing."""

    size = _MultipleChoiceFilter(
        choices=[], method="_noop", widget=forms.CheckboxSelectMultiple, label="Size")
    colour = _MultipleChoiceFilter(
        choices=[], method="_noop", widget=forms.CheckboxSelectMultiple, label="Colour")
    min_price = django_filters.NumberFilter(method="_noop", label="Min price", min_value=0)
    max_price = django_filters.NumberFilter(method="_noop", label="Max price", min_value=0)
    in_stock = django_filters.BooleanFilter(method="_noop", widget=forms.CheckboxInput, label="In stock only")
    sort = _ChoiceFilter(choices=SORT_CHOICES, method="_noop", label="Sort by")

    COUNTED = ("size", "colour", "min_price", "max_price", "in_stock")  # the parameters that change what is counted

    def __init__(self, data=None, queryset=None, *, facets: Facets | None = None,
                 default_sort: str = DEFAULT_SORT, request=None, prefix=None):
        # BaseFilterSet.__init__ (django-filter 26.2) but for its deep copy of every filter, which
        # costs more than the rest of the filterset together: see `filters`.
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.default_sort = default_sort
        fields = self.form.fields
        if default_sort == RELEVANCE:
            fields["sort"] = _offering(fields["sort"], ((RELEVANCE, "Best match"), *SORT_CHOICES))
        if facets is not None:
            fields["size"] = _offering(fields["size"], tuple((s, s) for s in facets.sizes))
            fields["colour"] = _offering(fields["colour"], tuple((c, c) for c in facets.colours))

    @cached_property
    def filters(self) -> dict:
        """django-filter's per-filterset copies of the filters, bound to this filterset, made only
        when asked for: filter_queryset applies the cleaned data itself and never needs them."""
        filters = copy.deepcopy(self.base_filters)
        for filter_ in filters.values():
            filter_.model = self.queryset.model
            filter_.parent = self
        return filters

    def get_form_class(self):
        """The filter form's class, built once: django-filter builds a new class, with new fields,
        for every request. Its forms share its fields (_SharedFields)."""
        cls = type(self)
        if cls.__dict__.get("_form_class") is None:
            fields = {name: filter_.field for name, filter_ in self.base_filters.items()}
            form_class = type(f"{cls.__name__}Form", (self._meta.form,), fields)
            form_class.base_fields = _SharedFields(form_class.base_fields)
            cls._form_class = form_class
        return cls._form_class

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
        if data.get("min_price") is not None:
            conditions["effective_price__gte"] = data["min_price"]
        if data.get("max_price") is not None:
            conditions["effective_price__lte"] = data["max_price"]
        if data.get("in_stock"):
            conditions["stock__gt"] = 0
        if conditions:
            queryset = queryset.filter(matching_variant_exists(**conditions))
        return queryset if self.chosen_sort == RELEVANCE else sort_products(queryset, self.chosen_sort)

    @property
    def chosen_sort(self) -> str:
        """The chosen sort (a SORTS key, or RELEVANCE on search pages): the listing's default
        when none was chosen or the choice was refused."""
        self.form.is_valid()  # cleans once
        return self.form.cleaned_data.get("sort") or self.default_sort

    @property
    def sql_shape(self) -> str:
        """Everything the filtered, sorted listing's SQL takes from this filter: the cleaned
        choices and the default sort, as text (catalog.pagination.keyset_page's `shape`)."""
        self.form.is_valid()
        return f"{self.default_sort}|{sorted(self.form.cleaned_data.items())!r}"

    @cached_property
    def shown(self) -> dict:
        """The shopper's choices as the filter form shows them back (`{% filter_form %}`, in
        catalog/templatetags/shop.py, writes the form's HTML itself: Django's widget templates cost
        more than the whole product grid). {"sort": str, "size"/"colour": set of str,
        "min_price"/"max_price": the text as typed, "in_stock": bool, "invalid": names of the fields
        whose value was refused}."""
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
        data = self.form.cleaned_data if self.form.is_valid() else {}
        return sum(1 for key in self.COUNTED
                   if data.get(key) not in (None, "", [], False))
