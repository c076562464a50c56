"""Import the UCI "Online Retail" order history (../shared/data/online-retail, format in its README)
as customers, products and historical orders.

What becomes what (every line is accounted for in `ImportSummary`):
- one `accounts.User` per CustomerID, email `online-retail-<CustomerID>@customers.invalid` (the
  reserved .invalid domain: deterministic, so a re-import finds it; nobody can log in as it, the
  password is unusable), `country` from the customer's first invoice, `date_joined` its time;
- one hidden `catalog.Product` with one `Variant` per StockCode (SKU = StockCode), in the
  "Online Retail" category, named by the code's most frequent description and priced at its most
  frequent positive unit price, with no stock. Non-product codes (`NON_PRODUCT_CODES`: postage,
  manual entries, fees, discounts...) get no product: their lines are order lines without a variant;
- one `orders.Order` per sales invoice (status delivered), `created_at` the invoice time (the file's
  wall-clock in `timezone`, the earliest if an invoice spans two minutes), `currency` as given,
  every line an `OrderLine` (zero-price lines included, as free items). No CustomerID: a guest order;
- one order per `C` invoice (a credit note): status refunded from the start, quantities as positive
  numbers, its total what was paid back. Rollups count it as a refund on its day, never as a sale;
- `ImportAnomaly` rows for the lines that are not sales: `A` invoices ("Adjust bad debt", negative
  prices) and negative quantities outside a `C` invoice (stock write-offs, all with price 0), plus
  any malformed line (with its line number).
Unit prices with more than two decimals (0.001) are rounded half-up to the penny, line totals too.

Orders, lines and status history go in with PostgreSQL COPY (executemany elsewhere), in one
transaction. Invoices whose number is already an order are left alone, so re-running imports nothing
twice. It never touches stock and broadcasts nothing: this is history, not checkout.
"""
from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone as django_timezone
from django.utils.text import slugify
from tqdm import tqdm

from accounts.models import User
from catalog.models import Category, Product, Variant
from orders.models import Order, OrderLine, OrderStatusChange
from shop.sources import Source

from .countries import UNKNOWN, country_code
from .models import ImportAnomaly

COLUMNS = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]
NON_PRODUCT_CODES: dict[str, str] = {
    "POST": "postage", "DOT": "postage", "C2": "carriage", "M": "manual", "m": "manual", "D": "discount",
    "S": "samples", "BANK CHARGES": "bank charges", "AMAZONFEE": "amazon fee", "CRUK": "commission",
    "B": "bad debt",
}
PROVIDER = "online-retail"
CATEGORY_NAME = "Online Retail"
PENNY = Decimal("0.01")
BATCH = 5000


class OrderImportError(ValueError):
    """The file cannot be imported at all (missing, or not the expected columns)."""


@dataclass
class ImportSummary:
    """Counts of what the import read and did, one per decision, for the command's report."""

    lines: int = 0
    sales_invoices: int = 0
    credit_notes: int = 0
    guest_orders: int = 0
    already_imported: int = 0
    order_lines: int = 0
    credit_note_lines: int = 0
    customers_created: int = 0
    customers_existing: int = 0
    products_created: int = 0
    products_existing: int = 0
    guest_lines: int = 0
    zero_price_lines: int = 0
    negative_price_lines: int = 0
    sub_penny_prices: int = 0
    non_product_lines: Counter = field(default_factory=Counter)
    stock_adjustment_lines: int = 0
    accounting_adjustment_lines: int = 0
    malformed_lines: int = 0
    unknown_countries: Counter = field(default_factory=Counter)
    anomalies_recorded: int = 0
    first_day: date | None = None  # the first and last day (shop TIME_ZONE) of the invoices read
    last_day: date | None = None

    def report(self) -> list[str]:
        """Human-readable lines, one per count."""
        non_product = ", ".join(f"{code} {n}" for code, n in self.non_product_lines.most_common()) or "none"
        return [
            f"Lines read: {self.lines}",
            f"Sales invoices -> delivered orders: {self.sales_invoices} ({self.guest_orders} guest orders "
            f"from {self.guest_lines} lines without a CustomerID)",
            f"C invoices (cancellations) -> refunded orders (credit notes): {self.credit_notes} "
            f"({self.credit_note_lines} lines)",
            f"Invoices already imported, left alone: {self.already_imported}",
            f"Order lines written: {self.order_lines + self.credit_note_lines}",
            f"Customers: {self.customers_created} created, {self.customers_existing} already there",
            f"Products: {self.products_created} created, {self.products_existing} already there",
            f"Zero-price lines (kept as free items): {self.zero_price_lines}",
            f"Sub-penny unit prices rounded to the penny: {self.sub_penny_prices}",
            f"Non-product lines (kept, no product): {sum(self.non_product_lines.values())} ({non_product})",
            f"Negative-price lines (A invoices, bad-debt adjustments) -> anomalies: {self.negative_price_lines}",
            f"Accounting adjustment lines (A invoices) -> anomalies: {self.accounting_adjustment_lines}",
            f"Negative quantities outside a C invoice (stock write-offs) -> anomalies: {self.stock_adjustment_lines}",
            f"Malformed lines -> anomalies: {self.malformed_lines}",
            f"Anomaly rows recorded (new): {self.anomalies_recorded}",
            f"Unknown country names (imported as {UNKNOWN}): {dict(self.unknown_countries) or 'none'}",
        ]


