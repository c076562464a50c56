"""schemathesis against the live OpenAPI schema (/api/schema/) on a real daphne server, once as a
customer and once as staff: every check, a bounded number of examples per operation, 0 failures.

The run is the schemathesis CLI in a subprocess (its own process, its own HTTP client), configured
by tests/schemathesis.toml; the server is tests/conftest.py's `asgi_live_server` on the test
database, seeded here with a small catalogue, two customers and an order.
"""
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.tests.factories import UserFactory
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory
from orders import services
from orders.tests.factories import cart_with, checkout_details
from payments.testing import place_paid_order

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "15"))  # per operation and phase


@pytest.fixture
def generous_throttles(settings):
    """The fuzzer sends thousands of requests a minute from one address: lift the rates (read on
    every request, see shop.throttling) before the server process is forked."""
    rates = {scope: "1000000/minute" for scope in ("anon", "user", "auth")}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


@pytest.fixture
def fuzz_server(generous_throttles, asgi_live_server):
    return asgi_live_server


@pytest.fixture
def shop_data(transactional_db) -> dict[str, User]:
    men = CategoryFactory(name="Men", slug="men")
    tops = CategoryFactory(name="Tops", slug="tops", parent=men)
    for index in range(3):
        product = ProductFactory(name=f"Hoodie {index}", categories=[tops])
        VariantFactory(product=product, size="M", colour="Gray", price=Decimal("52.00"), stock=1000)
    customer = UserFactory(email="fuzz-customer@example.com")
    UserFactory(email="other-customer@example.com")
    staff = User.objects.create_superuser(email="fuzz-staff@example.com", password="a-long-test-password-42")
    variant = VariantFactory(stock=1000)
    place_paid_order(cart=cart_with((variant, 1)), customer=customer, details=checkout_details(), idempotency_key="seed")
    return {"customer": customer, "staff": staff}


@pytest.mark.parametrize("role", ["customer", "staff"])
def test_schemathesis_reports_no_failures(fuzz_server, shop_data, role, tmp_path):
    token = str(RefreshToken.for_user(shop_data[role]).access_token)
    command = [
        str(SCHEMATHESIS), "--no-color", "--config-file", str(CONFIG), "run", f"{fuzz_server.url}/api/schema/",
        "--url", fuzz_server.url, "--checks", "all", "--max-examples", str(MAX_EXAMPLES), "--seed", "5",
        "--header", f"Authorization: Bearer {token}", "--generation-database", "none",
        "--report", "junit", "--report-dir", str(tmp_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1200, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]  # schemathesis exits non-zero on any failure or error
    report = ElementTree.parse(next(tmp_path.glob("*.xml"))).getroot()
    suites = [report] if report.tag == "testsuite" else list(report.iter("testsuite"))
    assert sum(int(suite.get("tests", 0)) for suite in suites) >= 30, output[-3000:]  # every operation ran
    assert all(int(suite.get("failures", 0)) + int(suite.get("errors", 0)) == 0 for suite in suites)
