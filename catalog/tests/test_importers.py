"""The catalogue and reviews importers, driven through their management commands on the real
Luma data (../shared/data/luma) and on small files built from slices of it at run time."""
import csv
import io
import re
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from catalog.models import Category, Product, ProductImage, Review, Variant

from .factories import (
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    ReviewFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    """Run a management command; return what it printed."""
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def reported_errors(output: str) -> dict[int, str]:
    """The "line N: reason" lines of a command's summary, by line number."""
    errors = {int(line): message for line, message in re.findall(r"^line (\d+): (.*)$", output, re.MULTILINE)}
    assert f"errors:      {len(errors)}" in output
    return errors


def summary_counts(output: str, kind: str) -> tuple[int, int, int]:
    """(created, updated, skipped) from a summary line such as "variants:  3 created, 0 updated, 1 skipped"."""
    found = re.search(rf"^{kind}: +(\d+) created, (\d+) updated, (\d+) skipped$", output, re.MULTILINE)
    return tuple(int(number) for number in found.groups())


def read_luma(luma_dir: Path, name: str = "products.csv") -> tuple[list[str], dict[str, list[str]]]:
    """Header and rows (by SKU, in file order) of a real Luma CSV."""
    with open(luma_dir / name, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, {row[0]: row for row in reader}


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> list[int]:
    """Write a CSV; return the physical line on which each row starts (the header is line 1)."""
    text, starts = io.StringIO(), []
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        starts.append(text.getvalue().count("\n") + 1)
        writer.writerow(row)
    path.write_text(text.getvalue(), encoding="utf-8")
    return starts


def changed(header: list[str], row: list[str], **values: str) -> list[str]:
    """A copy of `row` with some columns replaced."""
    row = list(row)
    for column, value in values.items():
        row[header.index(column)] = value
    return row


# --- The full real catalogue ----------------------------------------------------------------------


def test_full_luma_import_then_rerun(luma_dir):
    images_dir = luma_dir / "images"
    output = run("import_catalog", str(luma_dir / "products.csv"), "--images", str(images_dir))

    assert Product.objects.count() == Product.objects.visible().count() == 191
    assert Variant.objects.count() == 1891
    assert Variant.objects.filter(is_active=True, price__gt=0, stock=100).count() == 1891

    # Every one of the 713 photographs is imported; products that share a photograph (the same ball
    # in three sizes) each get their own row, so there are more rows than files.
    photo_files = {"/" + str(path.relative_to(images_dir)) for path in images_dir.rglob("*.jpg")}
    assert len(photo_files) == 713
    assert set(ProductImage.objects.values_list("source_path", flat=True)) == photo_files
    assert ProductImage.objects.count() == 723
    assert all(default_storage.exists(name) for name in ProductImage.objects.values_list("image", flat=True))
    assert not ProductImage.objects.filter(width__isnull=True).exists()

    # Exactly two referenced photographs are missing; each error names the line its row starts on.
    errors = reported_errors(output)
    assert len(errors) == 2
    physical_lines = (luma_dir / "products.csv").read_text(encoding="utf-8").split("\n")
    for line, message in errors.items():
        missing = re.search(r"image file not found: (\S+)", message).group(1)
        assert not (images_dir / missing.lstrip("/")).exists()
        record = next(csv.reader(io.StringIO("\n".join(physical_lines[line - 1 :]))))
        assert message.startswith(record[0] + ":")  # the row's SKU
        assert missing in record  # the row that names the missing file

    hoodie = Product.objects.get(name="Chaz Kangeroo Hoodie")
    variant = hoodie.variants.get(sku="MH01-M-Gray")
    assert (variant.size, variant.colour, variant.stock, variant.price) == ("M", "Gray", 100, Decimal("52"))
    assert hoodie.images.first().source_path == "/m/h/mh01-gray_main.jpg"
    assert hoodie.images.filter(variant__colour="Black").exists()

    hoodies = Category.objects.get(path="men/tops/hoodies-sweatshirts")
    assert (hoodies.name, hoodies.depth, hoodies.parent.path) == ("Hoodies & Sweatshirts", 3, "men/tops")
    assert Category.objects.get(path="men").parent is None
    assert not Category.objects.filter(name="Default Category").exists()
    assert hoodie in hoodies.products.all()
    assert not Product.objects.filter(description__icontains="<script").exists()

    counts = {model: model.objects.count() for model in (Product, Variant, Category, ProductImage)}
    categories = list(Category.objects.values_list("path", "depth", "position"))

    output = run("import_catalog", str(luma_dir / "products.csv"), "--images", str(images_dir))

    assert {model: model.objects.count() for model in counts} == counts
    assert list(Category.objects.values_list("path", "depth", "position")) == categories
    assert summary_counts(output, "products") == (0, 0, 191)
    assert summary_counts(output, "variants") == (0, 0, 1891)
    assert summary_counts(output, "categories") == (0, 0, len(categories))
    assert summary_counts(output, "images") == (0, 0, 723)
    assert len(reported_errors(output)) == 2


def test_rerun_updates_changed_rows_in_place(luma_dir, tmp_path):
    header, rows = read_luma(luma_dir)
    csv_path = tmp_path / "products.csv"
    write_csv(csv_path, header, [rows["24-MB01"]])
    run("import_catalog", str(csv_path))

    write_csv(csv_path, header, [changed(header, rows["24-MB01"], price="40.50", qty="7", special_price="30")])
    output = run("import_catalog", str(csv_path))

    assert summary_counts(output, "variants") == (0, 1, 0)
    variant = Variant.objects.get()
    assert (variant.price, variant.sale_price, variant.stock) == (Decimal("40.50"), Decimal("30"), 7)


def test_luma_weights_come_in_for_weight_based_shipping(luma_dir, tmp_path):
    header, rows = read_luma(luma_dir)
    csv_path = tmp_path / "products.csv"
    write_csv(csv_path, header, [rows["24-MB01"], changed(header, rows["24-MB04"], weight="2.75")])  # 24-MB01: none
    run("import_catalog", str(csv_path))

    assert dict(Variant.objects.values_list("sku", "weight")) == {"24-MB01": None, "24-MB04": Decimal("2.75")}


# --- Bad rows -------------------------------------------------------------------------------------


def test_bad_rows_are_reported_by_line_and_the_rest_imports(luma_dir, tmp_path):
    header, rows = read_luma(luma_dir)
    children = [row for sku, row in rows.items() if sku.startswith("MH01-")]
    parent = rows["MH01"]
    variations = parent[header.index("configurable_variations")]
    bad_rows = {
        "missing SKU": changed(header, rows["24-MB02"], sku=""),
        "unparseable price 'abc'": changed(header, rows["24-MB03"], price="abc"),
        "missing name": changed(header, rows["24-MB04"], name=""),
        "unknown parent": rows["MH02-XS-Black"],  # a child whose parent is not in the file
        "unknown child SKU 'MH01-XXL-Purple'": changed(
            header, parent, configurable_variations=variations + "|sku=MH01-XXL-Purple,size=XXL,color=Purple"
        ),
        "image file not found: /n/o/no-such-photo.jpg": changed(
            header, rows["24-MB05"], base_image="/n/o/no-such-photo.jpg"
        ),
    }
    # The children come before their parent, as they do in the real file.
    all_rows = [rows["24-MB01"], *children, *bad_rows.values()]
    starts = write_csv(tmp_path / "products.csv", header, all_rows)
    expected = dict(zip(bad_rows, starts[-len(bad_rows) :]))
    assert len(set(starts)) == len(starts) and starts[-1] > len(all_rows) + 1  # records do span lines

    output = run("import_catalog", str(tmp_path / "products.csv"), "--images", str(luma_dir / "images"))

    errors = reported_errors(output)
    assert sorted(errors) == sorted(expected.values())
    for reason, line in expected.items():
        assert reason in errors[line]
    assert set(Product.objects.values_list("sku", flat=True)) == {"24-MB01", "MH01", "24-MB05"}
    assert Variant.objects.filter(product__sku="MH01").count() == len(children)
    assert Product.objects.get(sku="24-MB05").variants.get().price == Decimal(rows["24-MB05"][header.index("price")])
    assert not Product.objects.get(sku="24-MB05").images.exists()
    assert Product.objects.get(sku="MH01").images.exists()


def test_a_file_with_nothing_importable_is_a_command_error(luma_dir, tmp_path):
    header, rows = read_luma(luma_dir)
    starts = write_csv(
        tmp_path / "products.csv",
        header,
        [changed(header, rows["24-MB01"], sku=""), changed(header, rows["24-MB02"], price="abc")],
    )

    output = io.StringIO()
    with pytest.raises(CommandError, match="Nothing could be imported"):
        call_command("import_catalog", str(tmp_path / "products.csv"), stdout=output)

    assert sorted(reported_errors(output.getvalue())) == starts
    assert not Product.objects.exists()


def test_a_missing_file_or_another_format_is_a_clear_command_error(luma_dir, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("import_catalog", str(tmp_path / "nope.csv"), stdout=io.StringIO())
    with pytest.raises(CommandError, match="not a Magento 2 product CSV"):
        call_command("import_catalog", str(luma_dir / "reviews.csv"), stdout=io.StringIO())


def test_descriptions_are_sanitised(luma_dir, tmp_path):
    header, rows = read_luma(luma_dir)
    hostile = (
        '<p onclick="steal()">Fine <strong>bold</strong> text<script>alert(1)</script>'
        '<a href="https://example.com/care" onmouseover="steal()">care guide</a>'
        '<a href="javascript:alert(3)">bad link</a><img src="x" onerror="alert(2)">'
        "<style>p { display: none }</style></p><ul><li>one</li></ul>"
    )
    write_csv(tmp_path / "products.csv", header, [changed(header, rows["24-MB01"], description=hostile)])

    run("import_catalog", str(tmp_path / "products.csv"))

    description = Product.objects.get().description
    for unsafe in ("<script", "alert(", "onclick", "onmouseover", "onerror", "<img", "<style", "javascript:"):
        assert unsafe not in description
    assert "<p>Fine <strong>bold</strong> text" in description
    assert 'href="https://example.com/care"' in description
    assert "<ul><li>one</li></ul>" in description


# --- Reviews --------------------------------------------------------------------------------------


def test_reviews_import_with_ratings_then_rerun(luma_dir):
    run("import_catalog", str(luma_dir / "products.csv"))
    _, products = read_luma(luma_dir)
    with open(luma_dir / "reviews.csv", newline="", encoding="utf-8") as handle:
        reviews = list(csv.DictReader(handle))
    known = [review for review in reviews if review["sku"] in products]
    unknown_skus = {review["sku"] for review in reviews} - set(products)

    output = run("import_reviews", str(luma_dir / "reviews.csv"))

    # 152 of the 500 reviews name products that are not in products.csv: each is reported, by line.
    assert len(reviews) == 500 and len(known) == 348
    assert summary_counts(output, "reviews") == (348, 0, 0)
    errors = reported_errors(output)
    assert len(errors) == 500 - 348
    assert {re.search(r"unknown SKU '(.+)'", message).group(1) for message in errors.values()} == unknown_skus
    assert Review.objects.approved().count() == 348

    ratings = defaultdict(list)
    for review in known:
        ratings[review["sku"]].append(int(review["rating_value"]))
    for sku, values in ratings.items():
        product = Product.objects.get(sku=sku)
        average = (Decimal(sum(values)) / len(values)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert (product.rating_count, product.rating_average) == (len(values), average), sku
    assert not Product.objects.exclude(sku__in=ratings).filter(rating_count__gt=0).exists()

    output = run("import_reviews", str(luma_dir / "reviews.csv"))

    assert Review.objects.count() == 348
    assert summary_counts(output, "reviews") == (0, 0, 348)


REVIEW_COLUMNS = ["sku", "rating_code", "rating_value", "title", "review", "reviewer", "email"]


def test_review_rows_with_bad_ratings_are_reported_by_line(tmp_path):
    product = VariantFactory(sku="MH01-M-Gray", product=ProductFactory(sku="MH01")).product
    starts = write_csv(
        tmp_path / "reviews.csv",
        REVIEW_COLUMNS,
        [
            ["MH01", "Rating", "4", "Warm", "Warm.\nVery warm.", "Chi", ""],
            ["MH01-M-Gray", "Rating", "2", "Small", "Runs small.", "Ann", "ann@example.com"],  # a variant SKU
            ["MH01", "Rating", "9", "Too good", "Off the scale.", "Bo", ""],
            ["MH01", "Rating", "x", "Unsure", "Hmm.", "Cy", ""],
        ],
    )
    assert starts == [2, 4, 5, 6]

    output = run("import_reviews", str(tmp_path / "reviews.csv"))

    errors = reported_errors(output)
    assert sorted(errors) == [5, 6]
    assert all("rating must be a whole number from 1 to 5" in message for message in errors.values())
    product.refresh_from_db()
    assert (product.rating_count, product.rating_average) == (2, Decimal("3.00"))

    write_csv(tmp_path / "bad.csv", REVIEW_COLUMNS, [["MH01", "Rating", "0", "Title", "Body", "Ann", ""]])
    with pytest.raises(CommandError, match="Nothing could be imported"):
        call_command("import_reviews", str(tmp_path / "bad.csv"), stdout=io.StringIO())


# --- Factories (shared with the other apps' tests) ------------------------------------------------


def test_factories_make_valid_rows():
    top = CategoryFactory(name="Men")
    child = CategoryFactory(name="Tops", parent=top)
    product = ProductFactory(with_variant=True, categories=[child])
    image = ProductImageFactory(product=product)
    review = ReviewFactory(product=product)

    assert (child.path, child.depth) == ("men/tops", 2)
    assert Product.objects.visible().in_category(top).get() == product
    variant = product.variants.get()
    assert (variant.price, variant.stock, variant.size, variant.colour) == (Decimal("52.00"), 10, "", "")
    assert (image.width, image.height) == (8, 10) and default_storage.exists(image.image.name)
    assert review.status == Review.Status.APPROVED
