"""get_absolute_url() and card links go through shop.urlcache: the same paths as Django's reverse(),
remembered, and still correct when the script prefix, the URLconf or the language changes."""
import pytest
from django.urls import NoReverseMatch, reverse, set_script_prefix
from django.utils import translation

from shop.urlcache import cached_reverse


def test_the_remembered_path_is_django_s_and_an_unknown_name_fails_loudly():
    for _ in range(2):  # the second time from the cache
        assert cached_reverse("catalog:category", kwargs={"path": "men/tops"}) == reverse(
            "catalog:category", kwargs={"path": "men/tops"})
    with pytest.raises(NoReverseMatch):
        cached_reverse("no-such-page")


def test_a_new_script_prefix_urlconf_or_language_gives_new_paths(settings):
    assert cached_reverse("orders:cart") == "/cart/"
    set_script_prefix("/shop/")
    try:
        assert cached_reverse("orders:cart") == "/shop/cart/"
    finally:
        set_script_prefix("/")
    settings.ROOT_URLCONF = "shop.tests.test_urlcache"
    with translation.override("fr"):
        assert cached_reverse("page") == "/fr/page/"
    with translation.override("en"):
        assert cached_reverse("page") == "/en/page/"


def _page(request):  # pragma: no cover - only reversed
    raise AssertionError


from django.conf.urls.i18n import i18n_patterns  # noqa: E402
from django.urls import path  # noqa: E402

urlpatterns = i18n_patterns(path("page/", _page, name="page"))
