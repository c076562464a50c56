"""Cart and checkout through the Django client, as a shopper's browser would drive them."""
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from catalog.models import Variant
from catalog.tests.factories import VariantFactory
from orders.models import Order
from payments.testing import checkout_and_approve

pytestmark = pytest.mark.django_db

ADDRESS = {"email": "gale@example.com", "shipping_name": "Gale Guest", "shipping_line1": "1 Main Street",
           "shipping_city": "Springfield", "shipping_postcode": "12345", "shipping_country": "US",
           "shipping_method": "standard"}


@pytest.fixture
def hoodie():
    return VariantFactory(sku="MH01-M-Gray", size="M", colour="Gray", stock=5, price=Decimal("52.00"),
                          product__name="Chaz Kangeroo Hoodie")


def add(client, variant, quantity=1, **extra):
    data = {"product": variant.product_id, "size": variant.size, "colour": variant.colour, "quantity": quantity}
    return client.post(reverse("orders:cart_add"), {**data, **extra}, follow=True)


def checkout(client, action="approve", **extra):
    """Fill the details step, submit the review step and press `action` ("approve" or "decline") on
    the test provider's page; returns (review response, final response, idempotency key)."""
    review = client.post(reverse("orders:checkout"), {**ADDRESS, **extra}, follow=True)
    key = review.context["form"]["idempotency_key"].value()
    done = checkout_and_approve(client, key, action)
    return review, done, key


def test_guest_buys_a_hoodie_by_size_and_colour(client, hoodie):
    response = add(client, hoodie, 2)
    assert "Added 2 x Chaz Kangeroo Hoodie (M / Gray) to your cart." in response.content.decode()
    assert response.context["cart_item_count"]() == 2

    review, done, _ = checkout(client)
    assert "Place order and continue to payment ($109.00)" in review.content.decode()  # 2 x 52 + 5.00 standard shipping
    order = Order.objects.get()
    assert done.redirect_chain[-1][0] == reverse("orders:confirmation", args=[order.number])
    assert order.number in done.content.decode()
    assert order.customer is None and order.email == "gale@example.com"
    assert Variant.objects.get(pk=hoodie.pk).stock == 3


def test_prices_posted_by_the_client_are_ignored(client, hoodie):
    add(client, hoodie, 1, price="0.01", unit_price="0.01")
    checkout(client, total="0.01", subtotal="0.01", shipping_price="0")
    order = Order.objects.get()
    assert (order.subtotal, order.shipping_price, order.total) == (Decimal("52.00"), Decimal("5.00"), Decimal("57.00"))
    assert order.lines.get().unit_price == Decimal("52.00")


def test_double_submit_creates_one_order(client, hoodie):
    add(client, hoodie, 1)
    _, first, key = checkout(client)
    again = client.post(reverse("orders:checkout_review"), {"idempotency_key": key}, follow=True)
    assert Order.objects.count() == 1
    assert again.redirect_chain[-1][0] == first.redirect_chain[-1][0]
    assert Variant.objects.get(pk=hoodie.pk).stock == 4


def test_asking_for_more_than_stock_gets_a_clear_message(client, hoodie):
    response = add(client, hoodie, 6)
    assert "Only 5 of Chaz Kangeroo Hoodie (M / Gray) left in stock; you asked for 6." in response.content.decode()
    add(client, hoodie, 2)
    Variant.objects.filter(pk=hoodie.pk).update(stock=1)  # someone else bought them meanwhile
    _, done, _ = checkout(client)
    assert "Only 1 of Chaz Kangeroo Hoodie (M / Gray) left" in done.content.decode()
    assert not Order.objects.exists()
    assert Variant.objects.get(pk=hoodie.pk).stock == 1


def test_missing_choice_and_declined_payment_are_explained(client, hoodie):
    response = client.post(reverse("orders:cart_add"), {"product": hoodie.product_id, "size": "M", "quantity": 1},
                           follow=True)
    assert "Please choose a colour." in response.content.decode()
    add(client, hoodie, 1)
    _, done, _ = checkout(client, action="decline")
    assert "The payment did not go through: Your card was declined" in done.content.decode()
    assert "Try the payment again" in done.content.decode()
    # The order waits for another try (or its expiry), its stock held.
    assert list(Order.objects.values_list("status", flat=True)) == [Order.Status.PENDING_PAYMENT]
    assert Variant.objects.get(pk=hoodie.pk).stock == hoodie.stock - 1


