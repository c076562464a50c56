"""Recommendations that follow the shop (issue 27): "also bought" updated for what sold since
beat's last run, exactly as a full build would store it; the API's cached answers dropping a
product the moment it sells out or a rule changes; personal picks seeded by what a customer viewed,
and consumables offered again."""
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from analytics import events
from catalog.services import set_stock
from orders.tests.factories import cart_with, checkout_details
from payments.testing import place_paid_order
from recommendations import tasks
from recommendations.models import Recommendation, Rule
from recommendations.tests.test_api import URL, built, names  # noqa: F401 - fixture
from recommendations.tests.test_recommendations import buy, shop  # noqa: F401 - fixture


def stored(product) -> list[tuple]:
    return [(name, round(score, 9), reason) for name, score, reason in Recommendation.objects.filter(
        product=product, kind="also_bought").order_by("rank").values_list("recommended__name", "score", "reason")]


def test_new_sales_update_also_bought_as_a_full_build_would(shop):  # noqa: F811
    for index in range(3):
        buy("Storm Jacket", "Wool Socks", products=shop, key=f"pair-{index}")
    call_command("build_recommendations", "--no-progress")
    assert [name for name, _, _ in stored(shop["Storm Jacket"])] == ["Wool Socks"]
    for index in range(4):  # the jacket now sells with the shell, more often than with the socks
        buy("Storm Jacket", "Rain Shell", products=shop, key=f"shell-{index}")
    assert tasks.update_recommendations(seconds=600) > 0  # what beat runs every 5 minutes
    incremental = {name: stored(shop[name]) for name in ("Storm Jacket", "Rain Shell", "Wool Socks")}
    assert [(name, reason) for name, _, reason in incremental["Storm Jacket"]] == [
        ("Rain Shell", "Bought together with Storm Jacket by 4 customers"),
        ("Wool Socks", "Bought together with Storm Jacket by 3 customers")]
    call_command("build_recommendations", "--no-progress")
    assert {name: stored(shop[name]) for name in incremental} == incremental


def test_cached_answers_drop_a_product_once_it_sells_out_or_staff_block_it(built, django_assert_max_num_queries):
    shop, _, client = built
    question = {"product_id": shop["Storm Jacket"].pk, "limit": 2}
    assert names(client.post(URL, question, format="json").json()) == ["Wool Socks", "Rain Shell"]
    with django_assert_max_num_queries(2):  # the caller and the session; the answer comes from the cache
        assert names(client.post(URL, question, format="json").json()) == ["Wool Socks", "Rain Shell"]
    set_stock(variant=shop["Wool Socks"].variants.get(), stock=0)
    assert names(client.post(URL, question, format="json").json()) == ["Rain Shell"]
    Rule.objects.create(product=shop["Storm Jacket"], recommended=shop["Rain Shell"], action=Rule.Action.BLOCK)
    assert names(client.post(URL, question, format="json").json()) == []


def test_personal_picks_follow_what_a_customer_viewed_and_offer_consumables_again(shop, settings):  # noqa: F811
    settings.RECOMMENDATIONS_PERSONAL_CACHE_SECONDS = 0
    for index in range(3):
        buy("Storm Jacket", "Wool Socks", products=shop, key=f"pair-{index}")
    call_command("build_recommendations", "--no-progress")
    viewer = UserFactory(email="viewer@example.com")
    client = APIClient()
    client.force_authenticate(viewer)
    personal = {"user_id": viewer.pk, "algorithm": "personal", "limit": 3}
    assert client.post(URL, personal, format="json").json()["algorithm_used"] == "popular"  # nothing known yet
    events.record(events.Event.Type.PRODUCT_VIEWED, user_id=viewer.pk, data={"product_id": shop["Storm Jacket"].pk})
    events.flush()
    body = client.post(URL, personal, format="json").json()
    assert names(body)[0] == "Wool Socks" and "Storm Jacket" not in names(body)  # seen: not offered again

    socks = shop["Wool Socks"]
    place_paid_order(cart=cart_with((socks.variants.get(), 1)), customer=viewer, details=checkout_details(),
                     idempotency_key="viewer-socks")
    assert "Wool Socks" not in names(client.post(URL, personal, format="json").json())  # bought: left out
    socks.is_consumable = True
    socks.save()
    assert "Wool Socks" in names(client.post(URL, personal, format="json").json())  # but a consumable comes back
