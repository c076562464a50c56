"""The `{% url %}` tag, answered by shop.urlcache.cached_reverse (a template builtin, see TEMPLATES
in settings): the same syntax and output as Django's own tag, without reversing the same URL again."""
from django import template
from django.template import defaulttags
from django.urls import NoReverseMatch
from django.utils.html import conditional_escape

from shop.urlcache import cached_reverse

register = template.Library()


class CachedURLNode(defaulttags.URLNode):
    """Django's URLNode with the reversal remembered."""

    def render(self, context):
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {k: v.resolve(context) for k, v in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
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
    return node