def test_a_declined_shopper_can_take_the_order_back_to_the_cart(client, hoodie):
    add(client, hoodie, 2)
    _, done, _ = checkout(client, action="decline")
    assert "Your cart is empty" in client.get(reverse("orders:cart")).content.decode()  # emptied at checkout
    assert "Back to my cart" in done.content.decode()
    order = Order.objects.get()

    back = client.post(reverse("orders:reopen", args=[order.number]), follow=True)
    page = back.content.decode()
    assert back.redirect_chain[-1][0] == reverse("orders:cart")
    assert f"Order {order.number} is cancelled; its items are back in your cart." in page
    assert back.context["priced"].subtotal == Decimal("104.00")  # 2 x 52, as before
    assert Order.objects.get().status == Order.Status.CANCELLED
    assert Variant.objects.get(pk=hoodie.pk).stock == hoodie.stock  # the held stock is back
    again = client.post(reverse("orders:reopen", args=[order.number]))  # twice: nothing more
    assert again["Location"] == reverse("orders:confirmation", args=[order.number])
    assert back.context["priced"].subtotal == client.get(reverse("orders:cart")).context["priced"].subtotal
    assert client.post(reverse("orders:reopen", args=["IS-NOPE"])).status_code == 404
    _, paid, _ = checkout(client)  # and buys it after all
    assert "Thank you for your order" in paid.content.decode()


def test_bad_input_gets_form_errors_not_500(client, hoodie):
    assert client.post(reverse("orders:cart_add"), {"product": "x", "quantity": "-1"}).status_code == 302
    assert client.post(reverse("orders:cart_update"), {"variant": "abc", "quantity": "2**31"}).status_code == 302
    add(client, hoodie, 1)
    response = client.post(reverse("orders:checkout"), {**ADDRESS, "email": "not-an-email",
                                                        "shipping_method": "teleport"})
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"email", "shipping_method"}


def test_cart_quantity_change_and_removal(client, hoodie):
    add(client, hoodie, 1)
    client.post(reverse("orders:cart_update"), {"variant": hoodie.pk, "quantity": 3})
    response = client.get(reverse("orders:cart"))
    assert response.context["priced"].subtotal == Decimal("156.00")
    client.post(reverse("orders:cart_update"), {"variant": hoodie.pk, "quantity": 0})
    assert "Your cart is empty" in client.get(reverse("orders:cart")).content.decode()


def test_guest_cart_merges_into_customer_cart_at_login(client, hoodie):
    customer = UserFactory(email="ann@example.com")
    other = VariantFactory(stock=5)
    client.force_login(customer)
    add(client, other, 1)  # saved in the customer's cart
    client.post(reverse("logout"))
    add(client, hoodie, 2)  # a guest cart in the session
    client.post(reverse("login"), {"username": "ANN@example.com", "password": "correct-horse-battery"})
    cart = client.get(reverse("orders:cart")).context["rows"]
    assert sorted((line.variant.sku, line.quantity) for line, _ in cart) == sorted(
        [(hoodie.sku, 2), (other.sku, 1)])


def test_customers_see_only_their_own_orders(client, hoodie):
    ann, bob = UserFactory(), UserFactory()
    client.force_login(ann)
    add(client, hoodie, 1)
    checkout(client)
    order = Order.objects.get()
    assert order.customer == ann
    assert order.number in client.get(reverse("orders:order_list")).content.decode()
    assert client.get(order.get_absolute_url()).status_code == 200

    client.force_login(bob)
    assert client.get(order.get_absolute_url()).status_code == 404
    assert client.get(reverse("orders:confirmation", args=[order.number])).status_code == 404
    assert order.number not in client.get(reverse("orders:order_list")).content.decode()
    client.logout()
    assert client.get(order.get_absolute_url()).status_code == 302  # to the login page


