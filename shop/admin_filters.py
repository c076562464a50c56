"""Admin pieces shared by the apps' back offices (issue 24: the back office at real scale)."""
from django.contrib import admin
from django.core.cache import cache
from django.core.paginator import Paginator
from django.utils.functional import cached_property

from .sources import Source


class SourceListFilter(admin.SimpleListFilter):
    """The change list shows the live web shop by default; the imported history, or everything,
    on request. A search with no source chosen looks through everything (an order number from the
    history is found from the default list)."""

    title = "source"
    parameter_name = "source"
    EVERYTHING = "all"

    def lookups(self, request, model_admin):
        return [(Source.ONLINE_RETAIL, Source.ONLINE_RETAIL.label), (self.EVERYTHING, "Everything")]

    def choices(self, changelist):
        yield {"selected": self.value() is None, "display": Source.WEB.label,
               "query_string": changelist.get_query_string(remove=[self.parameter_name])}
        for value, title in self.lookup_choices:
            yield {"selected": self.value() == str(value), "display": title,
                   "query_string": changelist.get_query_string({self.parameter_name: value})}

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.EVERYTHING or (value is None and request.GET.get(admin.views.main.SEARCH_VAR)):
            return queryset
        return queryset.filter(source=value if value in Source.values else Source.WEB)


def cached_values_filter(field: str, title: str, seconds: int = 600) -> type[admin.SimpleListFilter]:
    """A list filter on the distinct values of `field` (as Django's AllValuesFieldListFilter, with
    the same `<field>__exact` parameter), whose choices are read once per `seconds` from the cache
    instead of by a DISTINCT over the whole table on every view of the list. A value first seen
    within that time shows up in the choices at the next read; filtering by it works at once."""

    class CachedValuesFilter(admin.SimpleListFilter):
        parameter_name = f"{field}__exact"

        def lookups(self, request, model_admin):
            model = model_admin.model
            key = f"admin-filter-values:{model._meta.label_lower}:{field}"
            values = cache.get(key)
            if values is None:
                values = list(model._default_manager.order_by(field).values_list(field, flat=True).distinct())
                cache.set(key, values, seconds)
            return [(value, value) for value in values]

        def queryset(self, request, queryset):
            value = self.value()
            return queryset if value is None else queryset.filter(**{field: value})

    CachedValuesFilter.title = title
    CachedValuesFilter.__name__ = CachedValuesFilter.__qualname__ = f"{field.title().replace('_', '')}Filter"
    return CachedValuesFilter


class AtLeast(int):
    """A row count known only to be at least this many: compares as the number, shows as "10,000+"."""

    def __str__(self) -> str:
        return f"{int(self):,}+"


class CappedCountPaginator(Paginator):
    """A change list paginator that counts at most CAP matching rows (COUNT over a LIMIT CAP + 1
    subquery, an index range read that stops there), so a list costs the same over 10 thousand or
    10 million matches. Beyond CAP the count is AtLeast(CAP) ("10,000+ orders") and the pages
    cover the first CAP rows; a filter or a search narrows the list to the rest."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        counted = self.object_list.order_by()[: self.CAP + 1].count()
        return AtLeast(self.CAP) if counted > self.CAP else counted
