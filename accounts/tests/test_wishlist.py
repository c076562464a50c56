"""Wishlist through the client: add from the product page, remove, move to the cart; a guest's
list lives in the session and merges at login; a wishlisted variant coming back in stock sends
one email (a Celery task), whichever path restocks it; so does a product wished without a size."""
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse

from accounts.models import WishlistItem
from accounts.tests.factories import UserFactory
from catalog import services as catalog
from catalog.models import Variant
from catalog.tests.factories import ProductFactory, VariantFactory
from orders import services as orders
from orders.models import CartLine
from orders.tests.factories import cart_with, checkout_details
from payments.testing import place_paid_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def tee():
    product = ProductFactory(name="Tiberius Tee")
    return {
        "S": VariantFactory(product=product, sku="TT-S", size="S", colour="Blue", stock=0, price=Decimal("30.00")),
        "M": VariantFactory(product=product, sku="TT-M", size="M", colour="Blue", stock=4, price=Decimal("30.00")),
    }


def wish(client, variant, **extra):
    data = {"product": variant.product_id, "size": variant.size, "colour": variant.colour, "quantity": 1}
    return client.post(reverse("wishlist_add"), {**data, **extra}, follow=True)


def test_product_page_adds_the_chosen_size_and_shows_it_on_the_wishlist(client, tee):
    client.force_login(UserFactory())
    page = client.get(tee["S"].product.get_absolute_url()).content.decode()
    assert "Add to wishlist" in page and 'formaction="/accounts/wishlist/add/"' in page
    response = wish(client, tee["S"])
    assert "Added to your wishlist." in response.content.decode()
    assert "Tiberius Tee" in response.content.decode() and "S / Blue" in response.content.decode()
    assert "It is already on your wishlist." in wish(client, tee["S"]).content.decode()
    assert WishlistItem.objects.get().awaiting_restock  # sold out when wished for
    assert "On your wishlist" in client.get(tee["S"].product.get_absolute_url()).content.decode()
    # The product without a size choice is a separate, product-level item.
    client.post(reverse("wishlist_add"), {"product": tee["S"].product_id})
    assert WishlistItem.objects.count() == 2


def test_remove_and_move_to_cart(client, tee):
    user = UserFactory()
    client.force_login(user)
    wish(client, tee["M"])
    wish(client, tee["S"])
    page = client.post(reverse("wishlist_to_cart"), {"product": tee["M"].product_id, "variant": tee["M"].pk},
                       follow=True)
    assert "Moved Tiberius Tee to your cart." in page.content.decode()
    assert list(CartLine.objects.filter(cart__customer=user).values_list("variant_id", "quantity")) == [(tee["M"].pk, 1)]
    sold_out = client.post(reverse("wishlist_to_cart"), {"product": tee["S"].product_id, "variant": tee["S"].pk},
                           follow=True)
    assert "sold out" in sold_out.content.decode()
    assert WishlistItem.objects.filter(user=user, variant=tee["S"]).exists()  # kept: it did not move
    client.post(reverse("wishlist_remove"), {"product": tee["S"].product_id, "variant": tee["S"].pk})
    assert not WishlistItem.objects.filter(user=user).exists()
    # A product-level item of a product with sizes asks for a choice first.
    client.post(reverse("wishlist_add"), {"product": tee["S"].product_id})
    page = client.post(reverse("wishlist_to_cart"), {"product": tee["S"].product_id}, follow=True)
    assert "Choose a size and colour" in page.content.decode()


def test_guest_wishlist_is_kept_in_the_session_and_merged_at_login(client, tee):
    user = UserFactory(email="ann@example.com")
    WishlistItem.objects.create(user=user, product=tee["M"].product, variant=tee["M"])
    wish(client, tee["M"])
    page = wish(client, tee["S"]).content.decode()
    assert "kept in this browser" in page and "S / Blue" in page
    assert not WishlistItem.objects.filter(variant=tee["S"]).exists()
    client.post(reverse("login"), {"username": "ann@example.com", "password": "correct-horse-battery"})
    assert sorted(WishlistItem.objects.filter(user=user).values_list("variant__sku", flat=True)) == ["TT-M", "TT-S"]
    assert WishlistItem.objects.get(variant=tee["S"]).awaiting_restock
    assert "S / Blue" in client.get(reverse("wishlist")).content.decode()


def test_hidden_products_cannot_be_wished_for(client):
    hidden = VariantFactory(product__is_visible=False)
    page = client.post(reverse("wishlist_add"), {"product": hidden.product_id}, follow=True)
    assert "no longer available" in page.content.decode()
    assert client.post(reverse("wishlist_add"), {"product": "x"}, follow=True).status_code == 200


