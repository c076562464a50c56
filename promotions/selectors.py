"""Reads of the pricing rules for orders.pricing.context: rates for a country, the shipping zone of
an address and its methods, a voucher by code. Each is one or two queries.

Shipping with no zone at all (a database emptied by a test's flush, or one not migrated yet) falls
back to settings.SHOP_SHIPPING_RATES worldwide, the flat rates migration promotions 0002 seeds as
the default zone: the shop never stops shipping for want of a configured zone.
"""
from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch

from catalog.models import Product

from .models import ShippingMethod, ShippingZone, TaxRate, Voucher

SCOPE_NAMES_SHOWN = 3  # "Jackets, Coats, Scarves and 2 more"
SCOPE_NAME_CHARS = 24  # a longer product or category name is cut with "…"


def tax_rates(country: str) -> dict[str, Decimal]:
    """{tax class: rate} for goods delivered to `country` (classes with no row are untaxed)."""
    return dict(TaxRate.objects.filter(country=country.upper()).values_list("tax_class", "rate"))


def tax_name(country: str) -> str:
    """The tax's name in `country` ("VAT"), or "" when its rates give none."""
    return TaxRate.objects.filter(country=country.upper()).exclude(name="").values_list("name", flat=True).first() or ""


def zone_for(country: str, postcode: str = "") -> ShippingZone | None:
    """The most specific zone holding the address, with its active methods and their weight bands
    prefetched; None when no zone ships there."""
    zones = ShippingZone.objects.prefetch_related(
        Prefetch("methods", queryset=ShippingMethod.objects.filter(is_active=True).prefetch_related("bands")))
    holding = [zone for zone in zones if zone.holds(country, postcode)]
    return max(holding, key=lambda zone: (zone.specificity, -zone.position, -zone.pk), default=None)


def methods_for(country: str, postcode: str = "") -> list[ShippingMethod]:
    """The active methods offered for the address (its zone's, bands prefetched); none when no zone
    ships there; the flat settings rates (unsaved, without bands) when no zone exists at all."""
    zone = zone_for(country, postcode)
    if zone is not None:
        return list(zone.methods.all())
    return [] if ShippingZone.objects.exists() else settings_methods()


def method_choices() -> list[ShippingMethod]:
    """Every active method, one per code (the first by zone position), for forms' choices before
    the address is known; checkout then keeps only those the address's zone offers."""
    seen: dict[str, ShippingMethod] = {}
    for method in ShippingMethod.objects.filter(is_active=True).order_by("zone__position", "position", "pk"):
        seen.setdefault(method.code, method)
    return list(seen.values()) if seen or ShippingZone.objects.exists() else settings_methods()


def settings_methods() -> list[ShippingMethod]:
    """settings.SHOP_SHIPPING_RATES as unsaved methods (flat, worldwide): the no-zone fallback."""
    return [ShippingMethod(code=code, name=name, price=price, position=position)
            for position, (code, (name, price)) in enumerate(settings.SHOP_SHIPPING_RATES.items())]


def find_voucher(code: str) -> Voucher | None:
    """The voucher with this code, whatever its case or surrounding spaces; None for none."""
    code = (code or "").strip().upper()
    return Voucher.objects.filter(code=code).first() if code else None


def voucher_scope(voucher: Voucher, product_ids) -> tuple[frozenset | None, str]:
    """(the ids among `product_ids` that `voucher` applies to, or None when it has no product or
    category limits; the scope's name for shoppers, scope_name: "Jackets", "Jackets and Parka").
    A category includes the categories below it (Product.objects.in_category). Two queries, and
    one more for a limited voucher."""
    products = list(voucher.products.order_by("name").values_list("pk", "name"))
    categories = list(voucher.categories.order_by("name"))
    if not products and not categories:
        return None, ""
    candidates = Product.objects.filter(pk__in=list(product_ids))
    eligible = candidates.filter(pk__in=[pk for pk, _ in products])
    for category in categories:
        eligible = eligible | candidates.in_category(category)
    names = [category.name for category in categories] + [name for _, name in products]
    return frozenset(eligible.values_list("pk", flat=True)), scope_name(names)


def scope_name(names: list[str]) -> str:
    """Names for a reason line, kept short (order lines store 100 characters of their reason):
    "Jackets", "Jackets, Coats and Scarves", "Jackets, Coats, Scarves and 2 more"."""
    names = [name if len(name) <= SCOPE_NAME_CHARS else name[:SCOPE_NAME_CHARS - 1] + "…" for name in names]
    if len(names) <= SCOPE_NAMES_SHOWN:
        return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"{', '.join(names[:SCOPE_NAMES_SHOWN])} and {len(names) - SCOPE_NAMES_SHOWN} more"


def excluded_products(methods: list[ShippingMethod], product_ids) -> dict[int, list[str]]:
    """{method id: names of the products among `product_ids` it cannot take} (one query; methods
    that take them all are left out)."""
    method_ids = [method.pk for method in methods if method.pk]
    if not method_ids or not product_ids:
        return {}
    found: dict[int, list[str]] = {}
    rows = ShippingMethod.excluded_products.through.objects.filter(
        shippingmethod_id__in=method_ids, product_id__in=list(product_ids)).order_by("product__name")
    for method_id, name in rows.values_list("shippingmethod_id", "product__name"):
        found.setdefault(method_id, []).append(name)
    return found


VOUCHER_CSV_HEADER = ["code", "kind", "value", "min_subtotal", "starts_at", "ends_at", "usage_limit", "used_count",
                      "is_active"]


def voucher_csv_rows(vouchers):
    """The rows of a voucher export (VOUCHER_CSV_HEADER's columns; dates in ISO 8601, empty for
    none), in code order, read in chunks so that a batch of thousands streams."""
    for voucher in vouchers.order_by("code").iterator(chunk_size=2000):
        yield [voucher.code, voucher.kind, voucher.value, "" if voucher.min_subtotal is None else voucher.min_subtotal,
               voucher.starts_at.isoformat() if voucher.starts_at else "",
               voucher.ends_at.isoformat() if voucher.ends_at else "",
               "" if voucher.usage_limit is None else voucher.usage_limit, voucher.used_count, voucher.is_active]
