"""The `{% static %}` tag, answered by cached_static (a template builtin, see TEMPLATES in
settings): the same syntax and output as Django's own tag, without asking the storage again.

A storage that names files from a manifest (ManifestStaticFilesStorage, WhiteNoise's compressed
one) reads the manifest once, when it is made: with DEBUG off and a strict manifest, its URL for a
path cannot change while that storage exists, and working it out costs about 18 us (three a page
in base.html). So those answers are kept, keyed on the storage object too (settings changes make a
new one). Otherwise (DEBUG, a plain StaticFilesStorage, a manifest that may be missed and the file
hashed instead) every call asks the storage, as Django does. A builtin is replaced by Django's own
tag in a template that says `{% load static %}`: storefront templates do not load it.
"""
from functools import lru_cache

from django import template
from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.templatetags.static import StaticNode, do_static, static

register = template.Library()


@lru_cache(maxsize=1024)
def _manifest_url(storage: ManifestFilesMixin, path: str) -> str:
    return storage.url(path)


@lru_cache(maxsize=8)
def _remembers(storage, debug: bool) -> bool:
    """Whether `storage`'s URLs may be remembered (see above); apps.is_installed walks every app,
    so this is worked out once per storage (and again when INSTALLED_APPS change)."""
    return (not debug and apps.is_installed("django.contrib.staticfiles") and isinstance(storage, ManifestFilesMixin)
            and storage.manifest_strict)


def cached_static(path: str) -> str:
    """static(path), the public URL of a static file ("css/shop.css" -> "/static/css/shop.1a2b.css"),
    remembered where the storage's answer cannot change (see above). Raises as static() does (a
    file missing from a strict manifest: ValueError, never remembered)."""
    storage = storages["staticfiles"]
    if _remembers(storage, settings.DEBUG):
        return _manifest_url(storage, path)
    return static(path)


def _forget(*, setting, **kwargs):
    if setting == "INSTALLED_APPS":
        _remembers.cache_clear()


setting_changed.connect(_forget)


class CachedStaticNode(StaticNode):
    """Django's StaticNode with the URL remembered."""

    @classmethod
    def handle_simple(cls, path):
        return cached_static(path)


@register.tag("static")
def static_tag(parser, token):
    """{% static "path" [as var] %}, as Django's, remembered (cached_static)."""
    node = do_static(parser, token)
    node.__class__ = CachedStaticNode
    return node
