"""Catalogue imports: a Magento 2 product import CSV (products, variants, categories, images)
and a reviews CSV.

Both importers read the whole file first, report every bad row with the physical line on which
its record starts (the header is line 1; a record may span several lines), import everything
else, and return a report that the management commands only format. Re-running an import
updates rows in place: products and variants match on SKU, categories on their path, images on
(product, source path) and reviews on (product, reviewer, title).
"""
import csv
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlsplit

import nh3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import DatabaseError, transaction
from django.utils.text import slugify
from tqdm import tqdm

from .models import Category, Product, ProductImage, Review, Variant
from .images import InvalidImage
from .safe_fetch import FetchRefused, fetch_image
from .services import broadcast_stock, product_images_saved, refresh_product_rating, validate_image_upload

# --- Reports ---------------------------------------------------------------------------------


@dataclass
class Counts:
    """How many rows of one kind were created, updated, or skipped (already up to date)."""

    created: int = 0
    updated: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.skipped

    def add(self, other: "Counts") -> None:
        self.created += other.created
        self.updated += other.updated
        self.skipped += other.skipped


@dataclass
class CatalogImportReport:
    """What `import_catalog` did. `errors` holds (line, message) pairs, sorted by line."""

    products: Counts = field(default_factory=Counts)
    variants: Counts = field(default_factory=Counts)
    categories: Counts = field(default_factory=Counts)
    images: Counts = field(default_factory=Counts)
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def imported_anything(self) -> bool:
        return self.products.total > 0


@dataclass
class ReviewImportReport:
    """What `import_reviews` did. `errors` holds (line, message) pairs, sorted by line."""

    reviews: Counts = field(default_factory=Counts)
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def imported_anything(self) -> bool:
        return self.reviews.total > 0


class ImportFileError(Exception):
    """The file is missing, unreadable, or not in the expected CSV format."""


class _RowError(Exception):
    """One value of a row is unusable; the message says which and why."""


# --- Reading CSV files -------------------------------------------------------------------------


@dataclass
class _Record:
    line: int  # physical line on which the record starts
    fields: dict[str, str]

    def get(self, column: str) -> str:
        return (self.fields.get(column) or "").strip()

    @property
    def sku(self) -> str:
        return self.get("sku")


def _read_records(
    *, path: Path, required_columns: Iterable[str], kind: str
) -> tuple[list[_Record], list[tuple[int, str]]]:
    """Read an RFC 4180 CSV with a header row into records, each with the line it starts on.

    Returns (records, errors); a record with the wrong number of fields is an error, not a record.
    Raises ImportFileError when the file cannot be read or lacks one of `required_columns`.
    """
    records: list[_Record] = []
    errors: list[tuple[int, str]] = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            missing = [column for column in required_columns if column not in header]
            if missing:
                raise ImportFileError(f"{path} is not a {kind}: missing column(s) {', '.join(missing)}.")
            next_line = reader.line_num + 1
            for row in reader:
                line, next_line = next_line, reader.line_num + 1
                if not row:  # a blank line
                    continue
                if len(row) != len(header):
                    errors.append((line, f"expected {len(header)} fields, found {len(row)}"))
                    continue
                records.append(_Record(line=line, fields=dict(zip(header, row))))
    except FileNotFoundError:
        raise ImportFileError(f"{path} does not exist.") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ImportFileError(f"Cannot read {path} as a UTF-8 CSV file: {exc}") from None
    return records, errors


# --- Parsing Magento values ---------------------------------------------------------------------

# Magento internals and Luma's merchandising flags: not product facts a shopper should read.
INTERNAL_ATTRIBUTES = {"has_options", "required_options", "new", "sale", "erin_recommends"}
NOT_VISIBLE = "Not Visible Individually"
ALLOWED_TAGS = {
    "p", "br", "ul", "ol", "li", "strong", "em", "b", "i", "h2", "h3", "h4", "span", "a",
    "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
MAX_PRICE = Decimal("100000000")  # Variant.price holds 10 digits, 2 after the point


def sanitise_html(html: str) -> str:
    """Keep common formatting tags and links; drop scripts, styles, event handlers and the rest."""
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES).strip()


