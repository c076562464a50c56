"""Load the Luma catalogue (the Magento 2 CSV iShop imports) into the Oscar benchmark shop, warm its
thumbnails and its search index, and print the URLs of the measured pages.

Run by benchmarks/peer_oscar.py with the Oscar venv's Python, from benchmarks/:

    python -m oscar_site.load_luma --csv PRODUCTS.csv --images DIR --reviews REVIEWS.csv \
        --category "Men/Tops/Jackets" --product MJ01

The mapping, in Oscar's terms (docs/source/topics/modelling_your_catalogue.rst):
- each configurable row becomes a parent product of a product class named after its attribute set,
  and each of its simple rows a child product carrying the `size` and `color` attributes, with a
  stock record (partner "Luma"); each visible simple row (gear) a standalone product with a stock record;
- "Default Category/A/B" paths become the category tree A > B (the root is not a category), on the
  parents and standalone products, as iShop assigns them;
- the selling price is the sale price (special_price) when it is lower than the price, iShop's rule;
  Oscar has no sale price on a stock record;
- the other `additional_attributes` (material, climate, ...) become text attributes, minus the flags
  iShop ignores too; multi-valued ones are joined with ", ";
- photos: the parent's and the gear's base and additional images, each child's own image; each file
  is copied once into MEDIA_ROOT and shared by the rows that show it;
- reviews.csv: approved anonymous reviews on the parent or gear product, with Oscar's rating.

Idempotent: the catalogue is written in one transaction and skipped when the database already holds
as many parent and standalone products as the file and MEDIA_ROOT holds the stamp of that load;
thumbnails already in sorl's store and an index that already holds every product are left as they are.
"""
from __future__ import annotations

import argparse
import csv
import shutil
from decimal import Decimal
from pathlib import Path

import django

# Magento's internal flags, not product facts (iShop's importer drops the same ones).
INTERNAL_ATTRIBUTES = {"has_options", "required_options", "new", "sale", "erin_recommends", "size", "color"}
# Every geometry Oscar 4.2's storefront templates ask sorl for: catalogue/partials/product.html (cards),
# catalogue/partials/gallery.html (the product page's main image and its thumbnails strip).
THUMBNAILS = [{"size": "x155", "upscale": False}, {"size": "440x400", "upscale": False},
              {"size": "65x55", "crop": "center"}]


def read_rows(path: Path) -> list[dict[str, str]]:
    """Every row of a CSV file (Magento's product export, or reviews.csv) as a dict by column."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def attributes(text: str) -> dict[str, str]:
    """`code=value,code=a|b` -> {code: value, code: "a, b"}, without the internal flags; a piece
    without "=" continues the previous value (a value holding a comma), as iShop's importer reads it."""
    found: dict[str, str] = {}
    code = None
    for piece in (text or "").split(","):
        key, sep, value = piece.partition("=")
        if sep and key.strip():
            code = key.strip()
            found[code] = value
        elif code:
            found[code] += "," + piece
    return {code: ", ".join(part.strip() for part in value.split("|") if part.strip())
            for code, value in found.items() if code not in INTERNAL_ATTRIBUTES and value.strip()}


def is_browsable(row: dict[str, str]) -> bool:
    """A parent (configurable) or standalone (visible simple) row: what a shopper can browse."""
    return row["product_type"] == "configurable" or not row["visibility"].startswith("Not Visible")


def browsable_count(rows: list[dict[str, str]]) -> int:
    """How many parent and standalone products the file holds (191 in Luma)."""
    return sum(map(is_browsable, rows))


def category_paths(text: str) -> list[tuple[str, ...]]:
    """Category name paths below Magento's root, e.g. ("Men", "Tops", "Jackets")."""
    paths = []
    for path in (text or "").split(","):
        names = tuple(name.strip() for name in path.split("/")[1:] if name.strip())
        if names and names not in paths:
            paths.append(names)
    return paths


def money(value: str) -> Decimal | None:
    """A CSV amount in dollars as a Decimal to the cent; None when the cell is empty."""
    return Decimal(value).quantize(Decimal("0.01")) if value and value.strip() else None


def selling_price(row: dict[str, str]) -> Decimal:
    """What the shopper pays, in dollars: the sale price when it is below the price (iShop's rule)."""
    price, sale = money(row["price"]), money(row.get("special_price", ""))
    return sale if sale is not None and sale < price else price


