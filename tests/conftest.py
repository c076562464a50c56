"""Fixtures for tests that drive a real browser (Debian's Chromium) against a real ASGI server (daphne).

- `asgi_live_server`: daphne serving HTTP, static files and WebSockets on the test database.
- `browser`: Chromium through Playwright, one per test; `page`: a fresh page on the live server.
- `open_page`: a factory for more pages, each in its own browser context (own cookies, session
  and cart): a second shopper, or a member of staff (`staff_page` logs one into the admin).
- `browser_problems`: console errors, uncaught exceptions and failed requests of every page above.
- `luma_slice`: a real slice of the Luma catalogue (the Chaz Kangeroo Hoodie and a bag).
"""
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
from channels.testing.live import make_application
from daphne.testing import DaphneProcess
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.db import connection, connections
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Request, expect, sync_playwright

from catalog.tests.luma import import_luma_slice

CHROMIUM = Path("/usr/bin/chromium")
LUMA_START_STOCK = 100  # what products.csv gives every Luma variant
STAFF_EMAIL = "staff@example.com"
STAFF_PASSWORD = "a-long-test-password-42"


class LiveServer:
    """Where the daphne test server listens: `url` (http://...) and `ws_url` (ws://...)."""

    def __init__(self, host: str, port: int):
        self.url = f"http://{host}:{port}"
        self.ws_url = f"ws://{host}:{port}"


@pytest.fixture
def asgi_live_server(transactional_db):
    """daphne serving the whole ASGI app (HTTP, static files and WebSockets) on the test database,
    in a child process, as ChannelsLiveServerTestCase does."""
    assert not (connection.vendor == "sqlite" and connection.is_in_memory_db()), \
        "the browser tests need a file-based test database (see DATABASES TEST NAME in settings)"
    connections.close_all()  # the forked server must not inherit (and later close) our database sockets
    server = DaphneProcess("localhost", partial(make_application, static_wrapper=ASGIStaticFilesHandler))
    server.start()
    while not server.ready.wait(timeout=1):
        assert server.is_alive(), "the daphne test server stopped before it was ready"
    yield LiveServer("localhost", server.port.value)
    server.terminate()
    server.join(timeout=10)


@pytest.fixture
def async_unsafe_orm(monkeypatch):
    """Playwright's sync API runs an event loop in this thread; let the test use the ORM anyway."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def luma_slice(luma_dir, tmp_path, transactional_db) -> None:
    """Import the hoodie MH01 (parent and its 15 variants, 100 units each) and the bag 24-MB01,
    with their images."""
    from catalog.models import Variant

    summary = import_luma_slice(luma_dir, tmp_path, {"MH01", "24-MB01"})
    assert "variants:    16 created" in summary, summary
    assert set(Variant.objects.values_list("stock", flat=True)) == {LUMA_START_STOCK}


@pytest.fixture
def browser_problems() -> list[str]:
    """Console errors, uncaught exceptions and failed requests seen by the pages of `page` and
    `open_page` (favicon aside), labelled with the page's name when it has one."""
    return []


@pytest.fixture
def browser(async_unsafe_orm, asgi_live_server) -> Iterator[Browser]:
    """Debian's Chromium, headless, driven through Playwright's sync API (one browser per test).

    Depends on the live server so that daphne is forked before Playwright's driver and event loop
    exist: the child must not inherit them.
    """
    assert CHROMIUM.exists(), (
        f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium). "
        "Browser tests are never skipped."
    )
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()
    finally:
        # While Playwright's loop runs, asgiref treats this thread as async and Django gives the
        # test a second database connection (context-local, not thread-local). Close it before the
        # loop stops, or it stays open and PostgreSQL refuses to drop the test database at the end.
        connections.close_all()
        playwright.stop()


def report_problems(context: BrowserContext, problems: list[str], label: str = "") -> None:
    """Append every console error, uncaught exception and failed request of the context's pages
    (the favicon aside) to `problems`."""
    prefix = f"[{label}] " if label else ""

    def on_console(message: ConsoleMessage) -> None:
        url = message.location.get("url") or ""
        if message.type == "error" and not url.endswith("/favicon.ico"):
            problems.append(f"{prefix}console error: {message.text} ({url})")

    def on_request_failed(request: Request) -> None:
        if not request.url.endswith("/favicon.ico"):
            problems.append(f"{prefix}request failed: {request.method} {request.url}: {request.failure}")

    context.on("console", on_console)
    context.on("weberror", lambda web_error: problems.append(f"{prefix}page error: {web_error.error}"))
    context.on("requestfailed", on_request_failed)


@pytest.fixture
def open_page(browser, asgi_live_server, browser_problems) -> Iterator[Callable[..., Page]]:
    """A factory: `open_page("staff")` opens a page in a new, independent browser context (its own
    cookies, session and cart) on the live server, so relative URLs work. Problems on it (and on
    any other tab of its context) go to `browser_problems`, prefixed with the label."""
    contexts: list[BrowserContext] = []

    def open_(label: str = "") -> Page:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=asgi_live_server.url)
        context.set_default_timeout(10_000)
        report_problems(context, browser_problems, label)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page) -> Page:
    """A fresh Debian Chromium page on the live server (relative URLs work) that reports problems."""
    return open_page()


@pytest.fixture
def staff_user(transactional_db):
    """A superuser who logs in with STAFF_EMAIL and STAFF_PASSWORD."""
    from accounts.models import User

    return User.objects.create_superuser(email=STAFF_EMAIL, password=STAFF_PASSWORD)


@pytest.fixture
def staff_page(open_page, staff_user) -> Page:
    """A page in its own browser context, logged in to the admin through its login form."""
    staff = open_page("staff")
    staff.goto("/admin/login/")
    staff.get_by_label("Email address").fill(STAFF_EMAIL)
    staff.get_by_label("Password").fill(STAFF_PASSWORD)
    staff.get_by_role("button", name="Log in").click()
    expect(staff.get_by_role("heading", name="Site administration")).to_be_visible()
    return staff


def fill_checkout_address(page: Page, *, email: str, name: str, line1: str, city: str, postcode: str,
                          country: str, region: str = "") -> None:
    """Type a guest's contact and shipping address into the checkout details form; `region` is the
    state or province, which some countries need (the United States, Canada...)."""
    page.get_by_label("Email").fill(email)
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Address line 1").fill(line1)
    page.get_by_label("City").fill(city)
    page.get_by_label("Postcode / ZIP").fill(postcode)
    page.get_by_label("Country").select_option(label=country)
    if region:
        page.get_by_label("State / province / county").fill(region)