def parse_attributes(text: str) -> dict[str, str | list[str]]:
    """`"material=Wool|Fleece,pattern=Solid"` -> `{"material": ["Wool", "Fleece"], "pattern": "Solid"}`.

    A piece without "=" continues the previous value (a value holding a comma). Magento's
    internal flags and Luma's merchandising flags (INTERNAL_ATTRIBUTES) are dropped.
    """
    pairs: list[list[str]] = []
    for piece in text.split(","):
        if "=" in piece:
            code, value = piece.split("=", 1)
            pairs.append([code.strip(), value])
        elif pairs:
            pairs[-1][1] += "," + piece
    attributes: dict[str, str | list[str]] = {}
    for code, value in pairs:
        if not code or code in INTERNAL_ATTRIBUTES:
            continue
        value = value.strip()
        attributes[code] = [part.strip() for part in value.split("|") if part.strip()] if "|" in value else value
    return attributes


def parse_variations(text: str) -> list[dict[str, str]]:
    """`"sku=A,size=XS,color=Black|sku=B,..."` -> `[{"sku": "A", "size": "XS", "color": "Black"}, ...]`."""
    variations = []
    for entry in text.split("|"):
        pairs = (piece.split("=", 1) for piece in entry.split(",") if "=" in piece)
        if variation := {code.strip(): value.strip() for code, value in pairs}:
            variations.append(variation)
    return variations


def _parse_money(text: str, *, column: str, required: bool = False) -> Decimal | None:
    if not text:
        if required:
            raise _RowError(f"missing {column}")
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _RowError(f"unparseable {column} {text!r}") from None
    if not value.is_finite() or not 0 <= value < MAX_PRICE:
        raise _RowError(f"{column} {text!r} is out of range")
    return value.quantize(Decimal("0.01"))


def _parse_stock(record: _Record) -> int:
    text = record.get("qty")
    try:
        quantity = int(float(text)) if text else 0
    except (ValueError, OverflowError):
        raise _RowError(f"unparseable qty {text!r}") from None
    return 0 if record.get("is_in_stock") == "0" else max(quantity, 0)


def _category_paths(text: str) -> list[tuple[str, ...]]:
    """Category names from the top for each listed path, without the root ("Default Category")."""
    paths = []
    for listed in text.split(","):
        names = tuple(name.strip() for name in listed.split("/") if name.strip())[1:]
        if names and names not in paths:
            paths.append(names)
    return paths


# --- The catalogue import ----------------------------------------------------------------------


@dataclass
class _Offer:
    """A simple row, parsed: what becomes a Variant."""

    record: _Record
    sku: str
    attributes: dict[str, str | list[str]]
    price: Decimal
    sale_price: Decimal | None
    stock: int


@dataclass
class _VariantPlan:
    offer: _Offer
    size: str
    colour: str


@dataclass
class _ProductPlan:
    record: _Record  # the configurable parent or the standalone simple product
    variants: list[_VariantPlan]


@dataclass
class _Existing:
    """Rows already in the database, fetched once, by their import keys."""

    products: dict[str, Product]
    variants: dict[str, Variant]
    categories: dict[str, Category]
    product_categories: dict[int, set[int]]
    images: dict[tuple[int, str], ProductImage]
    slug_owners: dict[str, str]  # slug -> product SKU


@dataclass
class _ProductResult:
    variants: Counts = field(default_factory=Counts)
    images: Counts = field(default_factory=Counts)
    errors: list[tuple[int, str]] = field(default_factory=list)
    product_created: bool = False
    product_changed: bool = False


def import_catalog(
    *, csv_path: Path, images_dir: Path | None = None, show_progress: bool = False
) -> CatalogImportReport:
    """Import a Magento 2 product CSV: configurable parents and standalone simple products become
    Products, simple rows become Variants, category paths become Categories, and (when
    `images_dir` is given) image files are copied into media storage as ProductImages.

    Bad rows are reported in the result and skipped; everything else is imported, one
    transaction per product. Raises ImportFileError if the file is missing or not Magento CSV.
    """
    report = CatalogImportReport()
    records, report.errors = _read_records(
        path=csv_path, required_columns=("sku", "product_type", "name", "price"), kind="Magento 2 product CSV"
    )
    plans = _plan_products(records, report.errors)
    category_paths = {plan.record.sku: _category_paths(plan.record.get("categories")) for plan in plans}
    existing = _fetch_existing(plans)
    with transaction.atomic():
        categories = _save_categories(
            [path for plan in plans for path in category_paths[plan.record.sku]], existing, report.categories
        )
    for plan in tqdm(plans, desc="Importing products", unit="product", file=sys.stderr, disable=not show_progress):
        try:
            with transaction.atomic():
                ids = {categories[path].pk for path in category_paths[plan.record.sku]}
                result = _save_product(plan, category_ids=ids, existing=existing, images_dir=images_dir)
        except (DatabaseError, OSError, ValueError) as exc:
            report.errors.append((plan.record.line, f"{plan.record.sku}: not saved: {exc}"))
            continue
        counts = report.products
        counts.created += result.product_created
        counts.updated += result.product_changed and not result.product_created
        counts.skipped += not (result.product_created or result.product_changed)
        report.variants.add(result.variants)
        report.images.add(result.images)
        report.errors.extend(result.errors)
    report.errors.sort(key=lambda error: error[0])
    return report


