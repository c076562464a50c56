"""Issue 24's fixes to /staff/analytics/ and /staff/: the shop's currency selectable beside the
history's, no "vs previous" against a period without data, the empty funnel explained, every
country in the chart data, and no verify-email reminder for staff."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.conf import settings

from accounts.tests.factories import AnalystFactory
from analytics.models import DailyCountry, DailySales
from analytics.tests.test_dashboard import URL, fill_days
from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(AnalystFactory())  # email never verified
    return client


def test_the_shops_currency_is_selectable_next_to_the_historys(staff_client):
    fill_days(date(2011, 11, 1), 10, [ProductFactory()], currency="GBP")
    page = staff_client.get(URL)
    assert page.context["currencies"] == sorted({"GBP", settings.SHOP_CURRENCY})
    assert staff_client.get(URL, {"currency": settings.SHOP_CURRENCY}).context["currency"] == settings.SHOP_CURRENCY


def test_no_comparison_with_a_previous_period_the_data_does_not_cover(staff_client):
    fill_days(date(2010, 12, 1), 40, [ProductFactory()])  # 1 Dec 2010 .. 9 Jan 2011
    year = staff_client.get(URL, {"range": "custom", "start": "2011-01-01", "end": "2011-01-09", "currency": "GBP"})
    assert year.context["comparable"] and "vs previous" in year.content.decode()
    whole = staff_client.get(URL, {"range": "custom", "start": "2010-12-01", "end": "2011-01-09", "currency": "GBP"})
    page = whole.content.decode()
    assert not whole.context["comparable"] and "vs previous" not in page and "no comparison" in page


def test_an_empty_funnel_says_why_and_every_country_is_charted(staff_client):
    day = date.today() - timedelta(days=1)
    DailySales.objects.create(day=day, currency="GBP", orders=1, units=1, gross_revenue=Decimal("10.00"),
                              net_revenue=Decimal("10.00"), customers=1, new_customers=1)
    codes = ["GB", "FR", "DE", "NL", "BE", "ES", "PT", "IT", "IE", "CH", "AT", "SE", "NO", "DK", "FI", "PL"]
    for n, code in enumerate(codes):
        DailyCountry.objects.create(day=day, currency="GBP", country=code, orders=1,
                                    gross_revenue=Decimal(n + 1), net_revenue=Decimal(n + 1))
    page = staff_client.get(URL, {"range": "7", "currency": "GBP"})
    assert "No shop visits in this period" in page.content.decode()
    assert len(page.context["chart_data"]["countries"]["labels"]) == len(codes)


def test_staff_get_no_verify_email_reminder(staff_client):
    assert "Please verify your email" not in staff_client.get("/staff/").content.decode()