def test_a_customer_with_many_orders_pages_through_them_all(client):
    """My orders shows 20 a page, newest first, with Older / Newer links that reach every order."""
    ann = UserFactory()
    numbers = []
    for i in range(23):
        order = Order.objects.create(
            number=f"ISH-PAGE-{i:03d}", customer=ann, email=ann.email, currency="USD", shipping_name="Ann",
            shipping_line1="1 Main Street", shipping_city="Springfield", shipping_postcode="12345",
            shipping_country="US", shipping_method="standard", shipping_method_name="Standard",
            shipping_price=Decimal("5.00"), subtotal=Decimal("10.00"), total=Decimal("15.00"), payment_provider="test",
            idempotency_key=f"page-{i}")
        numbers.append(order.number)
    client.force_login(ann)
    first = client.get(reverse("orders:order_list")).content.decode()
    assert "Page 1 of 2" in first and "Newer" not in first
    assert all(number in first for number in numbers[-20:]) and numbers[2] not in first
    older = re.search(r'<a rel="next" href="([^"]+)">Older', first).group(1)
    second = client.get(reverse("orders:order_list") + older.replace("&amp;", "&")).content.decode()
    assert "Page 2 of 2" in second and "Older" not in second and 'rel="prev"' in second
    assert all(number in second for number in numbers[:3])


def test_another_shoppers_idempotency_key_creates_and_reveals_nothing(client, hoodie):
    """Issue 21: the hidden key is the client's. Replayed by a guest (with or without a cart of
    their own), the key of a customer's order, or the stored key the API used to compute for one,
    never returns that order or its confirmation page."""
    import hashlib

    from django.test import Client
    from rest_framework.test import APIClient

    from orders.tests.test_api_orders import order_body

    ann = UserFactory(email="ann@example.com")
    client.force_login(ann)
    add(client, hoodie, 1)
    _, done, key = checkout(client)
    placed = Order.objects.get()
    assert placed.customer == ann and placed.number in done.content.decode()
    api = APIClient()
    api.force_authenticate(ann)
    assert api.post("/api/v1/orders/", order_body((hoodie, 1)), format="json", HTTP_IDEMPOTENCY_KEY="k1").status_code == 201
    api_order = Order.objects.exclude(pk=placed.pk).get()
    computed = "api-" + hashlib.sha256(f"{ann.pk}\x00k1".encode()).hexdigest()[:60]  # the old scheme
    stolen_keys = [key, placed.idempotency_key, api_order.idempotency_key, computed]

    for stolen in stolen_keys:
        guest = Client()
        guest.post(reverse("orders:checkout"), ADDRESS)  # details in the session, but an empty cart
        replay = guest.post(reverse("orders:checkout_review"), {"idempotency_key": stolen}, follow=True)
        page = replay.content.decode()
        assert replay.redirect_chain[-1][0] == reverse("orders:cart") and "Your cart is empty" in page
        assert placed.number not in page and api_order.number not in page and "ann@example.com" not in page
    assert Order.objects.count() == 2

    # A guest with a cart of their own who replays the key gets their own, new order.
    guest = Client()
    add(guest, hoodie, 1)
    guest.post(reverse("orders:checkout"), ADDRESS)
    replay = guest.post(reverse("orders:checkout_review"), {"idempotency_key": key}, follow=True)
    own = Order.objects.exclude(pk__in=[placed.pk, api_order.pk]).get()
    assert own.customer is None and own.number in replay.content.decode()
    assert placed.number not in replay.content.decode()
    assert guest.get(reverse("orders:confirmation", args=[placed.number])).status_code == 404


def test_shipping_choices_show_prices_in_the_shop_s_money_format():
    from orders.forms import CheckoutDetailsForm

    labels = [label for _, label in CheckoutDetailsForm().fields["shipping_method"].choices]
    assert labels and all("($" in label and "USD" not in label for label in labels), labels


def test_the_checkout_country_defaults_from_settings(settings):
    from orders.forms import CheckoutDetailsForm

    settings.SHOP_DEFAULT_COUNTRY = "GB"
    assert CheckoutDetailsForm()["shipping_country"].value() == "GB"