def _plan_products(records: list[_Record], errors: list[tuple[int, str]]) -> list[_ProductPlan]:
    """Check every row, then match children to parents (children may come first in the file)."""
    configurables: list[_Record] = []
    offers: dict[str, _Offer] = {}
    seen: dict[str, int] = {}  # SKU -> line of its first row
    failed: set[str] = set()  # SKUs whose own row was reported as bad
    for record in records:
        sku, kind = record.sku, record.get("product_type")
        if not sku:
            errors.append((record.line, "missing SKU"))
            continue
        if sku in seen:
            if store_view := record.get("store_view_code"):
                reason = f"store view row ({store_view}) ignored: only the default values are imported"
            else:
                reason = f"duplicate SKU (first on line {seen[sku]})"
            errors.append((record.line, f"{sku}: {reason}"))
            continue
        seen[sku] = record.line
        try:
            if not record.get("name"):
                raise _RowError("missing name")
            if kind == "configurable":
                configurables.append(record)
            elif kind == "simple":
                offers[sku] = _Offer(
                    record=record,
                    sku=sku,
                    attributes=parse_attributes(record.get("additional_attributes")),
                    price=_parse_money(record.get("price"), column="price", required=True),
                    sale_price=_parse_money(record.get("special_price"), column="special_price"),
                    stock=_parse_stock(record),
                )
            else:
                raise _RowError(f"product type {kind!r} is not supported (only simple and configurable)")
        except _RowError as exc:
            errors.append((record.line, f"{sku}: {exc}"))
            failed.add(sku)

    plans: list[_ProductPlan] = []
    parent_of: dict[str, str] = {}
    for record in configurables:
        variants = []
        for variation in parse_variations(record.get("configurable_variations")):
            child_sku = variation.get("sku", "")
            offer = offers.get(child_sku)
            if offer is None:
                if child_sku not in failed:  # a child with a bad row of its own is reported there
                    reason = f"unknown child SKU {child_sku!r} in configurable_variations (no simple row has it)"
                    errors.append((record.line, f"{record.sku}: {reason}"))
            elif child_sku in parent_of:
                reason = f"child {child_sku} is already a variant of {parent_of[child_sku]}"
                errors.append((record.line, f"{record.sku}: {reason}"))
            else:
                parent_of[child_sku] = record.sku
                size = variation.get("size") or offer.attributes.get("size", "")
                colour = variation.get("color") or offer.attributes.get("color", "")
                variants.append(_VariantPlan(offer=offer, size=_text(size), colour=_text(colour)))
        if variants:
            plans.append(_ProductPlan(record=record, variants=variants))
        else:
            errors.append((record.line, f"{record.sku}: configurable product has no importable variants"))
    for sku, offer in offers.items():
        if sku in parent_of:
            continue
        if offer.record.get("visibility") == NOT_VISIBLE:
            reason = "unknown parent (not visible individually, and no configurable product lists it)"
            errors.append((offer.record.line, f"{sku}: {reason}"))
            continue
        size, colour = offer.attributes.get("size", ""), offer.attributes.get("color", "")
        variant = _VariantPlan(offer=offer, size=_text(size), colour=_text(colour))
        plans.append(_ProductPlan(record=offer.record, variants=[variant]))
    plans.sort(key=lambda plan: plan.record.line)
    return plans


def _text(value: str | list[str]) -> str:
    """A single option value (size or colour) as text, even if the file gave several."""
    return ", ".join(value) if isinstance(value, list) else value


def _fetch_existing(plans: list[_ProductPlan]) -> _Existing:
    products = Product.objects.in_bulk([plan.record.sku for plan in plans], field_name="sku")
    product_ids = [product.pk for product in products.values()]
    links = Product.categories.through.objects.filter(product_id__in=product_ids)
    product_categories: dict[int, set[int]] = {}
    for product_id, category_id in links.values_list("product_id", "category_id"):
        product_categories.setdefault(product_id, set()).add(category_id)
    return _Existing(
        products=products,
        variants=Variant.objects.in_bulk([v.offer.sku for plan in plans for v in plan.variants], field_name="sku"),
        categories={category.path: category for category in Category.objects.all()},
        product_categories=product_categories,
        images={
            (image.product_id, image.source_path): image
            for image in ProductImage.objects.filter(product_id__in=product_ids).exclude(source_path="")
        },
        slug_owners=dict(Product.objects.values_list("slug", "sku")),
    )


