"""Registration, email verification, email login, logout, password change and reset, profile and
address book, through the client, with the emails checked in mail.outbox."""
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import Address, User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def signup_form(email: str, password: str = "a-long-unusual-pass") -> dict:
    return {"email": email, "first_name": "Nia", "last_name": "New", "password1": password, "password2": password}


def test_signup_answers_alike_for_a_taken_email_and_emails_its_owner_instead(
        client, django_capture_on_commit_callbacks):
    owner = UserFactory(email="ann@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        new = client.post(reverse("signup"), signup_form("New@Example.com"))
        taken = Client().post(reverse("signup"), signup_form("ANN@example.com", "x-long-unusual-pass"))
    # The same answer: a redirect to "check your inbox", which reads alike but for the address.
    assert (new.status_code, new["Location"]) == (taken.status_code, taken["Location"]) == (302, reverse("signup_done"))
    assert set(new.cookies) == set(taken.cookies)
    new_page = client.get(new["Location"]).content.decode()
    assert "Check your inbox" in new_page and "new@example.com" in new_page
    assert "already" not in new_page
    assert User.objects.filter(email="new@example.com").exists() and User.objects.count() == 2
    owner.refresh_from_db()
    assert owner.check_password("correct-horse-battery") and owner.first_name == "Ann"  # untouched
    # The new address gets its verification link; the taken one a note to its owner.
    verification, note = mail.outbox
    assert verification.to == ["new@example.com"] and "Verify your email" in verification.subject
    assert note.to == ["ann@example.com"] and note.subject == "You already have a iShop account"
    assert "no new one was made" in note.body and "/accounts/login/" in note.body
    assert "/accounts/password_reset/" in note.body and note.alternatives[0][1] == "text/html"
    assert not client.get("/").context["user"].is_authenticated  # nobody is logged in yet


def test_the_verification_link_logs_in_only_the_browser_that_signed_up(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("signup"), signup_form("nia@example.com"))
    link = link_in(mail.outbox[0])
    elsewhere = Client()
    page = elsewhere.get(link, follow=True)
    assert "nia@example.com is verified" in page.content.decode() and not page.context["user"].is_authenticated
    page = client.get(link, follow=True)
    assert "Welcome!" in page.content.decode() and page.context["user"].email == "nia@example.com"
    client.post(reverse("logout"))
    again = client.get(link, follow=True)  # the link does not log anyone in twice
    assert not again.context["user"].is_authenticated


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


def test_password_reset_by_email(client, django_capture_on_commit_callbacks):
    user = UserFactory(email="forgetful@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("password_reset"), {"email": "forgetful@example.com"})
        client.post(reverse("password_reset"), {"email": "nobody@example.com"})  # same answer, no email
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["forgetful@example.com"]
    assert mail.outbox[0].alternatives[0][1] == "text/html"
    link = re.search(r"http://127\.0\.0\.1:8000(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    assert link in mail.outbox[0].alternatives[0][0]
    form_page = client.get(link, follow=True)
    client.post(form_page.redirect_chain[-1][0], {"new_password1": "fresh-start-pass-7",
                                                  "new_password2": "fresh-start-pass-7"})
    user.refresh_from_db()
    assert user.check_password("fresh-start-pass-7")


def signup(client, email="nia@example.com"):
    return client.post(reverse("signup"), {"email": email, "first_name": "Nia", "password1": "a-long-unusual-pass",
                                           "password2": "a-long-unusual-pass"}, follow=True)


def link_in(message) -> str:
    return re.search(r"http://127\.0\.0\.1:8000(/\S+)", message.body).group(1)


def test_signup_sends_a_verification_link_and_reminds_until_it_is_opened(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        signup(client)
    client.force_login(User.objects.get())  # logged in before opening the link
    page = client.get("/")
    assert "Please verify your email address nia@example.com" in page.content.decode()
    assert not User.objects.get().email_verified
    assert "Please verify" in client.get(reverse("orders:cart")).content.decode()  # can still shop
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("resend_verification"))
    first, second = mail.outbox
    assert first.to == second.to == ["nia@example.com"]
    page = client.get(link_in(second), follow=True).content.decode()
    assert "nia@example.com is verified" in page and "Please verify" not in page
    again = client.get(link_in(first), follow=True).content.decode()  # opening a link twice is harmless
    assert "is verified" in again and User.objects.get().email_verified


def test_tampered_and_expired_verification_links_are_refused(client, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        signup(client)
    link = link_in(mail.outbox[0])
    page = client.get(link[:-3] + "xyz/", follow=True).content.decode()
    assert "This verification link is not valid." in page
    settings.SHOP_EMAIL_VERIFICATION_MAX_AGE = -1  # every link is older than that
    page = client.get(link, follow=True).content.decode()
    assert "This verification link has expired" in page
    assert not User.objects.get().email_verified


def test_login_rotates_the_session_key(client):
    UserFactory(email="ann@example.com")
    client.get(reverse("login"))
    session = client.session
    session["probe"] = 1
    session.save()
    before = client.cookies["sessionid"].value
    client.post(reverse("login"), {"username": "ann@example.com", "password": "correct-horse-battery"})
    after = client.cookies["sessionid"].value
    assert after != before
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=before).exists()


def test_new_passwords_are_hashed_with_argon2_and_old_hashes_upgrade_at_login(client, settings):
    user = UserFactory(email="old@example.com")
    assert user.password.startswith("argon2$argon2id$")
    from django.contrib.auth.hashers import make_password

    User.objects.filter(pk=user.pk).update(password=make_password("legacy-pass-123", hasher="pbkdf2_sha256"))
    client.post(reverse("login"), {"username": "old@example.com", "password": "legacy-pass-123"})
    assert User.objects.get(pk=user.pk).password.startswith("argon2$argon2id$")


def test_email_change_waits_for_the_new_address_to_be_verified(client, django_capture_on_commit_callbacks):
    user = UserFactory(email="ann@example.com")
    UserFactory(email="taken@example.com")
    client.force_login(user)
    page = client.post(reverse("account"), {"first_name": "Ann", "last_name": "Lee", "email": "Taken@Example.com"})
    assert "already exists" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(reverse("account"), {"first_name": "Ann", "last_name": "Lee", "email": "Ann.New@Example.com"},
                           follow=True)
    assert "Open the link we sent to ann.new@example.com" in page.content.decode()
    user.refresh_from_db()
    assert (user.last_name, user.email) == ("Lee", "ann@example.com")  # not changed yet
    message, = mail.outbox
    assert message.to == ["ann.new@example.com"] and "Confirm your new email" in message.subject
    client.get(link_in(message))
    user.refresh_from_db()
    assert user.email == "ann.new@example.com" and user.email_verified
    client.logout()
    assert client.login(username="ann.new@example.com", password="correct-horse-battery")


def test_address_book_keeps_one_default_of_each_kind(client):
    user = UserFactory()
    other = UserFactory()
    client.force_login(user)
    base = {"name": "Ann Buyer", "city": "Leeds", "postcode": "LS1 4AP", "country": "GB"}
    client.post(reverse("address_new"), {**base, "line1": "1 First St"})
    client.post(reverse("address_new"), {**base, "line1": "2 Second St", "is_default_shipping": "on"})
    first, second = Address.objects.filter(user=user).order_by("pk")
    assert (first.is_default_shipping, first.is_default_billing) == (False, True)  # the first is both, until...
    assert (second.is_default_shipping, second.is_default_billing) == (True, False)
    page = client.get(reverse("address_list")).content.decode()
    assert "2 Second St" in page and "Default shipping" in page
    client.post(reverse("address_edit", args=[first.pk]), {**base, "line1": "1 First Street"})
    assert Address.objects.get(pk=first.pk).line1 == "1 First Street"
    client.post(reverse("address_delete", args=[second.pk]))
    assert Address.objects.get(user=user).is_default_shipping  # the default moved to the one left
    # Someone else's address is a 404, not an edit.
    theirs = services.save_address(user=other, data={**base, "line1": "9 Other Rd"})
    assert client.get(reverse("address_edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("address_delete", args=[theirs.pk])).status_code == 404
    bad = client.post(reverse("address_new"), {**base, "line1": "", "country": "ZZ"})
    assert bad.status_code == 200 and "This field is required." in bad.content.decode()


def test_checkout_offers_every_saved_address(client):
    from catalog.tests.factories import VariantFactory

    user = UserFactory()
    variant = VariantFactory()
    base = {"name": "Ann Buyer", "city": "Leeds", "postcode": "LS1 4AP", "country": "GB"}
    services.save_address(user=user, data={**base, "line1": "1 Home St"})
    work = services.save_address(user=user, data={**base, "line1": "5 Office Park"})
    client.force_login(user)
    client.post(reverse("orders:cart_add"), {"product": variant.product_id, "quantity": 1})
    page = client.get(reverse("orders:checkout"))
    assert page.context["form"]["shipping_line1"].value() == "1 Home St"
    assert "5 Office Park" in page.content.decode()
    picked = client.get(reverse("orders:checkout") + f"?address={work.pk}")
    assert picked.context["form"]["shipping_line1"].value() == "5 Office Park"


def test_guest_orders_become_the_account_s_once_its_email_is_verified(client, django_capture_on_commit_callbacks):
    """A guest buys, then signs up with the same email (the confirmation page offers it): the
    order shows under "Your orders" once the verification link is opened, not before; another
    address's guest order and another customer's order stay where they are."""
    from orders.tests.factories import OrderFactory

    mine = OrderFactory(email="Nia@Example.com", customer=None)
    someone_elses = OrderFactory(email="other@example.com", customer=None)
    owned = OrderFactory(email="nia@example.com", customer=UserFactory(email="old-nia@example.com"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("signup"), signup_form("nia@example.com"))
    client.force_login(User.objects.get(email="nia@example.com"))
    assert mine.number not in client.get(reverse("orders:order_list")).content.decode()  # not proven hers yet
    client.get(link_in(mail.outbox[0]), follow=True)
    page = client.get(reverse("orders:order_list")).content.decode()
    assert mine.number in page and someone_elses.number not in page and owned.number not in page
    mine.refresh_from_db(), someone_elses.refresh_from_db(), owned.refresh_from_db()
    assert mine.customer.email == "nia@example.com" and someone_elses.customer is None
    assert owned.customer.email == "old-nia@example.com"
