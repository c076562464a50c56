"""The issue's "done when", through the Django client as browsers would drive it: a new customer
registers, verifies, saves an address and buys (confirmation email); staff ship with a tracking
number (shipped email, the customer's timeline); the customer's review shows as a verified buyer
review once approved; a wishlisted sold-out variant restocked by staff sends the back-in-stock
email. Staff work in the admin with their role's group, as in production."""
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse

from accounts.models import User
from catalog.models import Product, Variant
from catalog.tests.factories import VariantFactory
from orders.models import Order
from payments.testing import checkout_and_approve

pytestmark = pytest.mark.django_db


def staff_member(role: str, email: str) -> User:
    user = User.objects.create_user(email=email, password="staff-pass-123", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def html_part(message) -> str:
    """The HTML alternative of an email (every shop email has one)."""
    (html, mimetype), = message.alternatives
    assert mimetype == "text/html"
    return html


def link_in(message) -> str:
    """The path of the first shop link in an email's text body."""
    return re.search(r"http://127\.0\.0\.1:8000(/\S+)", message.body).group(1)


def test_register_verify_buy_ship_review_and_restock(client, django_capture_on_commit_callbacks):
    hoodie = VariantFactory(sku="MH01-M-Gray", size="M", colour="Gray", stock=5, price=Decimal("52.00"),
                            product__name="Chaz Kangeroo Hoodie")
    jacket = VariantFactory(sku="MJ01-L-Red", size="L", colour="Red", stock=0, product__name="Beaumont Jacket")

    # Register: "check your inbox"; the verification email arrives (text and HTML), and its link,
    # opened in this browser, verifies the address and logs the new customer in.
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(reverse("signup"), {"email": "nia@example.com", "first_name": "Nia", "last_name": "New",
                                               "password1": "a-long-unusual-pass", "password2": "a-long-unusual-pass"},
                           follow=True)
    assert "Check your inbox" in page.content.decode() and "nia@example.com" in page.content.decode()
    verification, = mail.outbox
    assert verification.to == ["nia@example.com"] and "Verify your email" in verification.subject
    assert link_in(verification) in html_part(verification)
    page = client.get(link_in(verification), follow=True)
    assert "nia@example.com is verified" in page.content.decode()
    assert page.context["user"].email == "nia@example.com"
    assert "Please verify your email address" not in page.content.decode()
    customer = User.objects.get(email="nia@example.com")
    assert customer.email_verified and customer.password.startswith("argon2")

    # Save an address; checkout offers it.
    client.post(reverse("address_new"), {"name": "Nia New", "line1": "7 Elm Road", "city": "Leeds",
                                         "postcode": "LS1 4AP", "country": "GB"})
    client.post(reverse("orders:cart_add"), {"product": hoodie.product_id, "size": "M", "colour": "Gray",
                                             "quantity": 1})
    form = client.get(reverse("orders:checkout")).context["form"]
    details = {name: form[name].value() for name in form.fields}
    assert (details["shipping_line1"], details["shipping_city"], details["email"]) == (
        "7 Elm Road", "Leeds", "nia@example.com")
    review = client.post(reverse("orders:checkout"), details, follow=True)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        checkout_and_approve(client, review.context["form"]["idempotency_key"].value())
    order = Order.objects.get(customer=customer)
    confirmation, = mail.outbox
    assert confirmation.to == ["nia@example.com"] and order.number in confirmation.subject
    assert "Chaz Kangeroo Hoodie (M / Gray)" in confirmation.body and "7 Elm Road" in confirmation.body
    assert link_in(confirmation) == order.get_absolute_url()
    assert order.number in html_part(confirmation)

    # An Order manager ships it from the admin: the action asks for the tracking number first.
    staff = client.__class__()
    staff.force_login(staff_member("Order managers", "orders@example.com"))
    changelist = reverse("admin:orders_order_changelist")
    ask = staff.post(changelist, {"action": "ship_orders", "_selected_action": [order.pk]})
    assert "Enter the carrier" in ask.content.decode() and order.number in ask.content.decode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        done = staff.post(changelist, {"action": "ship_orders", "_selected_action": [order.pk], "apply": "1",
                                       f"order-{order.pk}-tracking_number": "1Z999AA10123456784"}, follow=True)
    assert "1 order(s) shipped" in done.content.decode()
    shipped, = mail.outbox
    assert "has shipped" in shipped.subject and "1Z999AA10123456784" in shipped.body
    assert "1Z999AA10123456784" in html_part(shipped)

    # The customer sees the timeline with the tracking number.
    page = client.get(order.get_absolute_url()).content.decode()
    assert re.search(r'data-status="paid".*data-status="fulfilled".*1Z999AA10123456784', page, re.S)

    # Delivered; the customer reviews; a Catalogue manager approves: a verified buyer review.
    staff.post(changelist, {"action": "mark_delivered", "_selected_action": [order.pk]})
    assert Order.objects.get(pk=order.pk).status == Order.Status.DELIVERED
    product_url = hoodie.product.get_absolute_url()
    page = client.post(reverse("review_create", args=[hoodie.product.slug]),
                       {"rating": 4, "title": "Warm and soft", "body": "Wore it all winter."}, follow=True)
    assert "will appear once it is approved" in page.content.decode()
    assert "Warm and soft" not in client.get(product_url).content.decode()
    catalogue = client.__class__()
    catalogue.force_login(staff_member("Catalogue managers", "catalogue@example.com"))
    review_id = hoodie.product.reviews.get().pk
    catalogue.post(reverse("admin:catalog_review_changelist"), {"action": "approve", "_selected_action": [review_id]})
    page = client.get(product_url).content.decode()
    assert re.search(r"Warm and soft.*Verified buyer", page, re.S)
    assert Product.objects.get(pk=hoodie.product_id).rating_count == 1

    # The sold-out jacket goes on the wishlist; staff restock it; the back-in-stock email arrives.
    page = client.post(reverse("wishlist_add"), {"product": jacket.product_id, "size": "L", "colour": "Red"},
                       follow=True)
    assert "Beaumont Jacket" in page.content.decode() and "we will email you" in page.content.decode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        catalogue.post(reverse("admin:catalog_variant_change", args=[jacket.pk]), {
            "product": jacket.product_id, "sku": jacket.sku, "name": jacket.name, "size": "L", "colour": "Red",
            "price": "80.00", "sale_price": "", "stock": "3", "low_stock_threshold": "5", "position": "0",
            "is_active": "on"})
    assert Variant.objects.get(pk=jacket.pk).stock == 3
    restocked, = mail.outbox
    assert restocked.to == ["nia@example.com"] and "Back in stock: Beaumont Jacket" == restocked.subject
    assert "(L / Red)" in restocked.body and link_in(restocked) == jacket.product.get_absolute_url()
