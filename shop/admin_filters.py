"""Admin pieces shared by the apps' back offices (issue 24: the back office at real scale)."""
from django.contrib import admin

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