def test_back_in_stock_email_once_per_restock_by_any_stock_path(tee, django_capture_on_commit_callbacks):
    ann, bob = UserFactory(email="ann@example.com"), UserFactory(email="bob@example.com")
    for user in (ann, bob):
        WishlistItem.objects.create(user=user, product=tee["S"].product, variant=tee["S"], awaiting_restock=True)
    WishlistItem.objects.create(user=ann, product=tee["M"].product, variant=tee["M"])  # in stock, not waiting

    with django_capture_on_commit_callbacks(execute=True):
        catalog.set_stock(variant=tee["S"], stock=2)
    assert sorted(m.to[0] for m in mail.outbox) == ["ann@example.com", "bob@example.com"]
    assert all(m.subject == "Back in stock: Tiberius Tee" and m.alternatives for m in mail.outbox)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        catalog.adjust_stock(variant=tee["S"], delta=3)  # more stock, no new email
        catalog.adjust_stock(variant=tee["M"], delta=1)
    assert mail.outbox == []

    # Sold out by a checkout, back by a cancellation: one email each again.
    with django_capture_on_commit_callbacks(execute=True):
        order = place_paid_order(cart=cart_with((Variant.objects.get(pk=tee["S"].pk), 5)), customer=None,
                                   details=checkout_details(), idempotency_key="restock-1")
    assert WishlistItem.objects.filter(variant=tee["S"], awaiting_restock=True).count() == 2
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        orders.cancel_order(order=order)
    assert sorted(m.to[0] for m in mail.outbox if m.subject.startswith("Back in stock")) == [
        "ann@example.com", "bob@example.com"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL (make test uses it)")
def test_concurrent_restocks_email_each_customer_once():
    """Eight staff restock the same sold-out variant at the same instant (real threads, each
    committing on PostgreSQL): every waiting customer gets exactly one email."""
    from orders.tests.test_concurrency import run_concurrently

    variant = VariantFactory(stock=0)
    users = [UserFactory() for _ in range(3)]
    for user in users:
        WishlistItem.objects.create(user=user, product=variant.product, variant=variant, awaiting_restock=True)

    outcomes = run_concurrently([lambda: catalog.adjust_stock(variant=Variant.objects.get(pk=variant.pk), delta=1)
                                 for _ in range(8)])

    assert [error for _, error in outcomes if error] == []
    assert Variant.objects.get(pk=variant.pk).stock == 8
    assert sorted(m.to[0] for m in mail.outbox) == sorted(user.email for user in users)
    assert not WishlistItem.objects.filter(awaiting_restock=True).exists()


def test_a_product_wished_without_a_size_emails_when_any_size_is_back(client, tee, django_capture_on_commit_callbacks):
    """No size chosen: the item waits while every size is sold out, and the first size back in
    stock sends the one email."""
    ann = UserFactory(email="ann@example.com")
    client.force_login(ann)
    with django_capture_on_commit_callbacks(execute=True):
        catalog.set_stock(variant=tee["M"], stock=0)  # now every size is sold out
    client.post(reverse("wishlist_add"), {"product": tee["M"].product_id}, follow=True)
    item = WishlistItem.objects.get(user=ann)
    assert item.variant is None and item.awaiting_restock

    with django_capture_on_commit_callbacks(execute=True):
        catalog.set_stock(variant=tee["S"], stock=1)
        catalog.set_stock(variant=tee["M"], stock=2)  # a second size back: no second email
    assert [m.to[0] for m in mail.outbox] == ["ann@example.com"]
    assert mail.outbox[0].subject == "Back in stock: Tiberius Tee" and "(" not in mail.outbox[0].body.split("\n")[0]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        catalog.set_stock(variant=tee["S"], stock=0)  # one size left: still buyable, no waiting
    assert not WishlistItem.objects.get(user=ann).awaiting_restock
    with django_capture_on_commit_callbacks(execute=True):
        catalog.set_stock(variant=tee["M"], stock=0)  # the last size sold out: waiting again
    assert WishlistItem.objects.get(user=ann).awaiting_restock and mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        catalog.set_stock(variant=tee["M"], stock=5)
    assert [m.to[0] for m in mail.outbox] == ["ann@example.com"]


def test_the_wishlist_shows_cards_with_photo_price_stock_and_actions_in_fixed_queries(client, tee):
    """Each item is a card like the listing's: photo, name, the wished size's price and stock, a
    "Move to cart" button (disabled while sold out) and "Remove"; more items cost no more queries."""
    from django.test.utils import CaptureQueriesContext

    from catalog.tests.factories import ProductImageFactory

    ProductImageFactory(product=tee["M"].product)
    tee["M"].sale_price = Decimal("24.00")
    tee["M"].save()
    client.force_login(UserFactory())
    wish(client, tee["M"])
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("wishlist"))
    wish(client, tee["S"])
    for n in range(3):
        wish(client, VariantFactory(product=ProductFactory(name=f"Other {n}"), stock=2))
    with CaptureQueriesContext(connection) as five:
        page = client.get(reverse("wishlist")).content.decode()
    assert len(five) == len(one)

    found = re.findall(r'<li class="product-card" data-wishlist-product="\d+">(.*?)</li>', page, re.S)
    label = lambda card: (re.search(r'class="options">([^<]*)<', card) or re.search(r'card-name">([^<]*)<', card)).group(1)  # noqa: E731
    cards = {label(card): card for card in found}
    assert len(cards) == 5
    medium, small = cards["M / Blue"], cards["S / Blue"]
    assert "<img" in medium and "Tiberius Tee" in medium and "no-image" in cards["Other 0"]
    assert '<span class="sale">$24.00</span> <s>$30.00</s>' in medium and "In stock" in medium
    assert re.search(r'<button type="submit" class="primary">Move to cart</button>', medium)
    assert "Sold out" in small and re.search(r'<button type="submit" class="primary" disabled>Sold out</button>', small)
    assert all(">Remove<" in card for card in cards.values())
