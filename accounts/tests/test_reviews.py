"""Reviews through the client: one per customer and product, 1-5 stars, shown only when
approved, moderated in the admin (approve, reject, feature), verified buyer mark, and the
product rating kept in step by the service (used by "sort by rating")."""
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory
from catalog.models import Product, Review
from catalog.tests.factories import ReviewFactory, VariantFactory
from orders import services as orders
from orders.models import Order
from orders.tests.factories import cart_with, checkout_details
from payments.testing import place_paid_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def product():
    return VariantFactory(product__name="Hero Hoodie").product


@pytest.fixture
def moderator(client):
    staff = client.__class__()
    user = User.objects.create_user(email="mod@example.com", password="x-long-pass-1", is_staff=True)
    user.groups.add(Group.objects.get(name="Catalogue managers"))
    staff.force_login(user)
    return staff


def post_review(client, product, **data):
    return client.post(reverse("review_create", args=[product.slug]),
                       {"rating": 5, "title": "Great", "body": "Really great.", **data}, follow=True)


def moderate(staff, action, *reviews):
    return staff.post(reverse("admin:catalog_review_changelist"),
                      {"action": action, "_selected_action": [r.pk for r in reviews]}, follow=True)


def test_a_customer_reviews_a_product_once(client, product):
    assert "Log in</a> to review" in client.get(product.get_absolute_url()).content.decode()
    assert post_review(client, product).redirect_chain[-1][0].startswith(reverse("login"))
    client.force_login(UserFactory(first_name="Ann"))
    assert 'id="write-review"' in client.get(product.get_absolute_url()).content.decode()
    assert "will appear once it is approved" in post_review(client, product).content.decode()
    second = post_review(client, product, title="Another go").content.decode()
    assert "You have already reviewed this product." in second
    review = Review.objects.get()
    assert (review.status, review.reviewer_name, review.is_verified_buyer) == ("pending", "Ann", False)


@pytest.mark.parametrize("data, message", [
    ({"rating": 6}, "Rating: Select a valid choice"),
    ({"rating": 0}, "Rating: Select a valid choice"),
    ({"title": ""}, "Title: This field is required."),
    ({"body": ""}, "Body: This field is required."),
])
def test_bad_reviews_get_a_clear_message(client, product, data, message):
    client.force_login(UserFactory())
    assert message in post_review(client, product, **data).content.decode()
    assert not Review.objects.exists()


def test_moderation_approve_reject_feature_and_the_rating(client, product, moderator):
    ReviewFactory(product=product, rating=2, title="Old import")
    from catalog.services import refresh_product_rating

    refresh_product_rating(product_ids=[product.pk])
    for name, rating in (("Ann", 5), ("Bob", 4), ("Cy", 1)):
        client.force_login(UserFactory(first_name=name))
        post_review(client, product, rating=rating, title=f"{name} says")
    ann, bob, cy = (Review.objects.get(title=f"{n} says") for n in ("Ann", "Bob", "Cy"))
    page = client.get(product.get_absolute_url()).content.decode()
    assert "Ann says" not in page and Product.objects.get(pk=product.pk).rating_count == 1

    assert "2 review(s) approved" in moderate(moderator, "approve", ann, bob).content.decode()
    moderate(moderator, "reject", cy)
    moderate(moderator, "feature", bob)
    product.refresh_from_db()
    assert (product.rating_count, product.rating_average) == (3, Decimal("3.67"))  # 2, 5, 4
    page = client.get(product.get_absolute_url()).content.decode()
    assert page.index("Bob says") < page.index("Ann says") < page.index("Old import")  # featured first
    assert "Cy says" not in page and "Featured" in page
    moderate(moderator, "reject", ann)
    assert Product.objects.get(pk=product.pk).rating_count == 2


def test_verified_buyer_mark_needs_a_delivered_order_line(client, product, moderator):
    buyer, browser = UserFactory(first_name="Buyer"), UserFactory(first_name="Browser")
    variant = product.variants.get()
    order = place_paid_order(cart=cart_with((variant, 1), customer=buyer), customer=buyer,
                               details=checkout_details(),
                               idempotency_key="verified-1")
    client.force_login(buyer)
    post_review(client, product, title="Before delivery")  # shipped but not delivered yet
    orders.transition_order(order=order, to_status=Order.Status.FULFILLED, tracking_number="T1")
    assert not Review.objects.get(user=buyer).is_verified_buyer
    orders.transition_order(order=order, to_status=Order.Status.DELIVERED)  # marks the existing review
    client.force_login(browser)
    post_review(client, product, title="Never bought it")
    moderate(moderator, "approve", *Review.objects.all())
    articles = client.get(product.get_absolute_url()).content.decode().split("<article")[1:]
    marks = {title: "Verified buyer" in next(a for a in articles if title in a)
             for title in ("Before delivery", "Never bought it")}
    assert marks == {"Before delivery": True, "Never bought it": False}
    assert Review.objects.get(user=buyer).is_verified_buyer and not Review.objects.get(user=browser).is_verified_buyer
    orders.transition_order(order=order, to_status=Order.Status.REFUNDED)  # no delivered line any more
    assert not Review.objects.get(user=buyer).is_verified_buyer


def test_sort_by_rating_uses_the_kept_average(client, product, moderator):
    from catalog.tests.factories import CategoryFactory

    other = VariantFactory(product__name="Zed Shorts").product
    category = CategoryFactory()
    for item in (product, other):
        item.categories.add(category)
    for target, rating in ((product, 3), (other, 5)):
        client.force_login(UserFactory())
        post_review(client, target, rating=rating)
    moderate(moderator, "approve", *Review.objects.all())
    from catalog.selectors import SORTS

    assert "rating" in SORTS
    page = client.get(category.get_absolute_url() + "?sort=rating").content.decode()
    assert page.index("Zed Shorts") < page.index("Hero Hoodie")
