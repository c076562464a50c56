"""Customers of the imported order history (issue 24): no password until they set one through a
reset link, a log-in failure that says so (to everyone alike), and kept apart in the admin list."""
import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory
from shop.sources import Source

pytestmark = pytest.mark.django_db


def imported(email: str = "online-retail-17850@example.com") -> User:
    return User.objects.create_user(email=email, password=None, source=Source.ONLINE_RETAIL)


def test_an_imported_customer_logs_in_only_after_setting_a_password_by_reset_link(
        client, django_capture_on_commit_callbacks):
    user = imported()
    page = client.post(reverse("login"), {"username": user.email, "password": "a-guess"}, follow=True).content.decode()
    assert "Your account has no password yet" in page and "Forgot your password?" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("password_reset"), {"email": user.email})
    assert [message.to for message in mail.outbox] == [[user.email]]
    link = re.search(r"http://127\.0\.0\.1:8000(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    client.post(form_page.redirect_chain[-1][0], {"new_password1": "fresh-start-pass-7",
                                                  "new_password2": "fresh-start-pass-7"})
    response = client.post(reverse("login"), {"username": user.email, "password": "fresh-start-pass-7"})
    assert response.status_code == 302


def test_a_web_account_without_a_password_still_gets_no_reset_link(client, django_capture_on_commit_callbacks):
    web = User.objects.create_user(email="nopass@example.com", password=None)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("password_reset"), {"email": web.email})
    assert mail.outbox == []


def test_the_wrong_password_reads_alike_for_any_account(client):
    UserFactory(email="ann@example.com")
    known = client.post(reverse("login"), {"username": "ann@example.com", "password": "nope"}).content.decode()
    unknown = client.post(reverse("login"), {"username": "zed@example.com", "password": "nope"}).content.decode()
    assert "Your account has no password yet" in known and "Your account has no password yet" in unknown


def test_the_customer_list_shows_web_customers_and_the_history_behind_a_filter(client):
    client.force_login(User.objects.create_superuser(email="boss@example.com", password="x"))
    web, history = UserFactory(email="web@example.com"), imported()
    listing = reverse("admin:accounts_user_changelist")
    default = client.get(listing).content.decode()
    assert web.email in default and history.email not in default
    assert history.email in client.get(listing + "?source=online-retail").content.decode()
    found = client.get(listing, {"q": "online-retail-17850@"}).content.decode()
    assert history.email in found and web.email not in found
