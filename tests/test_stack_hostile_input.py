"""Issue 21 item 5 through the real topology (`make prod`: nginx -> gunicorn on a Unix socket, and
nginx -> daphne for /ws/): hostile input gets a clean 4xx or WebSocket close code and no
traceback in any process's log.

- A 3 MB form field: Django answers 413 after reading the body (nginx used to answer 502, because
  gunicorn closed the connection while nginx was still sending); a body over nginx's
  client_max_body_size (= SHOP_MAX_REQUEST_BYTES) gets nginx's own 413.
- NUL in a query or form, deeply nested JSON on the auth endpoints, an over-long URI (414 from
  gunicorn), an unknown /ws/ path (close 4404) and a 3,000-deep WebSocket frame (an error reply,
  the socket stays open).
shop/tests/test_hostile_input.py walks every route in-process with the whole corpus.
"""
import json

import pytest
import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.test_production_stack import form_value, production_stack  # noqa: F401 - the fixture

HOSTILE_QUERIES = ["%00", "a%00b", "%ff%fe", "x" * 3000, "[" * 2000, "-1", "9223372036854775808", "1e309",
                   "NaN", "..%2F..%2Fetc%2Fpasswd", "%27%20OR%201%3D1--", "2020-13-45", "%ED%A0%80"]
PAGES = ["/", "/search/", "/c/men/", "/p/no-such-product/", "/cart/", "/checkout/", "/accounts/login/",
         "/api/v1/products/", "/api/v1/categories/", "/api/v1/inventory/", "/orders/track/x/", "/admin/login/"]
PARAMETERS = ["q", "page", "sort", "size", "min_price", "after", "search", "ordering", "next", "variants"]


@pytest.fixture
def stack(transactional_db, request):
    return request.getfixturevalue("production_stack")


def test_hostile_input_through_nginx_gets_clean_4xx_and_close_codes(stack):
    url = stack.url
    browser = requests.Session()  # a real form post: with its CSRF cookie and token
    token = form_value(browser.get(url + "/accounts/login/", timeout=30).text, "csrfmiddlewaretoken")
    big_form = browser.post(url + "/accounts/login/", timeout=60,
                            data={"csrfmiddlewaretoken": token, "username": "x" * 3_000_000, "password": "x"})
    assert big_form.status_code == 413, (big_form.status_code, big_form.text[:300])
    assert "larger than" in big_form.text  # Django's answer, after reading the body
    too_big = requests.post(url + "/accounts/login/", data=b"x" * (17 * 1024 * 1024),
                            headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=60)
    assert too_big.status_code == 413 and too_big.headers["Server"].startswith("nginx")

    assert requests.get(url + "/search/?q=%00", timeout=30).status_code == 400
    for path in ("/api/v1/auth/token", "/api/v1/auth/register", "/api/v1/auth/token/refresh"):
        nested = requests.post(url + path, data="[" * 5000, headers={"Content-Type": "application/json"}, timeout=30)
        assert nested.status_code == 400 and nested.json()["code"] == "parse_error", (path, nested.text[:300])
    assert requests.get(url + "/search/?q=" + "x" * 5000, timeout=30).status_code == 414

    # Every page and parameter above with each hostile value, through nginx: no 5xx.
    statuses = []
    for page in PAGES:
        for value in HOSTILE_QUERIES:
            query = "&".join(f"{name}={value}" for name in PARAMETERS)
            statuses.append((page, value, requests.get(f"{url}{page}?{query}", timeout=60).status_code))
    server_errors = [entry for entry in statuses if entry[2] >= 500]
    print(f"\nthrough nginx: {len(statuses)} hostile requests, 5xx seen: {len(server_errors)}")
    assert server_errors == []

    ws = url.replace("http://", "ws://")
    with connect(ws + "/ws/no-such-stream/", origin=url, open_timeout=10) as socket:
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
    assert closed.value.rcvd.code == 4404
    with connect(ws + "/ws/inventory/", origin=url, open_timeout=10) as socket:
        socket.send("[" * 3000)
        assert json.loads(socket.recv(timeout=10))["type"] == "error"
        socket.send(json.dumps({"type": "ping"}))
        assert json.loads(socket.recv(timeout=10)) == {"type": "pong"}

    log = stack.logs()
    assert "Traceback" not in log and "Internal Server Error" not in log, log[-6000:]
    assert "Refused POST /accounts/login/ with 413" in log
