"""Issue 21 item 2 through the real topology: every client is its own client behind nginx.

`make prod` (tests/test_production_stack.py's fixture: nginx on a free port -> gunicorn on a Unix
socket, so REMOTE_ADDR is empty) is driven from several loopback source addresses (127.0.0.x, all
of them the loopback on Linux), as clients on different machines would be:

- 5 bad passwords for one account from 127.0.0.2 lock that (account, address) pair only, on the
  HTML login, the admin login and the API token endpoint: the owner at 127.0.0.3 logs in.
- 10 token calls from one address use up that address's "auth" throttle only: register, token and
  refresh still answer another address.
- Many failures on one account from many addresses (SHOP_LOGIN_ACCOUNT_FAILURE_LIMIT an hour) do
  not lock anyone out, but from then on the right password alone is not enough on any login path:
  the owner gets a one-time login link by email (a real worker sends it to a real SMTP server) and
  logs in with the link plus the password, once.
- The JSON logs and axes' records name each client's own address.
"""
import re
import time

import pytest
import requests
from requests.adapters import HTTPAdapter

from accounts.models import User
from orders.tests.conftest import SmtpSink
from tests.test_production_stack import form_value, production_stack  # noqa: F401 - the fixture

PASSWORD = "correct-horse-battery"


class SourceAddressAdapter(HTTPAdapter):
    """Connections from one local source address (requests' documented transport-adapter hook)."""

    def __init__(self, address: str, **kwargs):
        self.address = address
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def client_at(address: str) -> requests.Session:
    """A browser-like session whose connections come from `address` (127.0.0.x)."""
    session = requests.Session()
    session.mount("http://", SourceAddressAdapter(address))
    return session


def html_login(client: requests.Session, url: str, email: str, password: str, *, path: str = "/accounts/login/",
               extra: dict | None = None) -> requests.Response:
    page = client.get(url + path, timeout=30)
    token = form_value(page.text, "csrfmiddlewaretoken")
    return client.post(url + path, timeout=30, allow_redirects=False,
                       data={"csrfmiddlewaretoken": token, "username": email, "password": password, **(extra or {})})


def api_token(client: requests.Session, url: str, email: str, password: str, **extra) -> requests.Response:
    return client.post(url + "/api/v1/auth/token", json={"email": email, "password": password, **extra}, timeout=30)


@pytest.fixture
def smtp_sink():
    sink = SmtpSink()
    sink.controller.start()
    yield sink
    sink.controller.stop()


@pytest.fixture
def stack(request, transactional_db, monkeypatch, smtp_sink):
    """The production stack, its worker sending email to `smtp_sink` (transactional_db first: the
    test database must exist before the fixture reads its name)."""
    monkeypatch.setenv("EMAIL_URL", f"smtp://127.0.0.1:{smtp_sink.port}")
    monkeypatch.setenv("SHOP_BASE_URL", "http://shop.example")
    return request.getfixturevalue("production_stack")


def wait_for_mail(sink: SmtpSink, to: str, count: int, timeout: float = 60.0) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [message for recipients, message in sink.messages if to in recipients]
        if len(found) >= count:
            return found
        time.sleep(0.3)
    from outbox.models import Message

    outbox = list(Message.objects.order_by("pk").values_list("kind", "status", "attempts", "relayed_at", "last_error"))
    raise AssertionError(f"{count} email(s) to {to} expected; got {[m['subject'] for _, m in sink.messages]}; "
                         f"outbox: {outbox}")