def _update_fields(instance: object, values: dict) -> list[str]:
    """Set `values` on `instance`; return the names of the fields whose value changed."""
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, values[name])
    return changed


def _save_categories(
    listed: list[tuple[str, ...]], existing: _Existing, counts: Counts
) -> dict[tuple[str, ...], Category]:
    """Create or update every category on the listed paths (and their ancestors), in order of
    first appearance; position is that order among siblings. Returns categories by name path."""
    categories: dict[tuple[str, ...], Category] = {}
    sibling_count: dict[tuple[str, ...], int] = {}
    for names in listed:
        for depth in range(1, len(names) + 1):
            key = names[:depth]
            if key in categories:
                continue
            parent = categories.get(key[:-1])
            slug = slugify(key[-1]) or "category"
            values = {
                "name": key[-1][:200],
                "slug": slug,
                "parent_id": parent.pk if parent else None,
                "path": f"{parent.path}/{slug}" if parent else slug,
                "depth": depth,
                "position": sibling_count.get(key[:-1], 0),
            }
            sibling_count[key[:-1]] = values["position"] + 1
            category = existing.categories.get(values["path"])
            if category is None:
                category = Category.objects.create(**values)
                existing.categories[category.path] = category
                counts.created += 1
            elif changed := _update_fields(category, values):
                category.save(update_fields=changed)
                counts.updated += 1
            else:
                counts.skipped += 1
            categories[key] = category
    return categories


def _unique_slug(*, base: str, sku: str, owners: dict[str, str]) -> str:
    """`base`, or `base-2`, `base-3`... : the first slug no other product holds."""
    base = base[:240].strip("-") or "product"
    slug, number = base, 1
    while owners.get(slug, sku) != sku:
        number += 1
        slug = f"{base}-{number}"
    return slug


def _save_product(
    plan: _ProductPlan, *, category_ids: set[int], existing: _Existing, images_dir: Path | None
) -> _ProductResult:
    """Create or update one product with its variants, categories and images. Call in a transaction."""
    record, result = plan.record, _ProductResult()
    sku, name = record.sku, record.get("name")[:255]
    product = existing.products.get(sku)
    slug = _unique_slug(base=slugify(record.get("url_key") or name), sku=sku, owners=existing.slug_owners)
    values = {
        "name": name,
        "slug": slug,
        "description": sanitise_html(record.get("description")),
        "short_description": sanitise_html(record.get("short_description")),
        "attributes": parse_attributes(record.get("additional_attributes")),
        "seo_title": record.get("meta_title")[:255],
        "seo_description": record.get("meta_description"),
        "is_visible": record.get("product_online") in ("1", ""),
    }
    if product is None:
        product = Product.objects.create(sku=sku, **values)
        existing.products[sku] = product
        result.product_created = True
    else:
        existing.slug_owners.pop(product.slug, None)
        if changed := _update_fields(product, values):
            product.save(update_fields=[*changed, "updated_at"])
            result.product_changed = True
    existing.slug_owners[slug] = sku
    if existing.product_categories.get(product.pk, set()) != category_ids:
        product.categories.set(category_ids)
        existing.product_categories[product.pk] = category_ids
        result.product_changed = True

    variants = _save_variants(plan, product=product, existing=existing, counts=result.variants)
    if images_dir is not None:
        _save_images(plan, product=product, variants=variants, existing=existing, images_dir=images_dir, result=result)
    return result


