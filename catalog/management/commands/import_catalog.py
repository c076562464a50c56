"""`manage.py import_catalog products.csv --images images/`: import a Magento 2 product CSV."""
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.importers import CatalogImportReport, ImportFileError, import_catalog


class Command(BaseCommand):
    help = (
        "Import products, variants, categories and images from a Magento 2 product import CSV. "
        "Re-running updates rows in place. Bad rows are reported with their line number and skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("csv_path", type=Path, help="The Magento 2 product CSV file.")
        parser.add_argument(
            "--images", type=Path, dest="images_dir", help="Folder the CSV's image paths are relative to. "
            "Without it, no images are imported."
        )

    def handle(self, *args, csv_path: Path, images_dir: Path | None, **options) -> None:
        # call_command() passes keyword options without argparse's type conversion.
        csv_path, images_dir = Path(csv_path), Path(images_dir) if images_dir is not None else None
        if images_dir is not None and not images_dir.is_dir():
            raise CommandError(f"Image folder {images_dir} does not exist.")
        started = time.monotonic()
        try:
            report = import_catalog(csv_path=csv_path, images_dir=images_dir, show_progress=self.stderr.isatty())
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(format_report(report, seconds=time.monotonic() - started, with_images=images_dir is not None))
        if not report.imported_anything:
            raise CommandError(f"Nothing could be imported from {csv_path}.")


def format_report(report: CatalogImportReport, *, seconds: float, with_images: bool) -> str:
    """The summary: counts per kind, then every error as "line N: reason"."""
    lines = [f"Catalogue import finished in {seconds:.1f} s."]
    for kind in ("products", "variants", "categories", "images"):
        counts = getattr(report, kind)
        if kind == "images" and not with_images:
            lines.append(f"{kind + ':':<12} not imported (no --images folder given)")
            continue
        lines.append(
            f"{kind + ':':<12} {counts.created} created, {counts.updated} updated, {counts.skipped} skipped"
        )
    lines.append(f"errors:      {len(report.errors)}")
    lines.extend(f"line {line}: {message}" for line, message in report.errors)
    return "\n".join(lines)
