"""Voucher rules that need the database: whether a code may be used now by this shopper, and
counting its use under a row lock when an order is placed (so that a 10-use code gives exactly 10
discounted orders however many checkouts race for it); the rules every voucher must follow
(voucher_errors) and bulk-generated single-use codes (generate_vouchers); the places a shipping
zone may name (zone_errors) and saving a zone with its methods (save_shipping_zone)."""
import functools
import re
import secrets
from datetime import datetime
from decimal import Decimal

from babel import Locale
from django.db import transaction
from django.utils import timezone

from .models import ShippingMethod, ShippingZone, Voucher, VoucherRedemption, WeightBand
from .postcodes import rule_error as postcode_rule_error
from .selectors import find_voucher


CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: codes are read aloud and retyped
CODE_LENGTH = 8  # 30**8 (6.6e11) codes per prefix
MAX_BATCH = 10_000
PREFIX_PATTERN = r"^[A-Z0-9_-]{0,20}$"


class VoucherNotApplicable(Exception):
    """The code cannot be used (unknown, not yet or no longer valid, used up, not for this
    shopper). The message is the reason, safe to show to the shopper."""


def check_voucher(voucher: Voucher | None, *, code: str, customer=None, email: str = "",
                  now: datetime | None = None) -> Voucher:
    """`voucher` if the shopper (customer or guest `email`) may use it at `now`; else raises
    VoucherNotApplicable with the reason. Usage counts read here are advisory: redeem_voucher
    checks them again under the row lock. (The minimum subtotal is the engine's to check.)"""
    shown = (code or "").strip().upper()
    if voucher is None or not voucher.is_active:
        raise VoucherNotApplicable(f"{shown} is not a valid code.")
    now = now or timezone.now()
    if voucher.starts_at and now < voucher.starts_at:
        raise VoucherNotApplicable(f"{voucher.code} is not valid yet.")
    if voucher.ends_at and now >= voucher.ends_at:
        raise VoucherNotApplicable(f"{voucher.code} has expired.")
    if voucher.usage_limit is not None and voucher.used_count >= voucher.usage_limit:
        raise VoucherNotApplicable(f"{voucher.code} has been used up.")
    customer = customer if customer is not None and customer.is_authenticated else None
    if voucher.usage_limit_per_customer is not None and (customer or email):
        used = _uses_by(voucher, customer=customer, email=email)
        if used >= voucher.usage_limit_per_customer:
            raise VoucherNotApplicable(f"You have already used {voucher.code}.")
    if voucher.new_customers_only and _has_ordered(customer=customer, email=email):
        raise VoucherNotApplicable(f"{voucher.code} is for a first order only.")
    return voucher


def usable_voucher(code: str, *, customer=None, email: str = "", now: datetime | None = None) -> Voucher:
    """The voucher for `code` if usable now (check_voucher); raises VoucherNotApplicable."""
    return check_voucher(find_voucher(code), code=code, customer=customer, email=email, now=now)


def lock_voucher(code: str, *, customer=None, email: str = "") -> Voucher:
    """Lock the voucher row for `code` (SELECT ... FOR UPDATE, in the caller's transaction) and
    check it again with the counts as they are now. Raises VoucherNotApplicable."""
    voucher = Voucher.objects.select_for_update().filter(code=(code or "").strip().upper()).first()
    return check_voucher(voucher, code=code, customer=customer, email=email)


def redeem_voucher(*, voucher: Voucher, order, customer=None, email: str = "") -> VoucherRedemption:
    """Count one use of `voucher` (locked by lock_voucher in this transaction) by `order`."""
    voucher.used_count += 1
    voucher.save(update_fields=["used_count"])
    customer = customer if customer is not None and customer.is_authenticated else None
    return VoucherRedemption.objects.create(voucher=voucher, order=order, customer=customer, email=email)


@transaction.atomic
def release_voucher(*, order) -> None:
    """Give back the use of a voucher by `order` (voided unpaid): the code may be used again."""
    redemption = VoucherRedemption.objects.filter(order=order).first()
    if redemption is None:
        return
    voucher = Voucher.objects.select_for_update().get(pk=redemption.voucher_id)
    redemption.delete()
    voucher.used_count = max(voucher.used_count - 1, 0)
    voucher.save(update_fields=["used_count"])


def _uses_by(voucher: Voucher, *, customer, email: str) -> int:
    uses = VoucherRedemption.objects.filter(voucher=voucher)
    return (uses.filter(customer=customer) if customer else uses.filter(email__iexact=email)).count()


def _has_ordered(*, customer, email: str) -> bool:
    from django.apps import apps

    orders = apps.get_model("orders", "Order").objects.exclude(status="cancelled")
    if customer is not None:
        return orders.filter(customer=customer).exists()
    return bool(email) and orders.filter(email__iexact=email).exists()


def voucher_errors(*, kind: str, value: Decimal | None, starts_at: datetime | None,
                   ends_at: datetime | None) -> dict[str, str]:
    """{field: message} for a voucher or catalogue promotion breaking the rules both follow (a
    percentage is at most 100; the window ends after it starts); {} when it keeps them. The API
    and admin forms show these as their field errors."""
    errors = {}
    if kind == Voucher.Kind.PERCENTAGE and value is not None and value > 100:
        errors["value"] = "A percentage is at most 100."
    if starts_at and ends_at and ends_at <= starts_at:
        errors["ends_at"] = "Must be after starts_at."
    return errors