@dataclass
class _Invoice:
    number: str
    created_at: datetime
    customer_id: str
    country: str
    lines: list = field(default_factory=list)  # (code, description, quantity, unit_price, line_total)


def customer_email(customer_id: str) -> str:
    """The deterministic email of a file's CustomerID ("17850" -> online-retail-17850@customers.invalid)."""
    return f"online-retail-{customer_id}@customers.invalid"


def product_slug(code: str) -> str:
    """A unique slug per StockCode. Codes differing only in case ("15056bl", "15056BL") get apart
    by a suffix on the one with lower-case letters."""
    slug = "or-" + (slugify(code.replace(" ", "-")) or "code")
    return slug + "-lc" if code != code.upper() else slug


def _open(path: Path):
    if not path.is_file():
        raise OrderImportError(f"No such file: {path}")
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def import_orders(path: str | Path, *, currency: str = "GBP", timezone: str = "Europe/London",
                  progress: bool = True) -> ImportSummary:
    """Import an Online Retail CSV (plain or .gz) at `path`; see the module docstring for the rules.

    `currency`: ISO 4217 code of UnitPrice (GBP in the UCI file). `timezone`: the zone of the file's
    wall-clock InvoiceDate. Returns the counts. Raises OrderImportError when the file is missing or its
    header is not the expected columns; bad lines never raise, they become anomalies.
    """
    path = Path(path)
    summary = ImportSummary()
    zone = ZoneInfo(timezone)
    invoices, anomalies, descriptions, prices = _read(path, zone, summary, progress)
    if invoices:
        days = [django_timezone.localdate(invoice.created_at) for invoice in invoices.values()]
        summary.first_day, summary.last_day = min(days), max(days)
    with transaction.atomic():
        existing = set(Order.objects.filter(number__in=list(invoices)).values_list("number", flat=True))
        summary.already_imported = len(existing)
        todo = [inv for number, inv in invoices.items() if number not in existing]
        customers = _customers(todo, summary)
        variants = _products(todo, descriptions, prices, summary)
        _orders(todo, customers, variants, currency, summary, progress)
        before = ImportAnomaly.objects.filter(source=path.name).count()
        ImportAnomaly.objects.bulk_create([ImportAnomaly(source=path.name, **a) for a in anomalies],
                                          batch_size=BATCH, ignore_conflicts=True)
        summary.anomalies_recorded = ImportAnomaly.objects.filter(source=path.name).count() - before
        if connection.vendor == "postgresql":
            # Fresh planner statistics: without them the rollup queries over a just-loaded history
            # get nested-loop plans for "7 rows" and take 100x longer, until autovacuum comes by.
            with connection.cursor() as cursor:
                for model in (Order, OrderLine, OrderStatusChange, User, Product, Variant):
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return summary


