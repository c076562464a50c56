"""reverse(), remembered per process, for get_absolute_url() and product card links.

A URL's path depends only on the URL name, its arguments, the current app, the URLconf, the script
prefix and the active language (i18n_patterns put it in the path); reversing one costs about 15 µs
and a storefront page reverses a dozen or more (every category link in the header, breadcrumbs).
`cached_reverse` keeps the last 4,096 answers, keyed on all of those. NoReverseMatch is raised as by
reverse() and never kept. Templates use Django's own `{% url %}`.
"""
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language


@lru_cache(maxsize=4096)
def _reverse(viewname: str, args: tuple, kwargs: tuple, current_app: str | None, urlconf, prefix: str,
             root_urlconf, language: str | None) -> str:
    return reverse(viewname, args=args, kwargs=dict(kwargs), current_app=current_app)


def cached_reverse(viewname: str, args=(), kwargs=None, current_app: str | None = None) -> str:
    """reverse(viewname, args, kwargs, current_app) as a path ("/c/men/"), remembered. Arguments
    that cannot be remembered (unhashable ones) are reversed each time."""
    try:
        return _reverse(viewname, tuple(args), tuple(sorted((kwargs or {}).items())), current_app, get_urlconf(),
                        get_script_prefix(), settings.ROOT_URLCONF, get_language())
    except TypeError:  # an unhashable argument
        return reverse(viewname, args=args, kwargs=kwargs, current_app=current_app)


def _forget(*, setting, **kwargs):
    if setting in ("ROOT_URLCONF", "FORCE_SCRIPT_NAME"):
        _reverse.cache_clear()


setting_changed.connect(_forget)
