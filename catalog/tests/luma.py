"""A slice of the real Luma catalogue, read from ../shared/data at run time (never copied)."""
import csv
import io
from pathlib import Path

from django.core.management import call_command


def import_luma_slice(luma_dir: Path, tmp_path: Path, skus: set[str]) -> str:
    """Import the products whose SKU is in `skus`, with their variants ("MH01" brings "MH01-XS-Black"
    ...) and images, through `import_catalog`. Returns the command's summary; fails on any error."""
    children = tuple(f"{sku}-" for sku in skus)
    with open(luma_dir / "products.csv", newline="", encoding="utf-8") as source:
        reader = csv.DictReader(source)
        rows = [row for row in reader if row["sku"] in skus or row["sku"].startswith(children)]
        fieldnames = reader.fieldnames
    slice_csv = tmp_path / "luma-slice.csv"
    with open(slice_csv, "w", newline="", encoding="utf-8") as target:
        writer = csv.DictWriter(target, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(rows)
    output = io.StringIO()
    call_command("import_catalog", str(slice_csv), "--images", str(luma_dir / "images"), stdout=output)
    assert "errors:      0" in output.getvalue(), output.getvalue()
    return output.getvalue()