def load_catalogue(rows: list[dict[str, str]], images_dir: Path, reviews: list[dict[str, str]]) -> None:
    """Write the whole catalogue (replacing any partial one) in one transaction."""
    from django.core.files.storage import default_storage
    from django.db import transaction
    from oscar.apps.catalogue.categories import create_from_sequence
    from oscar.core.loading import get_model
    from oscar.core.utils import slugify

    Product, ProductClass, ProductAttribute, ProductAttributeValue, ProductCategory, ProductImage = (
        get_model("catalogue", name) for name in ("Product", "ProductClass", "ProductAttribute",
                                                  "ProductAttributeValue", "ProductCategory", "ProductImage"))
    Category = get_model("catalogue", "Category")
    Partner, StockRecord = get_model("partner", "Partner"), get_model("partner", "StockRecord")
    ProductReview = get_model("reviews", "ProductReview")

    by_sku = {row["sku"]: row for row in rows}
    browsable = list(filter(is_browsable, rows))
    stored: dict[str, str] = {}

    def photo(source: str) -> str | None:
        """The MEDIA_ROOT name of a CSV image path, copied there once."""
        if source not in stored:
            origin = images_dir / source.lstrip("/")
            if not origin.is_file():
                return None
            name = f"images/products/luma/{origin.name}"
            if not default_storage.exists(name):
                with origin.open("rb") as handle:
                    name = default_storage.save(name, handle)
            stored[source] = name
        return stored[source]

    with transaction.atomic():
        for model in (ProductReview, StockRecord, Product, Category, ProductClass, Partner):
            model.objects.all().delete()
        partner = Partner.objects.create(name="Luma", code="luma")
        classes: dict[str, ProductClass] = {}
        class_attributes: dict[tuple[str, str], ProductAttribute] = {}

        def attribute(product_class: ProductClass, code: str) -> ProductAttribute:
            key = (product_class.name, code)
            if key not in class_attributes:
                class_attributes[key] = ProductAttribute.objects.create(
                    product_class=product_class, code=code, name=code.replace("_", " ").capitalize(),
                    type=ProductAttribute.TEXT)
            return class_attributes[key]

        categories: dict[tuple[str, ...], Category] = {}
        products = []
        for row in browsable:
            name = row["attribute_set_code"] or "Default"
            product_class = classes.get(name) or classes.setdefault(
                name, ProductClass.objects.create(name=name, slug=name.lower().replace(" ", "-")))
            products.append(Product(
                structure=Product.PARENT if row["product_type"] == "configurable" else Product.STANDALONE,
                upc=row["sku"], title=row["name"], slug=slugify(row["url_key"] or row["name"]),
                description=row["description"], meta_title=row["meta_title"] or None,
                meta_description=row["meta_description"] or None, product_class=product_class))
        Product.objects.bulk_create(products)
        values, links, images, stock = [], [], [], []
        children = []
        for product, row in zip(products, browsable):
            for code, value in attributes(row["additional_attributes"]).items():
                values.append(ProductAttributeValue(attribute=attribute(product.product_class, code),
                                                    product=product, value_text=value))
            for path in category_paths(row["categories"]):
                if path not in categories:
                    categories[path] = create_from_sequence(list(path))[-1]
                links.append(ProductCategory(product=product, category=categories[path]))
            sources = [row["base_image"], *row["additional_images"].split(",")]
            for order, name in enumerate(dict.fromkeys(filter(None, map(photo, filter(None, sources))))):
                images.append(ProductImage(product=product, original=name, caption=row["name"],
                                           display_order=order))
            if product.is_standalone:
                stock.append((product, row))
            for variation in filter(None, row["configurable_variations"].split("|")):
                options = dict(part.split("=", 1) for part in variation.split(",") if "=" in part)
                child_row = by_sku.get(options.get("sku", ""))
                if child_row:
                    child = Product(structure=Product.CHILD, parent=product, upc=child_row["sku"],
                                    title=child_row["name"], slug=slugify(child_row["url_key"] or child_row["name"]))
                    children.append((child, child_row, options))
        Product.objects.bulk_create([child for child, _, _ in children])
        for child, child_row, options in children:
            for code in ("size", "color"):
                if options.get(code):
                    values.append(ProductAttributeValue(attribute=attribute(child.parent.product_class, code),
                                                        product=child, value_text=options[code]))
            name = photo(child_row["base_image"]) if child_row["base_image"] else None
            if name:
                images.append(ProductImage(product=child, original=name, caption=child_row["name"]))
            stock.append((child, child_row))
        ProductAttributeValue.objects.bulk_create(values)
        ProductCategory.objects.bulk_create(links)
        ProductImage.objects.bulk_create(images)
        StockRecord.objects.bulk_create([
            StockRecord(product=product, partner=partner, partner_sku=row["sku"], price_currency="USD",
                        price=selling_price(row), num_in_stock=max(0, int(float(row["qty"] or 0))))
            for product, row in stock])
        by_upc = {product.upc: product for product in products}
        ProductReview.objects.bulk_create([
            ProductReview(product=by_upc[review["sku"]], score=int(review["rating_value"]),
                          title=review["title"][:255], body=review["review"], name=review["reviewer"][:255],
                          email=review["email"], status=ProductReview.APPROVED)
            for review in reviews if review["sku"] in by_upc])
        reviewed = {by_upc[review["sku"]] for review in reviews if review["sku"] in by_upc}
        for product in reviewed:
            product.update_rating()
    print(f"  loaded {len(products)} products, {len(children)} child products, {len(categories)} categories, "
          f"{len(images)} image rows ({len(set(stored.values()))} files), {len(reviewed)} reviewed products",
          flush=True)


