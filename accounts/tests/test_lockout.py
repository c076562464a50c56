"""Login lockout (django-axes) on every way in: the HTML login, the admin login and the API token
endpoint. After AXES_FAILURE_LIMIT failures for one email from one client, even the right
password is refused with 429 until the cool-off ends; other accounts and clients are unaffected,
also behind a proxy (the client is shop.observability.client_address). Many failures on one
account from many clients make the right password need an emailed one-time link
(accounts.login_guard). tests/test_stack_clients.py shows the same through nginx."""
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def html_login(client: Client, email: str, password: str, url: str | None = None):
    return client.post(url or reverse("login"), {"username": email, "password": password})


def api_token(client: APIClient, email: str, password: str):
    return client.post("/api/v1/auth/token", {"email": email, "password": password}, format="json")


def test_html_login_locks_after_repeated_failures():
    UserFactory(email="ann@example.com")
    UserFactory(email="bob@example.com")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert html_login(client, "ann@example.com", "wrong").status_code == 200  # the form again, with an error
    locked = html_login(client, "ann@example.com", "wrong")
    assert locked.status_code == 429 and b"Too many failed log-in attempts" in locked.content
    right_password = html_login(client, "ann@example.com", PASSWORD)
    assert right_password.status_code == 429 and "_auth_user_id" not in client.session
    assert html_login(Client(), "bob@example.com", PASSWORD).status_code == 302  # another account logs in