def _read(path: Path, zone: ZoneInfo, summary: ImportSummary, progress: bool):
    """One pass over the file: invoices by number, anomaly rows, and per-code descriptions/prices."""
    invoices: dict[str, _Invoice] = {}
    anomalies: list[dict] = []
    descriptions: dict[str, Counter] = defaultdict(Counter)
    prices: dict[str, Counter] = defaultdict(Counter)
    parsed_dates: dict[str, datetime] = {}
    with _open(path) as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or [h.strip() for h in header] != COLUMNS:
            raise OrderImportError(f"{path.name} line 1: expected the columns {','.join(COLUMNS)}, got {header}")
        for line_number, row in enumerate(tqdm(reader, desc="Reading", unit=" lines", disable=not progress,
                                               mininterval=0.5), start=2):
            summary.lines += 1
            try:
                number, code, description, quantity, when, price, customer, country = row
                quantity = int(quantity)
                price = Decimal(price)
                if not price.is_finite():
                    raise InvalidOperation
                created_at = parsed_dates.get(when)
                if created_at is None:
                    created_at = parsed_dates[when] = datetime.strptime(when, "%Y-%m-%d %H:%M").replace(tzinfo=zone)
                if not number or not code:
                    raise ValueError("empty InvoiceNo or StockCode")
            except (ValueError, InvalidOperation):
                summary.malformed_lines += 1
                anomalies.append(dict(line_number=line_number, kind="malformed", invoice_no=(row or [""])[0][:32],
                                      stock_code=(row[1] if len(row) > 1 else "")[:64], quantity=0,
                                      unit_price=Decimal(0), raw={"line": row}))
                continue
            raw = dict(zip(COLUMNS, row))
            if price < 0:
                summary.negative_price_lines += 1
            if number.startswith("A") or price < 0:
                summary.accounting_adjustment_lines += 1
                anomalies.append(dict(line_number=line_number, kind=ImportAnomaly.Kind.ACCOUNTING_ADJUSTMENT,
                                      invoice_no=number, stock_code=code, quantity=quantity,
                                      unit_price=price, raw=raw))
                continue
            credit = number.startswith("C")
            if quantity <= 0 and not credit:
                summary.stock_adjustment_lines += 1
                anomalies.append(dict(line_number=line_number, kind=ImportAnomaly.Kind.STOCK_ADJUSTMENT,
                                      invoice_no=number, stock_code=code, quantity=quantity,
                                      unit_price=price, raw=raw))
                continue
            quantity = abs(quantity)
            if price == 0:
                summary.zero_price_lines += 1
            unit_price = price.quantize(PENNY, ROUND_HALF_UP)
            if unit_price != price:
                summary.sub_penny_prices += 1
            line_total = (price * quantity).quantize(PENNY, ROUND_HALF_UP)
            if not customer:
                summary.guest_lines += 1
            if code in NON_PRODUCT_CODES:
                summary.non_product_lines[code] += 1
            else:
                description = description.strip()
                if description:
                    descriptions[code][description] += 1
                if price > 0 and not credit:
                    prices[code][unit_price] += 1
            invoice = invoices.get(number)
            if invoice is None:
                code_for_country = country_code(country)
                if code_for_country is None:
                    summary.unknown_countries[country] += 1
                invoice = invoices[number] = _Invoice(number=number, created_at=created_at, customer_id=customer,
                                                      country=code_for_country or UNKNOWN)
            elif created_at < invoice.created_at:
                invoice.created_at = created_at
            invoice.lines.append((code, description, quantity, unit_price, line_total))
    return invoices, anomalies, descriptions, prices


def _customers(invoices: list[_Invoice], summary: ImportSummary) -> dict[str, int]:
    """CustomerID -> User id, creating the missing users (first invoice gives country and joining time)."""
    first: dict[str, _Invoice] = {}
    for invoice in invoices:
        if invoice.customer_id and (invoice.customer_id not in first
                                    or invoice.created_at < first[invoice.customer_id].created_at):
            first[invoice.customer_id] = invoice
    emails = {customer_email(cid): cid for cid in first}
    found = dict(User.objects.filter(email__in=list(emails)).values_list("email", "pk"))
    summary.customers_existing = len(found)
    unusable = make_password(None)  # "!" + random: no password can match it
    new = [User(email=email, password=unusable, country=first[cid].country, date_joined=first[cid].created_at,
                source=Source.ONLINE_RETAIL) for email, cid in emails.items() if email not in found]
    User.objects.bulk_create(new, batch_size=BATCH)
    summary.customers_created = len(new)
    found.update(User.objects.filter(email__in=[u.email for u in new]).values_list("email", "pk"))
    return {cid: found[email] for email, cid in emails.items()}


def _products(invoices: list[_Invoice], descriptions, prices, summary: ImportSummary) -> dict[str, int]:
    """StockCode -> Variant id for every product code in `invoices`, creating what is missing."""
    codes = sorted({line[0] for invoice in invoices for line in invoice.lines if line[0] not in NON_PRODUCT_CODES})
    variants = dict(Variant.objects.filter(sku__in=codes).values_list("sku", "pk"))
    summary.products_existing = len(variants)
    missing = [code for code in codes if code not in variants]
    if not missing:
        return variants
    root, _ = Category.objects.get_or_create(path="online-retail", defaults={
        "name": CATEGORY_NAME, "slug": "online-retail", "is_visible": False,
        "description": "Products of the imported UCI Online Retail order history."})
    category, _ = Category.objects.get_or_create(path="online-retail/products", defaults={
        "name": "Products", "slug": "products", "parent": root, "depth": 2, "is_visible": False})
    products = dict(Product.objects.filter(sku__in=missing).values_list("sku", "pk"))
    new_products = [Product(sku=code, slug=product_slug(code), is_visible=False, source=Source.ONLINE_RETAIL,
                            name=(descriptions[code].most_common(1)[0][0] if descriptions[code] else code)[:255])
                    for code in missing if code not in products]
    Product.objects.bulk_create(new_products, batch_size=BATCH)
    products.update(Product.objects.filter(sku__in=[p.sku for p in new_products]).values_list("sku", "pk"))
    Product.categories.through.objects.bulk_create(
        [Product.categories.through(product_id=products[p.sku], category_id=category.pk) for p in new_products],
        batch_size=BATCH, ignore_conflicts=True)

    def price(code: str) -> Decimal:
        counts = prices[code]
        return min(counts, key=lambda p: (-counts[p], p)) if counts else Decimal("0.00")

    Variant.objects.bulk_create([Variant(product_id=products[code], sku=code, price=price(code), stock=0)
                                 for code in missing], batch_size=BATCH)
    summary.products_created = len(new_products)
    variants.update(Variant.objects.filter(sku__in=missing).values_list("sku", "pk"))
    return variants