def forget_keys(redis_url: str, prefix: str) -> None:
    """Drop the keys under a Django cache KEY_PREFIX from a shared Redis after a (re)load: cached
    values may name the old rows. Also used for iShop's keys by peer_oscar.py."""
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)


def warm_thumbnails() -> int:
    """Make every thumbnail the storefront templates ask for (sorl skips those it already has)."""
    from django.conf import settings
    from django.core.files.storage import default_storage
    from oscar.core.loading import get_model
    from oscar.core.thumbnails import get_thumbnailer

    missing = Path(settings.MEDIA_ROOT) / settings.OSCAR_MISSING_IMAGE_URL
    if not missing.exists():  # Oscar's guide: copy its "image not found" picture into MEDIA_ROOT
        import oscar

        missing.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(oscar.__file__).parent / "static/oscar/img/image_not_found.jpg", missing)
    names = set(get_model("catalogue", "ProductImage").objects.values_list("original", flat=True))
    names.add(settings.OSCAR_MISSING_IMAGE_URL)
    thumbnailer = get_thumbnailer()
    for name in sorted(names):
        source = default_storage.open(name)  # sorl keys its store on the name, as for the model's field
        for options in THUMBNAILS:
            thumbnailer.generate_thumbnail(source, **options)
    return len(names)


def main() -> None:
    """Load (once), warm, index and collect static files; print HOME/CATEGORY/PRODUCT paths."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csv", type=Path, required=True)
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--reviews", type=Path)
    parser.add_argument("--category", required=True, help='category names from the top, "Men/Tops/Jackets"')
    parser.add_argument("--product", required=True, help="the measured product's SKU")
    parser.add_argument("--reload", action="store_true", help="load the catalogue again even if it is there")
    args = parser.parse_args()
    django.setup()
    from django.core.management import call_command
    from django.conf import settings
    from haystack.query import SearchQuerySet
    from oscar.core.loading import get_model

    Product, Category = get_model("catalogue", "Product"), get_model("catalogue", "Category")
    call_command("migrate", verbosity=0)
    rows = read_rows(args.csv)
    expected = browsable_count(rows)
    # The photos live beside the database, in MEDIA_ROOT: a database loaded from another checkout
    # has no stamp here, so it is loaded again.
    stamp = Path(settings.MEDIA_ROOT) / f".loaded-{settings.DATABASES['default']['NAME']}"
    if args.reload or not stamp.exists() or Product.objects.browsable().count() != expected:
        stamp.unlink(missing_ok=True)
        print(f"  loading {args.csv} into Oscar", flush=True)
        load_catalogue(rows, args.images, read_rows(args.reviews) if args.reviews else [])
        cache = settings.CACHES["default"]
        forget_keys(cache["LOCATION"], cache["KEY_PREFIX"])
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.touch()
    else:
        print(f"  Oscar: {expected} products already there", flush=True)
    print(f"  Oscar: {warm_thumbnails()} photos' thumbnails warm", flush=True)
    if args.reload or SearchQuerySet().models(Product).count() != expected:
        call_command("rebuild_index", interactive=False, verbosity=0)
    print(f"  Oscar: {SearchQuerySet().models(Product).count()} products in the Whoosh index", flush=True)
    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)

    top, *below = args.category.split("/")
    category = Category.objects.get(depth=1, name=top)
    for name in below:
        category = Category.objects.get(path__startswith=category.path, depth=category.depth + 1, name=name)
    product = Product.objects.get(upc=args.product)
    print(f"HOME {settings.OSCAR_HOMEPAGE}")  # what "/" redirects to
    print(f"CATEGORY {category.get_absolute_url()}")
    print(f"PRODUCT {product.get_absolute_url()}")


if __name__ == "__main__":
    main()