class InvalidVoucherBatch(ValueError):
    """A batch of codes that cannot be made; `errors` maps field names to messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()))
        self.errors = errors


@transaction.atomic
def generate_vouchers(*, prefix: str, count: int, kind: str, value: Decimal = Decimal("0"),
                      min_subtotal: Decimal | None = None, starts_at: datetime | None = None,
                      ends_at: datetime | None = None, products=(), categories=()) -> list[Voucher]:
    """Make `count` single-use vouchers (usage_limit 1, one per customer) with codes `prefix` +
    CODE_LENGTH random characters of CODE_ALPHABET (unambiguous), unique among all vouchers, all
    alike otherwise (limited to `products`/`categories` when given). Returns them, in code order.
    Raises InvalidVoucherBatch (count outside 1..MAX_BATCH, a bad prefix, voucher_errors)."""
    prefix = (prefix or "").strip().upper()
    errors = voucher_errors(kind=kind, value=value, starts_at=starts_at, ends_at=ends_at)
    if not 1 <= count <= MAX_BATCH:
        errors["count"] = f"Make from 1 to {MAX_BATCH} codes at a time."
    if not re.match(PREFIX_PATTERN, prefix):
        errors["prefix"] = "Up to 20 letters, digits, - and _."
    if errors:
        raise InvalidVoucherBatch(errors)
    codes: set[str] = set()
    while len(codes) < count:
        fresh = {prefix + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
                 for _ in range(count - len(codes))}
        codes |= fresh - set(Voucher.objects.filter(code__in=fresh).values_list("code", flat=True))
    vouchers = Voucher.objects.bulk_create([
        Voucher(code=code, kind=kind, value=value, min_subtotal=min_subtotal, starts_at=starts_at, ends_at=ends_at,
                usage_limit=1, usage_limit_per_customer=1) for code in sorted(codes)])
    products, categories = list(products), list(categories)
    for field, targets in (("products", products), ("categories", categories)):
        through = getattr(Voucher, field).through
        target_field = "product" if field == "products" else "category"
        through.objects.bulk_create([through(voucher=voucher, **{target_field: target})
                                     for voucher in vouchers for target in targets])
    return vouchers


def zone_errors(*, countries: list, postcode_prefixes: list) -> dict[str, str]:
    """{field: message} for a shipping zone's places: `countries` must be ISO 3166-1 alpha-2 codes
    (CLDR's territories, in capitals), `postcode_prefixes` prefixes or ranges (promotions.postcodes);
    {} when both are right."""
    errors = {}
    if not isinstance(countries, list) or not isinstance(postcode_prefixes, list):
        return {name: 'A list, e.g. ["GB", "IE"] or ["BT", "KW1-KW17"].' for name, value in
                (("countries", countries), ("postcode_prefixes", postcode_prefixes)) if not isinstance(value, list)}
    unknown = [code for code in countries if not isinstance(code, str) or code not in country_codes()]
    if unknown:
        errors["countries"] = f"Not ISO 3166-1 alpha-2 country codes: {', '.join(map(str, unknown))} (e.g. GB, IE)."
    problems = [postcode_rule_error(rule) if isinstance(rule, str) else f"{rule!r} is not text."
                for rule in postcode_prefixes]
    if any(problems):
        errors["postcode_prefixes"] = " ".join(problem for problem in problems if problem)
    return errors


@functools.cache
def country_codes() -> frozenset[str]:
    """Every ISO 3166-1 alpha-2 country code known to CLDR (babel), without groupings (EU, UN...)
    and the unknown region ZZ. Fixed for the process's life (the installed babel's data)."""
    groupings = {"EU", "EZ", "UN", "QO", "ZZ"}
    return frozenset(code for code in Locale("en").territories if len(code) == 2 and code.isalpha()
                     and code not in groupings)


@transaction.atomic
def save_shipping_zone(*, zone: ShippingZone | None = None, methods: list[dict] | None = None,
                       **fields) -> ShippingZone:
    """Create a zone (`zone` None) or change `zone`: its `fields` (name, countries,
    postcode_prefixes, position; checked by zone_errors first, raising InvalidShippingZone) and,
    when `methods` is given, its whole list of methods. Each method is a dict of ShippingMethod
    fields with `bands` ([{"up_to": kg, "price": Decimal}]) and `excluded_products` (products); a
    method is matched by its code (changed in place), new codes are added and codes left out are
    removed (placed orders keep their own copy of the method's name and price). A listed method's
    bands become exactly its list. Returns the zone."""
    zone = zone or ShippingZone()
    for name, value in fields.items():
        setattr(zone, name, value)
    zone.countries = [code.upper() for code in zone.countries]
    if errors := zone_errors(countries=zone.countries, postcode_prefixes=zone.postcode_prefixes):
        raise InvalidShippingZone(errors)
    zone.save()
    if methods is None:
        return zone
    existing = {method.code: method for method in zone.methods.all()}
    zone.methods.exclude(code__in=[data["code"] for data in methods]).delete()
    for data in methods:
        data = dict(data)
        bands, excluded = data.pop("bands", None), data.pop("excluded_products", None)
        method = existing.get(data["code"]) or ShippingMethod(zone=zone)
        for name, value in data.items():
            setattr(method, name, value)
        method.save()
        if excluded is not None:
            method.excluded_products.set(excluded)
        if bands is not None:
            method.bands.all().delete()
            WeightBand.objects.bulk_create([WeightBand(method=method, **band) for band in bands])
    return zone


class InvalidShippingZone(ValueError):
    """A zone naming unknown countries or bad postcode rules; `errors` maps fields to messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()))
        self.errors = errors