def test_each_client_is_its_own_client_behind_nginx(stack, smtp_sink):
    url = stack.url
    User.objects.create_user(email="ann@example.com", password=PASSWORD)
    User.objects.create_superuser(email="boss@example.com", password=PASSWORD)
    User.objects.create_user(email="cy@example.com", password=PASSWORD)
    attacker, victim = client_at("127.0.0.2"), client_at("127.0.0.3")
    attacker.headers["X-Forwarded-For"] = "127.0.0.3"  # posing as the victim: nginx appends the real address

    # 1. Five bad passwords from 127.0.0.2 lock (account, 127.0.0.2) on every login path, not 127.0.0.3.
    for _ in range(5):
        html_login(attacker, url, "ann@example.com", "wrong")
    assert html_login(attacker, url, "ann@example.com", PASSWORD).status_code == 429
    assert html_login(victim, url, "ann@example.com", PASSWORD).status_code == 302
    assert victim.get(url + "/accounts/profile/", timeout=30, allow_redirects=False).status_code == 200

    for _ in range(5):
        html_login(attacker, url, "boss@example.com", "wrong", path="/admin/login/")
    assert html_login(attacker, url, "boss@example.com", PASSWORD, path="/admin/login/").status_code == 429
    staff = client_at("127.0.0.3")
    assert html_login(staff, url, "boss@example.com", PASSWORD, path="/admin/login/").status_code == 302
    assert staff.get(url + "/admin/", timeout=30, allow_redirects=False).status_code == 200

    api_attacker, api_owner = client_at("127.0.0.4"), client_at("127.0.0.5")
    for _ in range(5):
        api_token(api_attacker, url, "cy@example.com", "wrong")
    assert api_token(api_attacker, url, "cy@example.com", PASSWORD).status_code == 429
    tokens = api_token(api_owner, url, "cy@example.com", PASSWORD)
    assert tokens.status_code == 200, tokens.text

    # Axes recorded each attacker's own address, and the logs name the clients.
    from axes.models import AccessAttempt

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.2", "127.0.0.4"}
    logged = {line.get("ip") for line in stack.json_lines("web") if line.get("event") == "request_started"}
    assert {"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"} <= logged, logged

    # 2. Ten auth calls from one host use up that host's throttle, not another host's.
    noisy, quiet = client_at("127.0.0.6"), client_at("127.0.0.7")
    statuses = [api_token(noisy, url, f"nobody{n}@example.com", "wrong").status_code for n in range(11)]
    assert statuses[-1] == 429 and 429 not in statuses[:10], statuses
    assert api_token(quiet, url, "cy@example.com", PASSWORD).status_code == 200
    refreshed = quiet.post(url + "/api/v1/auth/token/refresh", json={"refresh": tokens.json()["refresh"]}, timeout=30)
    assert refreshed.status_code == 200, refreshed.text
    registered = quiet.post(url + "/api/v1/auth/register", timeout=30,
                            json={"email": "dee@example.com", "password": "another-long-passphrase-7"})
    assert registered.status_code == 201, registered.text

    # 3. Distributed guessing: 52 failures on ann's account from 13 addresses, 4 each (under the
    #    per-address limit, as a botnet would), HTML and API alike.
    for host in range(20, 33):
        guesser = client_at(f"127.0.0.{host}")
        for attempt in range(4):
            if attempt % 2:
                assert api_token(guesser, url, "ann@example.com", f"guess-{host}-{attempt}").status_code == 401
            else:
                assert html_login(guesser, url, "ann@example.com", f"guess-{host}-{attempt}").status_code == 200

    # Now the right password alone gets nobody in, on any path, and nobody is locked out: the
    # owner (127.0.0.8, a new address) is sent a one-time link.
    owner = client_at("127.0.0.8")
    held = html_login(owner, url, "ann@example.com", PASSWORD)
    assert held.status_code == 200 and "emailed" in held.text, held.text[-2000:]
    assert owner.get(url + "/accounts/profile/", timeout=30, allow_redirects=False).status_code == 302
    api_held = api_token(owner, url, "ann@example.com", PASSWORD)
    assert api_held.status_code == 403 and api_held.json()["code"] == "login_link_required", api_held.text
    assert "access" not in api_held.json()
    [email, *_] = wait_for_mail(smtp_sink, "ann@example.com", 1)
    text = email.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"http://shop\.example(/accounts/login/link/[^\s]+/)", text).group(1)
    code = re.search(r"code:\s*(\S+)", text).group(1)

    # The link alone is not enough (a wrong password with it fails) ...
    page = owner.get(url + link, timeout=30)
    assert page.status_code == 200
    assert html_login(owner, url, "ann@example.com", "wrong", path=link).status_code == 200
    # ... the link plus the password logs in, once.
    done = html_login(owner, url, "ann@example.com", PASSWORD, path=link)
    assert done.status_code == 302, done.text[-2000:]
    assert owner.get(url + "/accounts/profile/", timeout=30, allow_redirects=False).status_code == 200
    again = html_login(client_at("127.0.0.9"), url, "ann@example.com", PASSWORD, path=link)
    assert again.status_code == 200 and "no longer valid" in again.text
    # The API takes the code from the same kind of email together with the password.
    api_held = api_token(client_at("127.0.0.10"), url, "ann@example.com", PASSWORD)
    assert api_held.status_code == 403
    second = wait_for_mail(smtp_sink, "ann@example.com", 4)[-1]  # held HTML, held API, reused link, this
    code = re.search(r"code:\s*(\S+)", second.get_body(preferencelist=("plain",)).get_content()).group(1)
    granted = api_token(client_at("127.0.0.10"), url, "ann@example.com", PASSWORD, login_code=code)
    assert granted.status_code == 200 and "access" in granted.json(), granted.text
    # The admin login asks for the link too.
    User.objects.filter(email="ann@example.com").update(is_staff=True, is_superuser=True)
    admin_held = html_login(client_at("127.0.0.11"), url, "ann@example.com", PASSWORD, path="/admin/login/")
    assert admin_held.status_code == 200 and "emailed" in admin_held.text
    assert User.objects.filter(email="dee@example.com").exists()
