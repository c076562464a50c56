"""`{% static %}` as a template builtin (shop.templatetags.cached_static): Django's output, with the
URL remembered only where the storage's answer cannot change."""
import pytest
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage, StaticFilesStorage
from django.template import engines
from django.templatetags.static import static

from shop.templatetags import cached_static as module


class CountingManifest(ManifestStaticFilesStorage):
    """A strict manifest storage with a known manifest, counting its url() calls."""

    calls = 0

    def read_manifest(self):
        return '{"paths": {"css/shop.css": "css/shop.1a2b.css"}, "version": "1.1", "hash": "x"}'

    def url(self, name, force=False):
        type(self).calls += 1
        return super().url(name, force)


@pytest.fixture
def storage(settings, monkeypatch):
    settings.DEBUG = False
    CountingManifest.calls = 0
    made = CountingManifest(location="/nonexistent", base_url="/static/")
    monkeypatch.setattr(module, "storages", {"staticfiles": made})
    module._manifest_url.cache_clear()
    return made


def test_the_builtin_tag_writes_what_djangos_writes_and_asks_the_storage_once(storage, monkeypatch):
    monkeypatch.setattr("django.contrib.staticfiles.storage.staticfiles_storage._wrapped", storage)
    html = engines["django"].from_string("{% static 'css/shop.css' %} {% static 'css/shop.css' as u %}{{ u }}")
    assert html.render({}) == "/static/css/shop.1a2b.css /static/css/shop.1a2b.css"
    assert html.render({}) == html.render({}) and CountingManifest.calls == 1
    assert static("css/shop.css") == "/static/css/shop.1a2b.css"


def test_a_file_missing_from_the_manifest_raises_each_time(storage, monkeypatch):
    monkeypatch.setattr("django.contrib.staticfiles.storage.staticfiles_storage._wrapped", storage)
    for _ in range(2):
        with pytest.raises(ValueError):
            module.cached_static("css/missing.css")
    assert CountingManifest.calls == 2


def test_debug_or_a_storage_without_a_strict_manifest_is_asked_every_time(storage, settings, monkeypatch):
    monkeypatch.setattr("django.contrib.staticfiles.storage.staticfiles_storage._wrapped", storage)
    settings.DEBUG = True
    module.cached_static("css/shop.css"), module.cached_static("css/shop.css")
    assert CountingManifest.calls == 2
    settings.DEBUG = False
    storage.manifest_strict = False
    module.cached_static("css/shop.css"), module.cached_static("css/shop.css")
    assert CountingManifest.calls == 4
    plain = StaticFilesStorage(location="/nonexistent", base_url="/static/")
    monkeypatch.setattr(module, "storages", {"staticfiles": plain})
    monkeypatch.setattr("django.contrib.staticfiles.storage.staticfiles_storage._wrapped", plain)
    assert module.cached_static("css/shop.css") == "/static/css/shop.css"
