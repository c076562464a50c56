"""Issue 29's Chromium test: through `make prod` (nginx's /ws/, daphne, the Redis channel layer and
cache, gunicorn for the pages; tests/test_production_stack.py's fixture), a shopper and a member
of staff in two browser contexts exchange a message each way, each arriving in under a second.

The shopper starts on the home page: "Chat with us" opens the panel, the first message goes
through the contact form (fetch to gunicorn), and the panel's socket then connects to daphne. Staff
work from /staff/chat/ and the conversation page, whose socket is /ws/staff/chat/. The presence
the shopper's panel shows ("We are online") was written by daphne and read by gunicorn, through
the Redis cache.
"""
import time

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from chat.models import Conversation, Message
from chat.tests.factories import ChatStaffFactory
from tests.conftest import CHROMIUM
from tests.test_production_stack import production_stack  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"  # ChatStaffFactory's
LIVE_WITHIN_SECONDS = 1.0
# Records the page's WebSockets, so that the test knows when the chat socket is open.
WATCH_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = class extends Native { constructor(...a) { super(...a); window.__sockets.push(this); } };
})();
"""


def wait_for_socket(page: Page, path: str) -> None:
    page.wait_for_function("p => window.__sockets.some(s => s.url.includes(p) && s.readyState === 1)",
                           arg=path, timeout=10_000)


def test_shopper_and_staff_chat_live_through_the_production_stack(production_stack, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop runs in this thread
    staff = ChatStaffFactory(email="support@example.com", first_name="Sam")
    url = production_stack.url
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            pages = []
            for label in ("staff", "shopper"):
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                context.add_init_script(WATCH_SOCKETS)
                page = context.new_page()
                page.on("console", lambda m, label=label: problems.append(f"{label}: {m.text}") if m.type == "error" else None)
                page.on("pageerror", lambda e, label=label: problems.append(f"{label}: {e}"))
                pages.append(page)
            staff_page, shopper = pages

            staff_page.goto(url + "/accounts/login/?next=/staff/chat/")
            staff_page.fill('input[name="username"]', staff.email)
            staff_page.fill('input[name="password"]', PASSWORD)
            staff_page.click('main button[type="submit"]')
            expect(staff_page).to_have_url(url + "/staff/chat/")
            wait_for_socket(staff_page, "/ws/staff/chat/")

            shopper.goto(url + "/")
            shopper.click("[data-chat-open]")
            panel = shopper.locator("[data-chat-panel]")
            expect(panel.locator("[data-chat-presence]")).to_contain_text("We are online")
            panel.locator('input[name="email"]').fill("gale.with.a.rather.long.address@example.com")
            panel.locator("textarea").fill("Does the hoodie run small?")
            panel.locator('button[type="submit"]').click()
            expect(panel.locator(".chat-message.chat-shopper")).to_have_count(1)
            wait_for_socket(shopper, "/ws/chat/")
            conversation = Conversation.objects.get()
            # The inbox heard of the new conversation over its socket, and shows it without a reload.
            expect(staff_page.locator("[data-chat-inbox]")).to_contain_text("gale.with.a.rather.long.address@example.com")
            expect(staff_page.locator("[data-staff-presence-names]")).to_contain_text("Sam")  # who is online, too
            assert staff_page.locator("[data-inbox-new]").is_hidden()

            staff_page.goto(f"{url}/staff/chat/{conversation.pk}/")
            wait_for_socket(staff_page, "/ws/staff/chat/")
            staff_page.locator("[data-staff-reply] textarea").fill("It runs true to size: https://example.com/sizes")
            started = time.monotonic()
            staff_page.locator("[data-staff-reply] button[type=submit]").click()
            shopper.wait_for_selector(".chat-message.chat-staff", timeout=5_000)
            staff_to_shopper = time.monotonic() - started
            expect(panel.locator(".chat-message.chat-staff a")).to_have_attribute("href", "https://example.com/sizes")

            panel.locator("textarea").fill("Thanks, I'll take an M")
            started = time.monotonic()
            panel.locator('button[type="submit"]').click()
            staff_page.wait_for_selector(".chat-message.chat-shopper >> nth=1", timeout=5_000)
            shopper_to_staff = time.monotonic() - started
            expect(staff_page.locator("[data-chat-messages]")).to_contain_text("Thanks, I'll take an M")
            # Each side sees its own messages on the right.
            def left_edge(page, author):
                return page.locator(f".chat-message.chat-{author}").first.bounding_box()["x"]
            assert left_edge(staff_page, "staff") > left_edge(staff_page, "shopper")
            assert left_edge(shopper, "shopper") > left_edge(shopper, "staff")
            staff_page.set_viewport_size({"width": 390, "height": 844})  # on a phone the long email wraps
            staff_page.reload()
            assert staff_page.evaluate("document.documentElement.scrollWidth") <= 390
        finally:
            browser.close()
    print(f"\nchat through make prod: staff -> shopper {staff_to_shopper * 1000:.0f} ms, "
          f"shopper -> staff {shopper_to_staff * 1000:.0f} ms")
    assert staff_to_shopper < LIVE_WITHIN_SECONDS and shopper_to_staff < LIVE_WITHIN_SECONDS
    assert list(Message.objects.filter(conversation=conversation).values_list("author", flat=True)) == [
        "shopper", "staff", "shopper"]
    assert problems == []
