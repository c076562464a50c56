"""The catalogue import: a Magento 2 product import CSV becomes products, variants, categories and
(with an images folder) product images (catalog.importers.product_images). See catalog.importers.
"""
import sys
from pathlib import Path

from django.db import DatabaseError, transaction
from tqdm import tqdm

from catalog.former_slugs import remember_former_slug
from catalog.models import Category, Product, ProductImage, Variant
from catalog.search import refresh_search_documents
from catalog.services import broadcast_stock

from .plans import ExistingRows, Offer, ProductPlan, ProductResult, VariantPlan
from .product_images import save_images
from .reading import (NOT_VISIBLE, CatalogImportReport, Counts, Record, RowError, parse_attributes,
                      parse_category_paths, parse_money, parse_stock, parse_variations, parse_weight, read_records,
                      sanitise_html, update_fields)
from .text import labelled_attributes, plain_text, slug_text


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
    records, report.errors = read_records(
        path=csv_path, required_columns=("sku", "product_type", "name", "price"), kind="Magento 2 product CSV"
    )
    plans = _plan_products(records, report.errors)
    category_paths = {plan.record.sku: parse_category_paths(plan.record.get("categories")) for plan in plans}
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


def _plan_products(records: list[Record], errors: list[tuple[int, str]]) -> list[ProductPlan]:
    """Check every row, then match children to parents (children may come first in the file)."""
    configurables: list[Record] = []
    offers: dict[str, Offer] = {}
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
                raise RowError("missing name")
            if kind == "configurable":
                configurables.append(record)
            elif kind == "simple":
                offers[sku] = Offer(
                    record=record,
                    sku=sku,
                    attributes=parse_attributes(record.get("additional_attributes")),
                    price=parse_money(record.get("price"), column="price", required=True),
                    sale_price=parse_money(record.get("special_price"), column="special_price"),
                    stock=parse_stock(record),
                    weight=parse_weight(record.get("weight")),
                )
            else:
                raise RowError(f"product type {kind!r} is not supported (only simple and configurable)")
        except RowError as exc:
            errors.append((record.line, f"{sku}: {exc}"))
            failed.add(sku)

    plans: list[ProductPlan] = []
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
                variants.append(VariantPlan(offer=offer, size=_text(size), colour=_text(colour)))
        if variants:
            plans.append(ProductPlan(record=record, variants=variants))
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
        variant = VariantPlan(offer=offer, size=_text(size), colour=_text(colour))
        plans.append(ProductPlan(record=offer.record, variants=[variant]))
    plans.sort(key=lambda plan: plan.record.line)
    return plans


def _text(value: str | list[str]) -> str:
    """A single option value (size or colour) as text, even if the file gave several."""
    return plain_text(", ".join(value) if isinstance(value, list) else value)


def _fetch_existing(plans: list[ProductPlan]) -> ExistingRows:
    products = Product.objects.in_bulk([plan.record.sku for plan in plans], field_name="sku")
    product_ids = [product.pk for product in products.values()]
    links = Product.categories.through.objects.filter(product_id__in=product_ids)
    product_categories: dict[int, set[int]] = {}
    for product_id, category_id in links.values_list("product_id", "category_id"):
        product_categories.setdefault(product_id, set()).add(category_id)
    return ExistingRows(
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


def _save_categories(
    listed: list[tuple[str, ...]], existing: ExistingRows, counts: Counts
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
            slug = slug_text(key[-1]) or "category"
            values = {
                "name": plain_text(key[-1])[:200],
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
            elif changed := update_fields(category, values):
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
    plan: ProductPlan, *, category_ids: set[int], existing: ExistingRows, images_dir: Path | None
) -> ProductResult:
    """Create or update one product with its variants, categories and images. Call in a transaction."""
    record, result = plan.record, ProductResult()
    sku, name = record.sku, plain_text(record.get("name"))[:255]
    product = existing.products.get(sku)
    slug = _unique_slug(base=slug_text(record.get("url_key") or name), sku=sku, owners=existing.slug_owners)
    values = {
        "name": name,
        "slug": slug,
        "description": sanitise_html(record.get("description")),
        "short_description": sanitise_html(record.get("short_description")),
        "attributes": labelled_attributes(parse_attributes(record.get("additional_attributes"))),
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
        if product.slug != slug:  # e.g. "...-lumatechtrade-..." made before entities were decoded
            remember_former_slug(product=product, slug=product.slug)
        if changed := update_fields(product, values):
            product.save(update_fields=[*changed, "updated_at"])
            result.product_changed = True
    existing.slug_owners[slug] = sku
    if existing.product_categories.get(product.pk, set()) != category_ids:
        product.categories.set(category_ids)
        existing.product_categories[product.pk] = category_ids
        result.product_changed = True

    variants = _save_variants(plan, product=product, existing=existing, counts=result.variants)
    refresh_search_documents(product_ids=[product.pk])  # variants are written in bulk, without signals
    if images_dir is not None:
        save_images(plan, product=product, variants=variants, existing=existing, images_dir=images_dir, result=result)
    return result


def _save_variants(plan: ProductPlan, *, product: Product, existing: ExistingRows,
                   counts: Counts) -> dict[str, Variant]:
    to_create, to_update, changed_fields, restocked = [], [], set(), []
    variants = {}
    for position, planned in enumerate(plan.variants):
        offer = planned.offer
        values = {
            "product_id": product.pk,
            "name": plain_text(offer.record.get("name"))[:255],
            "size": planned.size[:32],
            "colour": planned.colour[:32],
            "price": offer.price,
            # Magento's special_price at or above the price is no sale (catalog.models.selling_price).
            "sale_price": offer.sale_price if offer.sale_price is not None and offer.sale_price < offer.price else None,
            "stock": offer.stock,
            "weight": offer.weight,
            "position": position,
            "is_active": offer.record.get("product_online") in ("1", ""),
        }
        variant = existing.variants.get(offer.sku)
        if variant is None:
            variant = Variant(sku=offer.sku, **values)
            to_create.append(variant)
            existing.variants[offer.sku] = variant
        elif changed := update_fields(variant, values):
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
