"""Registration, email login, logout, password change and reset through the client."""
import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_signup_logs_the_new_customer_in(client):
    response = client.post(reverse("signup"), {"email": "New@Example.com", "first_name": "Nia", "last_name": "New",
                                               "password1": "a-long-unusual-pass", "password2": "a-long-unusual-pass"},
                           follow=True)
    assert "Welcome! Your account is ready." in response.content.decode()
    assert response.context["user"].email == "new@example.com"
    duplicate = client.post(reverse("signup"), {"email": "NEW@example.com", "password1": "x-long-unusual-pass",
                                                "password2": "x-long-unusual-pass"})
    assert "already exists" in duplicate.content.decode()
    assert User.objects.count() == 1


def test_login_with_email_and_logout(client):
    UserFactory(email="ann@example.com")
    bad = client.post(reverse("login"), {"username": "ann@example.com", "password": "wrong"})
    assert bad.status_code == 200 and "correct email" in bad.content.decode().lower()
    client.post(reverse("login"), {"username": "Ann@Example.com", "password": "correct-horse-battery"})
    assert client.get("/").context["user"].is_authenticated
    client.post(reverse("logout"))
    assert not client.get("/").context["user"].is_authenticated


def test_password_change(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(reverse("password_change"), {"old_password": "correct-horse-battery",
                                                        "new_password1": "brand-new-secret-9",
                                                        "new_password2": "brand-new-secret-9"}, follow=True)
    assert "Password changed" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("brand-new-secret-9")


def test_password_reset_by_email(client):
    user = UserFactory(email="forgetful@example.com")
    client.post(reverse("password_reset"), {"email": "forgetful@example.com"})
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["forgetful@example.com"]
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    client.post(form_page.redirect_chain[-1][0], {"new_password1": "fresh-start-pass-7",
                                                  "new_password2": "fresh-start-pass-7"})
    user.refresh_from_db()
    assert user.check_password("fresh-start-pass-7")