def _save_variants(plan: _ProductPlan, *, product: Product, existing: _Existing, counts: Counts) -> dict[str, Variant]:
    to_create, to_update, changed_fields, restocked = [], [], set(), []
    variants = {}
    for position, planned in enumerate(plan.variants):
        offer = planned.offer
        values = {
            "product_id": product.pk,
            "name": offer.record.get("name")[:255],
            "size": planned.size[:32],
            "colour": planned.colour[:32],
            "price": offer.price,
            "sale_price": offer.sale_price,
            "stock": offer.stock,
            "position": position,
            "is_active": offer.record.get("product_online") in ("1", ""),
        }
        variant = existing.variants.get(offer.sku)
        if variant is None:
            variant = Variant(sku=offer.sku, **values)
            to_create.append(variant)
            existing.variants[offer.sku] = variant
        elif changed := _update_fields(variant, values):
            to_update.append(variant)
            changed_fields.update(changed)
            if {"stock", "is_active"} & set(changed):
                restocked.append(variant.pk)
        else:
            counts.skipped += 1
        variants[offer.sku] = variant
    Variant.objects.bulk_create(to_create)
    if to_update:
        Variant.objects.bulk_update(to_update, sorted(changed_fields))
    broadcast_stock(variant_ids=restocked)  # open pages see the imported stock
    counts.created += len(to_create)
    counts.updated += len(to_update)
    return variants


@dataclass
class _ImagePlan:
    path: str  # as written in the CSV, relative to the images folder
    record: _Record  # the first row naming it: errors are reported on its line
    variant: _VariantPlan | None  # the first child naming it, base images before additional ones


def _image_plans(plan: _ProductPlan) -> list[_ImagePlan]:
    """A product's images, each path once, in order: the product's base image, its additional
    images, each child's base image, then each child's additional images."""
    children = [variant for variant in plan.variants if variant.offer.record is not plan.record]
    sources = [(plan.record, "base_image", None), (plan.record, "additional_images", None)]
    sources += [(child.offer.record, "base_image", child) for child in children]
    sources += [(child.offer.record, "additional_images", child) for child in children]
    images: dict[str, _ImagePlan] = {}
    for record, column, child in sources:
        for path in filter(None, (path.strip() for path in record.get(column).split(","))):
            image = images.setdefault(path, _ImagePlan(path=path, record=record, variant=child))
            image.variant = image.variant or child
    return list(images.values())


def _save_images(
    plan: _ProductPlan,
    *,
    product: Product,
    variants: dict[str, Variant],
    existing: _Existing,
    images_dir: Path,
    result: _ProductResult,
) -> None:
    """Copy new image files into storage; update the order, alt text and variant of known ones."""
    to_create, to_update, position = [], [], 0
    for planned in _image_plans(plan):
        record, child = planned.record, planned.variant
        variant = variants[child.offer.sku] if child else None  # saved: bulk_create set its pk
        label = record.get("base_image_label") if planned.path == record.get("base_image") else ""
        alt_text = label or (f"{product.name} - {child.colour}" if child and child.colour else product.name)
        values = {
            "variant_id": variant.pk if variant else None,
            "alt_text": alt_text[:255],
            "position": position,
        }
        image = existing.images.get((product.pk, planned.path))
        if image is None:
            try:
                image = _copy_image(planned.path, images_dir=images_dir, product=product, values=values)
            except _RowError as exc:
                result.errors.append((record.line, f"{record.sku}: {exc}"))
                continue
            to_create.append(image)
        elif _update_fields(image, values):
            to_update.append(image)
        else:
            result.images.skipped += 1
        position += 1
    try:
        ProductImage.objects.bulk_create(to_create)
        ProductImage.objects.bulk_update(to_update, ["variant_id", "alt_text", "position"])
    except DatabaseError:
        for image in to_create:  # the rows roll back: leave no orphaned files
            image.image.delete(save=False)
        raise
    product_images_saved(image_ids=[image.pk for image in to_create])  # rendition jobs, after commit
    existing.images.update({(product.pk, image.source_path): image for image in to_create})
    result.images.created += len(to_create)
    result.images.updated += len(to_update)


def _fetch_remote_image(url: str) -> ContentFile:
    """An image column holding an http(s) URL: fetched through the same guarded fetcher as the
    image proxy (allowlisted hosts, no private addresses, byte cap, total timeout)."""
    try:
        fetched = fetch_image(url, max_bytes=settings.SHOP_IMAGE_MAX_BYTES, timeout=settings.SHOP_IMAGE_FETCH_TIMEOUT,
                              allowed_hosts=settings.SHOP_IMAGE_PROXY_ALLOWED_HOSTS)
    except FetchRefused as exc:
        raise _RowError(f"image {url} not fetched: {exc.reason}") from None
    name = Path(urlsplit(fetched.final_url).path).name or "image"
    return ContentFile(fetched.content, name=name)


