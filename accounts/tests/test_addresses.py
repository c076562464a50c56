"""The address book checks and writes addresses per country, as checkout does (issue 23)."""
import html
import re

import pytest
from django.urls import reverse

from accounts.models import Address
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HOME = {"name": "Homer Simpson", "line1": "742 Evergreen Terrace", "city": "Springfield", "postcode": "62701",
        "region": "Illinois", "country": "US"}


def test_an_address_is_checked_against_its_country_and_shown_as_it_writes_it(client):
    client.force_login(UserFactory())
    refused = client.post(reverse("address_new"), {**HOME, "region": "", "postcode": "6270"})
    assert refused.status_code == 200
    assert refused.context["form"].errors == {
        "region": ["Enter the state."],
        "postcode": ["This is not a valid ZIP code for United States (for example 95014)."]}
    assert "Enter the state." in refused.content.decode()

    client.post(reverse("address_new"), HOME)
    saved = Address.objects.get()
    assert (saved.region, saved.postcode) == ("IL", "62701")
    client.post(reverse("address_new"), {"name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London",
                                         "postcode": "sw1y 4jh", "country": "GB"})
    page = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", client.get(reverse("address_list")).content.decode())))
    assert "Homer Simpson 742 Evergreen Terrace Springfield, IL 62701 United States" in page
    assert "Ada Lovelace 12 St James's Square London SW1Y 4JH United Kingdom" in page


def test_a_saved_address_fills_the_checkout_with_its_state(client):
    from catalog.tests.factories import VariantFactory

    user = UserFactory()
    client.force_login(user)
    client.post(reverse("address_new"), HOME)
    variant = VariantFactory()
    client.post(reverse("orders:cart_add"), {"product": variant.product_id, "quantity": 1})
    form = client.get(reverse("orders:checkout")).context["form"]
    assert (form["shipping_region"].value(), form["shipping_postcode"].value()) == ("IL", "62701")
