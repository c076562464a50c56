"""The `{% url %}` tag, answered by shop.urlcache.cached_reverse (a template builtin, see TEMPLATES
in settings): the same syntax and output as Django's own tag, without reversing the same URL again.

A URL with a literal name and no arguments (`{% url 'home' %}`: most of a page's, in the header and
footer) is read from a FixedURLs table, escaped as a page prints it, kept per current app, URLconf,
script prefix and ROOT_URLCONF: everything a reversal depends on. Such a node cost ~8 us a render,
now ~3."""
from django import template
from django.conf import settings
from django.template import defaulttags
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf
from django.utils.html import conditional_escape

from shop.urlcache import cached_reverse

register = template.Library()

_UNSET = object()
_fixed: dict[tuple, dict[str, str]] = {}  # (app, URLconf, prefix, ROOT_URLCONF) -> {URL name: escaped path}


def current_app(context) -> str | None:
    """The current app a `{% url %}` reverses for, as Django's URLNode finds it: the request's
    current_app, else the namespace it was resolved in, else None."""
    request = getattr(context, "request", None)
    app = getattr(request, "current_app", _UNSET)
    return getattr(getattr(request, "resolver_match", None), "namespace", None) if app is _UNSET else app


class FixedURLs:
    """`urls[name]`: the escaped path of the URL `name` (no arguments) for one current app, URLconf,
    script prefix and ROOT_URLCONF, reversed once per process. NoReverseMatch is raised, as
    reverse() raises it, and nothing kept."""

    __slots__ = ("app", "known")

    def __init__(self, app: str | None):
        self.app = app
        self.known = _fixed.setdefault((app, get_urlconf(), get_script_prefix(), settings.ROOT_URLCONF), {})

    def __getitem__(self, name: str) -> str:
        url = self.known.get(name)
        if url is None:
            url = self.known[name] = conditional_escape(cached_reverse(name, current_app=self.app))
        return url


class CachedURLNode(defaulttags.URLNode):
    """Django's URLNode with the reversal remembered (`fixed`: the literal view name of a node
    without arguments, else None)."""

    fixed: str | None = None

    def render(self, context):
        app = current_app(context)
        if self.fixed is not None and self.asvar is None and context.autoescape:
            return FixedURLs(app)[self.fixed]
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {k: v.resolve(context) for k, v in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        url = ""
        try:
            url = cached_reverse(view_name, args=args, kwargs=kwargs, current_app=app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    """{% url 'name' arg1 key=value [as var] %}, as Django's, remembered (shop.urlcache)."""
    node = defaulttags.url(parser, token)
    node.__class__ = CachedURLNode
    name = node.view_name
    if not node.args and not node.kwargs and isinstance(name.var, str) and not name.filters:
        node.fixed = str(name.var)
    return node