def _copy_image(source_path: str, *, images_dir: Path, product: Product, values: dict) -> ProductImage:
    """Store the file at `source_path` (relative to `images_dir`, or an http(s) URL) through the
    ImageField, after the same checks as an upload."""
    if source_path.startswith(("http://", "https://")):
        upload = _fetch_remote_image(source_path)
        image = ProductImage(product=product, source_path=source_path[:500], **values)
        try:
            validate_image_upload(upload=upload)
        except InvalidImage as exc:
            raise _RowError(f"{source_path}: {exc.reason}") from None
        image.image.save(upload.name, upload, save=False)
        return image
    root = images_dir.resolve()
    file_path = (root / source_path.lstrip("/")).resolve()
    if not file_path.is_relative_to(root):
        raise _RowError(f"image path {source_path} is outside the images folder")
    if not file_path.is_file():
        raise _RowError(f"image file not found: {source_path}")
    image = ProductImage(product=product, source_path=source_path, **values)
    with open(file_path, "rb") as handle:
        try:  # hostile until proven otherwise, like an upload: size, format, bombs, polyglots
            validate_image_upload(upload=File(handle))
        except InvalidImage as exc:
            raise _RowError(f"{source_path}: {exc.reason}") from None
        image.image.save(file_path.name, File(handle), save=False)
    if not image.width:
        image.image.delete(save=False)
        raise _RowError(f"not a readable image: {source_path}")
    return image


# --- The reviews import ------------------------------------------------------------------------


def import_reviews(*, csv_path: Path) -> ReviewImportReport:
    """Attach reviews (`sku,rating_code,rating_value,title,review,reviewer,email`) to products.

    The SKU may be a product's or one of its variants'. New reviews are approved; a review that
    matches an existing one on (product, reviewer, title) is updated, keeping its moderation
    status. Product ratings are recomputed afterwards. Bad rows are reported and skipped.
    Raises ImportFileError if the file is missing or lacks the reviews columns.
    """
    report = ReviewImportReport()
    records, report.errors = _read_records(
        path=csv_path, required_columns=("sku", "rating_value", "title", "review", "reviewer"), kind="reviews CSV"
    )
    skus = {record.sku for record in records}
    product_ids = dict(Variant.objects.filter(sku__in=skus).values_list("sku", "product_id"))
    product_ids.update(Product.objects.filter(sku__in=skus).values_list("sku", "pk"))

    rows: dict[tuple[int, str, str], tuple[int, dict]] = {}  # review key -> (line, values)
    for record in records:
        try:
            key, values = _parse_review(record, product_ids)
        except _RowError as exc:
            report.errors.append((record.line, str(exc)))
            continue
        if key in rows:
            reason = f"duplicate review (same product, reviewer and title as line {rows[key][0]})"
            report.errors.append((record.line, reason))
            continue
        rows[key] = (record.line, values)

    touched = {product_id for product_id, _, _ in rows}
    existing = {
        (review.product_id, review.reviewer_name, review.title): review
        for review in Review.objects.filter(product_id__in=touched)
    }
    to_create, to_update = [], []
    for (product_id, reviewer_name, title), (_, values) in rows.items():
        review = existing.get((product_id, reviewer_name, title))
        if review is None:
            review = Review(product_id=product_id, reviewer_name=reviewer_name, title=title, **values)
            review.status = Review.Status.APPROVED
            to_create.append(review)
        elif _update_fields(review, values):
            to_update.append(review)
        else:
            report.reviews.skipped += 1
    with transaction.atomic():
        Review.objects.bulk_create(to_create)
        Review.objects.bulk_update(to_update, ["rating", "body", "email"])
        refresh_product_rating(product_ids=touched)
    report.reviews.created, report.reviews.updated = len(to_create), len(to_update)
    report.errors.sort(key=lambda error: error[0])
    return report


def _parse_review(record: _Record, product_ids: dict[str, int]) -> tuple[tuple[int, str, str], dict]:
    sku, rating, reviewer, title = (record.get(column) for column in ("sku", "rating_value", "reviewer", "title"))
    if not sku:
        raise _RowError("missing SKU")
    if sku not in product_ids:
        raise _RowError(f"unknown SKU {sku!r}")
    if rating not in {"1", "2", "3", "4", "5"}:
        raise _RowError(f"rating must be a whole number from 1 to 5, got {rating!r}")
    if not reviewer or len(reviewer) > 100:
        raise _RowError("reviewer must be 1 to 100 characters")
    if not title or len(title) > 255:
        raise _RowError("title must be 1 to 255 characters")
    email = record.get("email")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise _RowError(f"invalid email {email!r}") from None
    return (product_ids[sku], reviewer, title), {"rating": int(rating), "body": record.get("review"), "email": email}
