"""{% site_header %} and {% site_footer %} write what templates/includes/header.html and footer.html
wrote, byte for byte, and the pages show the header a shopper expects for who they are."""
import itertools

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.test import RequestFactory

from catalog.templatetags.shop import site_footer, site_header

OLD_TEMPLATE = """<header class="site-header">
  <div class="container header-row">
    <a class="brand" href="{% url 'home' %}">{{ SHOP_NAME }}</a>
    <form class="search" action="{% url 'catalog:search' %}" method="get" role="search">
      <label class="visually-hidden" for="search-q">Search products</label>
      <input id="search-q" type="search" name="q" value="{{ query|default:'' }}" placeholder="Search products">
      <button type="submit">Search</button>
    </form>
    <nav class="account-nav" aria-label="Account">
      {% if user.is_authenticated %}
        <a href="{% url 'account' %}">My account</a>
        <a href="{% url 'orders:order_list' %}">My orders</a>
        {% if user.is_staff %}<a href="{% url 'analytics:staff_dashboard' %}">Staff</a> <a href="{% url 'admin:index' %}">Admin</a>{% endif %}
        <form action="{% url 'logout' %}" method="post" class="inline">{% csrf_token %}<button class="link" type="submit">Log out</button></form>
      {% else %}
        <a href="{% url 'login' %}">Log in</a>
        <a href="{% url 'signup' %}">Sign up</a>
      {% endif %}
      <a href="{% url 'wishlist' %}">Wishlist</a>
      <a class="cart-link" href="{% url 'orders:cart' %}">Cart <span class="badge" data-cart-count>{{ cart_item_count }}</span></a>
    </nav>
  </div>
  <nav class="container category-nav" aria-label="Categories">
    {% for category in nav_categories %}<a href="{{ category.get_absolute_url }}">{{ category.name }}</a>{% endfor %}
  </nav>
</header>
"""

OLD_FOOTER = """<footer class="site-footer">
  <div class="container">
    <p>{{ SHOP_NAME }} &middot; prices in {{ SHOP_CURRENCY }} &middot; <a href="{% url 'orders:cart' %}">Cart</a> &middot; <a href="{% url 'catalog:search' %}">Search</a></p>
  </div>
</footer>
"""


def test_the_footer_matches_the_old_template():
    for name, currency in [("iShop", "USD"), ("A&B <Shop>", '"GBP"')]:
        context = Context({"SHOP_NAME": name, "SHOP_CURRENCY": currency})
        context.request = RequestFactory().get("/")
        assert site_footer(context) == Template(OLD_FOOTER).render(context)
    assert site_footer(Context()) == Template(OLD_FOOTER).render(Context())


class Category:
    def __init__(self, name: str, path: str):
        self.name, self.path = name, path

    def get_absolute_url(self) -> str:
        return f"/c/{self.path}/"


class User:
    is_authenticated = True

    def __init__(self, is_staff: bool):
        self.is_staff = is_staff


MISSING = object()


@pytest.mark.filterwarnings("ignore:Calling format_html")  # Django's own {% csrf_token %} with NOTPROVIDED
def test_the_header_matches_the_old_template_for_every_kind_of_page_and_shopper():
    old = Template(OLD_TEMPLATE)
    users = [MISSING, None, AnonymousUser(), User(is_staff=False), User(is_staff=True)]
    queries = [MISSING, "", None, "hoodie", 'a<b&"c\'', "0"]
    counts = [MISSING, 0, 3, lambda: 7]
    navs = [MISSING, [], lambda: [Category("Men", "men")],
            [Category("Gear & <Bags>", "gear"), Category('"Sale"', "a&b")]]
    names = ["iShop", "A&B <Shop>"]
    tokens = [MISSING, "NOTPROVIDED", "tok<en>"]
    checked = 0
    for user, query, count, nav, name, token in itertools.product(users, queries, counts, navs, names, tokens):
        values = {"user": user, "query": query, "cart_item_count": count, "nav_categories": nav, "SHOP_NAME": name,
                  "csrf_token": token}
        context = Context({key: value for key, value in values.items() if value is not MISSING})
        context.request = RequestFactory().get("/")
        assert site_header(context) == old.render(context), values
        checked += 1
    assert checked == 5 * 6 * 4 * 4 * 2 * 3


@pytest.mark.django_db
def test_a_guest_a_customer_and_staff_each_see_their_own_links(client, django_user_model):
    from catalog.tests.factories import CategoryFactory

    CategoryFactory(name="Gear & Bags", slug="gear", path="gear", depth=1)
    page = client.get("/search/?q=" + "hood%3Cie").content.decode()
    assert 'value="hood&lt;ie"' in page and ">Log in</a>" in page and ">My orders</a>" not in page
    assert '<a href="/c/gear/">Gear &amp; Bags</a>' in page and "data-cart-count>0<" in page
    customer = django_user_model.objects.create_user(email="c@example.com", password="pw-long-enough-1")
    client.force_login(customer)
    page = client.get("/").content.decode()
    assert ">My orders</a>" in page and 'name="csrfmiddlewaretoken"' in page and ">Admin</a>" not in page
    customer.is_staff = True
    customer.save()
    assert ">Admin</a>" in client.get("/").content.decode()