def _orders(invoices: list[_Invoice], customers: dict[str, int], variants: dict[str, int], currency: str,
            summary: ImportSummary, progress: bool) -> None:
    """Write the orders, then their status history and lines (COPY on PostgreSQL)."""
    emails = {pk: email for email, pk in User.objects.filter(pk__in=list(customers.values()))
              .values_list("email", "pk")}
    order_rows = []
    for invoice in invoices:
        credit = invoice.number.startswith("C")
        customer = customers.get(invoice.customer_id) if invoice.customer_id else None
        total = sum((line[4] for line in invoice.lines), Decimal("0.00"))
        if credit:
            summary.credit_notes += 1
            summary.credit_note_lines += len(invoice.lines)
        else:
            summary.sales_invoices += 1
            summary.order_lines += len(invoice.lines)
            summary.guest_orders += customer is None
        order_rows.append(dict(
            number=invoice.number, customer_id=customer,
            email=emails[customer] if customer else "guest@customers.invalid",
            status=Order.Status.REFUNDED if credit else Order.Status.DELIVERED, currency=currency,
            shipping_name=f"Customer {invoice.customer_id}" if customer else "Guest", shipping_line1="-",
            shipping_line2="", shipping_city="-", shipping_postcode="-", shipping_country=invoice.country,
            phone="", shipping_method=PROVIDER, shipping_method_name="Online Retail (imported)",
            shipping_price=Decimal("0.00"), subtotal=total, total=total, payment_provider=PROVIDER,
            payment_reference=invoice.number, tracking_number="", idempotency_key=f"{PROVIDER}:{invoice.number}",
            created_at=invoice.created_at, source=Source.ONLINE_RETAIL, line_count=len(invoice.lines),
            item_count=sum(line[2] for line in invoice.lines)))
    _write(Order, order_rows, progress, "Orders")
    ids = dict(Order.objects.filter(idempotency_key__startswith=f"{PROVIDER}:")
               .values_list("number", "pk"))
    _write(OrderStatusChange, [
        dict(order_id=ids[invoice.number], from_status="",
             to_status=Order.Status.REFUNDED if invoice.number.startswith("C") else Order.Status.DELIVERED,
             changed_by_id=None, changed_at=invoice.created_at,
             note="Credit note imported from the order history." if invoice.number.startswith("C")
             else "Imported from the order history.")
        for invoice in invoices], progress, "History")
    _write(OrderLine, (
        dict(order_id=ids[invoice.number], variant_id=variants.get(code), product_name=(description or code)[:255],
             sku=code, options={"charge": NON_PRODUCT_CODES[code]} if code in NON_PRODUCT_CODES else {},
             unit_price=unit_price, quantity=quantity, line_total=line_total)
        for invoice in invoices for code, description, quantity, unit_price, line_total in invoice.lines),
        progress, "Lines", total=summary.order_lines + summary.credit_note_lines)


def _write(model, rows, progress: bool, label: str, total: int | None = None) -> None:
    """Insert `rows` (dicts of field attnames -> values) into `model`'s table as given, under a
    progress bar: COPY on PostgreSQL, executemany in batches elsewhere (bulk_create would
    overwrite created_at: auto_now_add)."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    names = list(first)
    fields = [model._meta.get_field(n[:-3] if n.endswith("_id") and n != "id" else n) for n in names]
    table, columns = (connection.ops.quote_name(model._meta.db_table),
                      ", ".join(connection.ops.quote_name(f.column) for f in fields))
    rows = itertools.chain([first], rows)
    with tqdm(desc=label, unit=" rows", disable=not progress, total=total, mininterval=0.5) as bar:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([json.dumps(row[c]) if c == "options" else row[c] for c in names])
                    bar.update()
            return
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
        prep = [field.get_db_prep_save for field in fields]
        while batch := list(itertools.islice(rows, BATCH)):
            with connection.cursor() as cursor:
                cursor.executemany(sql, [[convert(row[n], connection) for convert, n in zip(prep, names)]
                                         for row in batch])
            bar.update(len(batch))
