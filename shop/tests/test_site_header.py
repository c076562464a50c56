"""Every storefront page's header and footer (templates/includes/header.html, footer.html), as a
guest, a customer and staff see them: their own links, the search words shown back, the cart
badge the cart script updates, the top-level categories, every name escaped."""
import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def links(page: str) -> dict[str, str]:
    """The page's links, text -> href (the last one of each text)."""
    return {" ".join(re.sub(r"<[^>]+>", " ", text).split()): href
            for href, text in re.findall(r'<a[^>]* href="([^"]*)"[^>]*>(.*?)</a>', page, re.S)}


def test_a_guest_a_customer_and_staff_each_see_their_own_links(client, django_user_model):
    from catalog.tests.factories import CategoryFactory

    CategoryFactory(name="Gear & <Bags>", slug="gear", path="gear", depth=1)
    page = client.get("/search/?q=" + "hood%3Cie%22").content.decode()
    assert 'value="hood&lt;ie&quot;"' in page and "<Bags>" not in page
    shown = links(page)
    assert shown["Gear &amp; &lt;Bags&gt;"] == "/c/gear/" and shown["Log in"] == reverse("login")
    assert "Sign up" in shown and "My orders" not in shown and "data-cart-count>0<" in page
    assert shown["Cart 0"] == shown["Cart"] == reverse("orders:cart")  # the header's badge, the footer's link
    assert shown["Search"] == reverse("catalog:search")  # the footer's link

    customer = django_user_model.objects.create_user(email="c@example.com", password="pw-long-enough-1")
    client.force_login(customer)
    page = client.get("/").content.decode()
    shown = links(page)
    assert "My orders" in shown and "My account" in shown and "Log in" not in shown and "Admin" not in shown
    assert re.search(f'<form action="{reverse("logout")}" method="post" class="inline">'
                     r'<input type="hidden" name="csrfmiddlewaretoken" value="\w+">', page)
    customer.is_staff = True
    customer.save()
    shown = links(client.get("/").content.decode())
    assert shown["Admin"] == reverse("admin:index") and "Staff" in shown


def test_the_shop_s_name_and_currency_are_escaped_in_the_header_and_footer(client, settings):
    settings.SHOP_NAME, settings.SHOP_CURRENCY = "A&B <Shop>", "GBP"
    page = client.get("/").content.decode()
    assert '<a class="brand" href="/">A&amp;B &lt;Shop&gt;</a>' in page
    assert "A&amp;B &lt;Shop&gt; &middot; prices in GBP" in page and "<Shop>" not in page