def test_a_successful_login_resets_the_count():
    UserFactory(email="ann@example.com")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        html_login(client, "ann@example.com", "wrong")
    assert html_login(client, "ann@example.com", PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert html_login(client, "ann@example.com", "wrong").status_code == 200


def test_admin_login_locks_too():
    User.objects.create_superuser(email="boss@example.com", password=PASSWORD)
    client = Client()
    url = reverse("admin:login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        html_login(client, "boss@example.com", "wrong", url)
    assert html_login(client, "boss@example.com", PASSWORD, url).status_code == 429


def test_api_token_endpoint_locks_with_a_json_429():
    UserFactory(email="ann@example.com")
    client = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        assert api_token(client, "ann@example.com", "wrong").status_code in (401, 429)
    locked = api_token(client, "Ann@Example.com", PASSWORD)
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out" and set(locked.json()) == {"detail", "code", "fields"}
    assert api_token(APIClient(REMOTE_ADDR="10.0.0.9"), "ann@example.com", PASSWORD).status_code == 200


def test_failures_on_the_api_and_the_html_login_add_up():
    UserFactory(email="ann@example.com")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        api_token(APIClient(), "ann@example.com", "wrong")
    html_login(Client(), "ann@example.com", "wrong")
    assert html_login(Client(), "ann@example.com", PASSWORD).status_code == 429


# --- Issue 21: who the client is, and the lock of an (account, client) pair ---------------------------

def behind_nginx(address: str, client_class=Client, spoofed: str = ""):
    """A client as gunicorn sees it behind nginx: no REMOTE_ADDR (a Unix socket), and nginx's
    X-Forwarded-For ending in the real address (after whatever the client sent itself)."""
    forwarded = f"{spoofed}, {address}" if spoofed else address
    return client_class(REMOTE_ADDR="", HTTP_X_FORWARDED_FOR=forwarded)


@pytest.fixture
def one_proxy(settings):
    settings.SHOP_TRUSTED_PROXY_COUNT = 1


def test_behind_a_proxy_failures_lock_the_account_and_address_pair_only(one_proxy):
    from axes.models import AccessAttempt

    UserFactory(email="ann@example.com")
    User.objects.create_superuser(email="boss@example.com", password=PASSWORD)
    attacker = behind_nginx("203.0.113.2")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        # Whatever the attacker writes into X-Forwarded-For, nginx's last entry is the address.
        html_login(behind_nginx("203.0.113.2", spoofed=f"198.51.100.{_}"), "ann@example.com", "wrong")
    assert html_login(attacker, "ann@example.com", PASSWORD).status_code == 429
    assert html_login(behind_nginx("203.0.113.3"), "ann@example.com", PASSWORD).status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.2"}

    for _ in range(settings.AXES_FAILURE_LIMIT):
        html_login(attacker, "boss@example.com", "wrong", reverse("admin:login"))
    assert html_login(attacker, "boss@example.com", PASSWORD, reverse("admin:login")).status_code == 429
    assert html_login(behind_nginx("2001:db8::3"), "boss@example.com", PASSWORD, reverse("admin:login")).status_code == 302

    api_attacker = behind_nginx("203.0.113.4", APIClient)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api_token(api_attacker, "ann@example.com", "wrong")
    assert api_token(api_attacker, "ann@example.com", PASSWORD).status_code == 429
    assert api_token(behind_nginx("203.0.113.5", APIClient), "ann@example.com", PASSWORD).status_code == 200


def test_the_auth_throttle_counts_each_address_behind_the_proxy(one_proxy, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                                          "auth": "3/minute"}}
    UserFactory(email="ann@example.com")
    noisy = [api_token(behind_nginx("203.0.113.6", APIClient), "nobody@example.com", "x").status_code
             for _ in range(4)]
    assert noisy == [401, 401, 401, 429]
    assert api_token(behind_nginx("203.0.113.7", APIClient), "ann@example.com", PASSWORD).status_code == 200


# --- Issue 21: distributed guessing needs the emailed login link --------------------------------------

@pytest.fixture
def guarded_at(settings, one_proxy):
    """SHOP_LOGIN_ACCOUNT_FAILURE_LIMIT lowered to 6: a botnet of 3 addresses, 2 guesses each."""
    settings.SHOP_LOGIN_ACCOUNT_FAILURE_LIMIT = 6

    def guess(email: str) -> None:
        for host in (11, 12, 13):
            html_login(behind_nginx(f"198.51.100.{host}"), email, "guess-1")
            api_token(behind_nginx(f"198.51.100.{host}", APIClient), email, "guess-2")
    return guess


def login_link_in(message) -> tuple[str, str]:
    """(the link's path, the code) of a login-link email."""
    import re

    link = re.search(r"http://127\.0\.0\.1:8000(/accounts/login/link/\S+/)", message.body).group(1)
    return link, re.search(r"code:\s*(\S+)", message.body).group(1)


def test_distributed_guessing_makes_the_right_password_need_the_emailed_link(
        guarded_at, django_capture_on_commit_callbacks, settings):
    from django.core import mail

    ann = UserFactory(email="ann@example.com")
    guarded_at("ann@example.com")
    assert len(mail.outbox) == 0  # wrong guesses send nothing
    owner = behind_nginx("192.0.2.50")
    with django_capture_on_commit_callbacks(execute=True):
        held = html_login(owner, "ann@example.com", PASSWORD)
    assert held.status_code == 200 and "We emailed you one" in held.content.decode()
    assert "_auth_user_id" not in owner.session  # not locked out, not logged in either
    email, = mail.outbox
    assert email.to == ["ann@example.com"] and email.subject == "Your iShop login link"
    assert email.alternatives[0][1] == "text/html"
    link, code = login_link_in(email)
    assert owner.get(link).status_code == 200
    assert html_login(owner, "ann@example.com", "wrong", link).status_code == 200  # the link alone: no
    assert "_auth_user_id" not in owner.session
    done = html_login(owner, "ann@example.com", PASSWORD, link)
    assert done.status_code == 302 and owner.session["_auth_user_id"] == str(ann.pk)

    with django_capture_on_commit_callbacks(execute=True):
        reused = html_login(behind_nginx("192.0.2.51"), "ann@example.com", PASSWORD, link)
    assert reused.status_code == 200 and "no longer valid" in reused.content.decode()
    assert len(mail.outbox) == 2

    # The API: 403 login_link_required, then the code from the email with the password.
    with django_capture_on_commit_callbacks(execute=True):
        held = api_token(behind_nginx("192.0.2.52", APIClient), "ann@example.com", PASSWORD)
    assert held.status_code == 403 and held.json()["code"] == "login_link_required"
    assert set(held.json()) == {"detail", "code", "fields"}
    _, code = login_link_in(mail.outbox[-1])
    client = behind_nginx("192.0.2.52", APIClient)
    granted = client.post("/api/v1/auth/token", {"email": "ann@example.com", "password": PASSWORD,
                                                 "login_code": code}, format="json")
    assert granted.status_code == 200 and {"access", "refresh"} <= set(granted.json())
    again = client.post("/api/v1/auth/token", {"email": "ann@example.com", "password": PASSWORD,
                                               "login_code": code}, format="json")
    assert again.status_code == 403  # used once

    # The admin login holds the right password back too; its link goes on to the admin.
    User.objects.filter(pk=ann.pk).update(is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        held = html_login(behind_nginx("192.0.2.53"), "ann@example.com", PASSWORD, reverse("admin:login") + "?next=/admin/")
    assert held.status_code == 200 and "We emailed you one" in held.content.decode()
    link, _ = login_link_in(mail.outbox[-1])
    assert link.startswith("/accounts/login/link/")
    assert "next=%2Fadmin%2F" in mail.outbox[-1].body

    # Once the failures are older than the window, the password alone works again.
    settings.SHOP_LOGIN_ACCOUNT_FAILURE_WINDOW = 0
    assert html_login(behind_nginx("192.0.2.54"), "ann@example.com", PASSWORD).status_code == 302


def test_login_codes_are_signed_and_expire(guarded_at, django_capture_on_commit_callbacks, settings):
    from django.core import mail

    UserFactory(email="ann@example.com")
    other = UserFactory(email="bob@example.com")
    guarded_at("ann@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        html_login(behind_nginx("192.0.2.50"), "ann@example.com", PASSWORD)
    link, code = login_link_in(mail.outbox[0])
    from accounts.login_guard import login_code_is_valid

    ann = User.objects.get(email="ann@example.com")
    assert login_code_is_valid(user=ann, code=code)
    assert not login_code_is_valid(user=ann, code=code[:-2] + "xx")  # tampered
    assert not login_code_is_valid(user=other, code=code)  # someone else's
    settings.SHOP_LOGIN_LINK_MAX_AGE = -1
    assert not login_code_is_valid(user=ann, code=code)  # expired
    page = html_login(behind_nginx("192.0.2.50"), "ann@example.com", PASSWORD, link)
    assert page.status_code == 200 and "no longer valid" in page.content.decode()
