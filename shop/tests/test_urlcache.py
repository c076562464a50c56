"""{% url %} and get_absolute_url() go through shop.urlcache: the same paths as Django's reverse(),
remembered, and still correct when the script prefix or the URLconf changes."""
import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.urls import NoReverseMatch, reverse, set_script_prefix

from shop.templatetags.cached_url import CachedURLNode
from shop.urlcache import cached_reverse


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def test_the_url_tag_is_the_remembering_one_and_gives_django_s_paths():
    template = Template("{% url 'catalog:category' path=path %}|{% url 'orders:cart' %}|{% url 'home' as home %}[{{ home }}]")
    assert any(isinstance(node, CachedURLNode) for node in template.nodelist)
    for _ in range(2):  # the second time from the cache
        assert template.render(Context({"path": "men/tops"})) == (
            f"{reverse('catalog:category', kwargs={'path': 'men/tops'})}|{reverse('orders:cart')}|[{reverse('home')}]")
    assert render("{% url 'catalog:category' path=p %}", p="a&b") == "/c/a&amp;b/"  # escaped as Django's


def test_an_unknown_url_still_fails_loudly_unless_assigned():
    with pytest.raises(NoReverseMatch):
        render("{% url 'no-such-page' %}")
    with pytest.raises(NoReverseMatch):
        cached_reverse("no-such-page")
    assert render("{% url 'no-such-page' as missing %}[{{ missing }}]") == "[]"
    with pytest.raises(TemplateSyntaxError):
        Template("{% url %}")


def test_a_new_script_prefix_or_urlconf_gives_new_paths(settings):
    assert cached_reverse("orders:cart") == "/cart/"
    set_script_prefix("/shop/")
    try:
        assert cached_reverse("orders:cart") == "/shop/cart/"
    finally:
        set_script_prefix("/")
    settings.ROOT_URLCONF = "shop.tests.test_urlcache"
    with pytest.raises(NoReverseMatch):
        cached_reverse("orders:cart")


def test_a_url_with_a_literal_name_kept_on_its_node_follows_the_prefix_the_urlconf_and_the_app(settings):
    template = Template("{% url 'orders:cart' %}{% autoescape off %}|{% url 'orders:cart' %}{% endautoescape %}")
    fixed = [node for node in template.nodelist if isinstance(node, CachedURLNode)][0]
    assert fixed.fixed == "orders:cart"
    assert template.render(Context()) == "/cart/|/cart/"
    set_script_prefix("/shop/")
    try:
        assert template.render(Context()) == "/shop/cart/|/shop/cart/"
    finally:
        set_script_prefix("/")
    assert template.render(Context()) == "/cart/|/cart/"
    settings.ROOT_URLCONF = "shop.tests.test_urlcache"
    with pytest.raises(NoReverseMatch):
        template.render(Context())


urlpatterns = []  # the URLconf of the last test: nothing to reverse
