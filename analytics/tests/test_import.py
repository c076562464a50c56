"""import_orders on slices of the real file: what each oddity becomes, the summary's counts, no
duplicates on a re-run, no stock moved, and clear errors for files it cannot read."""
import io
from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from analytics.importer import customer_email, import_orders
from analytics.models import ImportAnomaly
from catalog.models import Category, Product, Variant
from catalog.tests.factories import ProductFactory, VariantFactory
from orders.models import Order, OrderLine, OrderStatusChange

# Real invoices chosen for their oddities: a plain one (17850, UK), a guest invoice with postage-free
# lines, a cancellation, the bad-debt adjustments, a stock write-off, zero prices, a sub-penny price.
FIRST_INVOICES = {"536365", "536366", "536367"}


def oddities(row) -> bool:
    number = row["InvoiceNo"]
    return (number in FIRST_INVOICES or number in {"C536379", "C536383", "536592", "536544", "536370"}
            or number.startswith("A") or row["UnitPrice"] == "0.001"
            or (row["Quantity"].startswith("-") and not number.startswith("C") and row["InvoiceDate"] < "2010-12-03"))


@pytest.fixture
def odd_slice(retail_slice):
    return retail_slice(oddities)


def run(path) -> str:
    out = io.StringIO()
    call_command("import_orders", str(path), "--no-progress", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_each_oddity_becomes_what_the_summary_says(odd_slice, retail_rows):
    rows = [row for row in retail_rows if oddities(row)]
    output = run(odd_slice)

    assert f"Lines read: {len(rows)}" in output
    invoices = {row["InvoiceNo"] for row in rows}
    sales = {n for n in invoices if n[0].isdigit() and any(
        r["InvoiceNo"] == n and int(r["Quantity"]) > 0 for r in rows)}
    credits = {n for n in invoices if n.startswith("C")}
    assert set(Order.objects.filter(status="delivered").values_list("number", flat=True)) == sales
    assert set(Order.objects.filter(status="refunded").values_list("number", flat=True)) == credits
    assert OrderStatusChange.objects.filter(from_status="", to_status="refunded").count() == len(credits)

    # The customer of the first invoice, with its country and its first invoice's time.
    customer = User.objects.get(email=customer_email("17850"))
    assert customer.country == "GB" and not customer.has_usable_password()
    first = Order.objects.get(number="536365")
    assert first.customer == customer and first.currency == "GBP" and first.shipping_country == "GB"
    assert first.created_at.isoformat() == "2010-12-01T08:26:00+00:00"  # London wall clock, winter
    assert first.total == sum(Decimal(r["Quantity"]) * Decimal(r["UnitPrice"]) for r in rows
                              if r["InvoiceNo"] == "536365")
    # A product per StockCode, hidden, in the Online Retail tree, priced in the file's prices.
    variant = Variant.objects.select_related("product").get(sku="85123A")
    prices = Counter(Decimal(r["UnitPrice"]) for r in rows if r["StockCode"] == "85123A" and r["InvoiceNo"] in sales)
    most_frequent = min(prices, key=lambda price: (-prices[price], price))
    assert variant.stock == 0 and not variant.product.is_visible and variant.price == most_frequent
    assert variant.product.name == "WHITE HANGING HEART T-LIGHT HOLDER"
    assert variant.product.categories.get().path == "online-retail/products"
    assert Category.objects.get(path="online-retail").name == "Online Retail"

    # A cancellation: positive quantities on a refunded order.
    credit = Order.objects.get(number="C536379")
    assert credit.status == "refunded" and credit.total == Decimal("27.50")
    assert list(credit.lines.values_list("sku", "quantity", "variant")) == [("D", 1, None)]  # a discount line

    # Guest orders, zero prices, the sub-penny price, and the lines that are not sales.
    guests = {r["InvoiceNo"] for r in rows if not r["CustomerID"] and r["InvoiceNo"] in sales}
    assert set(Order.objects.filter(customer=None, status="delivered").values_list("number", flat=True)) == guests
    assert f"{len(guests)} guest orders" in output
    zero = [r for r in rows if Decimal(r["UnitPrice"]) == 0 and int(r["Quantity"]) > 0]
    assert f"Zero-price lines (kept as free items): {len(zero)}" in output
    sub_penny = [r for r in rows if r["UnitPrice"] == "0.001"]
    assert OrderLine.objects.filter(unit_price=0).count() == len(zero) + len(sub_penny)  # 0.001 rounds to 0.00
    assert f"Sub-penny unit prices rounded to the penny: {len(sub_penny)}" in output
    write_offs = [r for r in rows if int(r["Quantity"]) < 0 and not r["InvoiceNo"].startswith("C")]
    assert ImportAnomaly.objects.filter(kind="stock_adjustment").count() == len(write_offs) > 0
    adjustment = ImportAnomaly.objects.get(invoice_no="A563186")
    assert adjustment.unit_price == Decimal("-11062.06") and adjustment.raw["Description"] == "Adjust bad debt"
    assert "Negative-price lines (A invoices, bad-debt adjustments) -> anomalies: 2" in output
    assert OrderLine.objects.count() + ImportAnomaly.objects.count() == len(rows)  # nothing silently dropped
    non_product = OrderLine.objects.filter(variant=None)
    assert set(non_product.values_list("sku", flat=True)) <= {"POST", "D", "M", "DOT", "BANK CHARGES"}
    assert f"Non-product lines (kept, no product): {non_product.count()}" in output


@pytest.mark.django_db
def test_a_second_import_creates_nothing(odd_slice):
    run(odd_slice)
    models = (User, Product, Variant, Order, OrderLine, OrderStatusChange, ImportAnomaly)
    counts = {model: model.objects.count() for model in models}
    output = run(odd_slice)
    assert {model: model.objects.count() for model in models} == counts
    assert f"Invoices already imported, left alone: {Order.objects.count()}" in output
    assert "Anomaly rows recorded (new): 0" in output


@pytest.mark.django_db
def test_history_never_moves_live_stock(retail_slice):
    live = VariantFactory(sku="85123A", stock=7, product=ProductFactory(sku="LIVE-1"))
    import_orders(retail_slice(lambda row: row["InvoiceNo"] in FIRST_INVOICES), progress=False)
    live.refresh_from_db()
    assert live.stock == 7  # the history's 6 units did not come out of the shop's stock
    assert OrderLine.objects.get(order__number="536365", sku="85123A").variant == live


@pytest.mark.django_db
def test_files_it_cannot_read_give_clear_errors(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        run(tmp_path / "missing.csv")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("Invoice,Code\n1,2\n")
    with pytest.raises(CommandError, match="line 1: expected the columns InvoiceNo,StockCode"):
        run(wrong)
    bad = tmp_path / "bad.csv"
    bad.write_text("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
                   "536365,85123A,HEART,six,2010-12-01 08:26,2.55,17850,United Kingdom\n"
                   "536365,71053,LANTERN,6,2010-12-01 08:26,3.39,17850,United Kingdom\n"
                   "536366,22633,HAND WARMER,6,2010-12-01 08:28,1.85,17851,Atlantis\n")
    output = run(bad)
    assert "Malformed lines -> anomalies: 1" in output
    assert ImportAnomaly.objects.get(kind="malformed").line_number == 2
    assert Order.objects.get(number="536365").lines.count() == 1
    assert Order.objects.get(number="536366").shipping_country == "ZZ"
    assert "Unknown country names (imported as ZZ): {'Atlantis': 1}" in output


@pytest.mark.django_db
def test_make_demo_imports_the_history_once_and_rolls_it_up(retail_slice):
    path = retail_slice(lambda row: row["InvoiceNo"] in FIRST_INVOICES)
    out = io.StringIO()
    call_command("import_orders", str(path), "--no-progress", "--once", "--rebuild", stdout=out)
    assert "Analytics rebuilt for 2010-12-01 to 2010-12-01." in out.getvalue()
    from analytics.models import DailySales

    assert DailySales.objects.get(day="2010-12-01").orders == 3
    out = io.StringIO()
    call_command("import_orders", str(path), "--no-progress", "--once", stdout=out)
    assert "already imported: nothing to do" in out.getvalue()


@pytest.mark.django_db
def test_make_demo_puts_the_history_on_sale_so_its_recommendations_show(retail_slice, client):
    from rest_framework.test import APIClient

    from accounts.tests.factories import UserFactory

    path = retail_slice(lambda row: row["InvoiceNo"] in FIRST_INVOICES)
    out = io.StringIO()
    call_command("import_orders", str(path), "--no-progress", "--once", "--publish-stock", "5", stdout=out)
    assert "products put on sale, 5 units each" in out.getvalue()
    imported = Product.objects.filter(variants__sku="85123A").get()  # WHITE HANGING HEART T-LIGHT HOLDER
    assert imported.is_visible and imported.variants.get().stock == 5
    assert Category.objects.get(path="online-retail/products").is_visible
    assert client.get(imported.get_absolute_url()).status_code == 200
    assert "T-LIGHT HOLDER" in client.get("/search/", {"q": "t-light holder"}).content.decode()
    call_command("build_recommendations", "--no-progress", stdout=io.StringIO())
    api = APIClient()
    api.force_authenticate(UserFactory(email="ann@example.com"))
    body = api.post("/api/v1/recommendations", {"product_id": imported.pk}, format="json").json()
    assert body["recommendations"] and body["recommendations"][0]["reason"].startswith("Similar to WHITE HANGING")
    with pytest.raises(CommandError, match="--publish-stock: stock must be at least 1"):
        call_command("import_orders", str(path), "--no-progress", "--publish-stock", "0", stdout=io.StringIO())
