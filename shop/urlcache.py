"""reverse(), remembered per process.

A URL's path depends only on the URL name, its arguments, the URLconf and the script prefix, none
of which change while a process runs; reversing one costs about 15 µs, and a storefront page
reverses a dozen or more (header, footer, every category link). `cached_reverse` keeps the last
4,096 answers, keyed on all of those. NoReverseMatch is raised as by reverse() and never kept.
The `{% url %}` tag of every template uses it (shop.templatetags.cached_url, a template builtin).
"""
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.urls import get_script_prefix, get_urlconf, reverse


@lru_cache(maxsize=4096)
def _reverse(viewname: str, args: tuple, kwargs: tuple, current_app: str | None, urlconf, prefix: str,
             root_urlconf) -> str:
    return reverse(viewname, args=args, kwargs=dict(kwargs), current_app=current_app)


def cached_reverse(viewname: str, args=(), kwargs=None, current_app: str | None = None) -> str:
    """reverse(viewname, args, kwargs, current_app) as a path ("/c/men/"), remembered. Arguments
    that cannot be remembered (unhashable ones) are reversed each time."""
    try:
        return _reverse(viewname, tuple(args), tuple(sorted((kwargs or {}).items())), current_app, get_urlconf(),
                        get_script_prefix(), settings.ROOT_URLCONF)
    except TypeError:  # an unhashable argument
        return reverse(viewname, args=args, kwargs=kwargs, current_app=current_app)


def _forget(*, setting, **kwargs):
    if setting in ("ROOT_URLCONF", "FORCE_SCRIPT_NAME"):
        _reverse.cache_clear()


setting_changed.connect(_forget)
