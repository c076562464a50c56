"""`manage.py process_images [--missing | --all] [--workers N]`: make product image renditions
here and now, without a Celery worker (a backfill after an import or a migration, a repair after
storage trouble). Ends with a summary: processed, skipped, failed with reasons, and how many
images are still pending.

`--workers N` runs N local processes (forked; database connections are closed first and each
process opens its own, and each opens its own storage client). Local processes rather than
Celery jobs: the command works with no broker or worker running, its progress bar counts real
completions, and its summary can list every failure's reason. Jobs sent by the web app keep
going to Celery as usual.
"""
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from tqdm import tqdm

from catalog.images import services
from catalog.models import ProductImage


@dataclass
class Summary:
    """What one run did. `failed` holds (image id, file name, reason)."""

    looked_at: int = 0
    processed: int = 0
    skipped: int = 0
    renditions_made: int = 0
    failed: list[tuple[int, str, str]] = field(default_factory=list)

    def add(self, outcome: services.ImageOutcome) -> None:
        if outcome.status == "processed":
            self.processed += 1
        elif outcome.status in ("skipped", "missing"):
            self.skipped += 1
        else:
            self.failed.append((outcome.image_id, outcome.name, outcome.reason))
        self.renditions_made += outcome.made


def process_one(image_id: int, check_storage: bool) -> services.ImageOutcome:
    """Process one image, turning an unexpected error (storage, database) into a failed outcome
    for the summary; such an image keeps its status, so that it is tried again later."""
    try:
        return services.process_product_image(image_id=image_id, check_storage=check_storage)
    except Exception as exc:
        return services.ImageOutcome(image_id, "error", reason=f"{type(exc).__name__}: {exc}")


def _start_worker_process() -> None:
    """In each forked process: forget the parent's storage clients (an S3 client and its sockets
    must not be shared across processes). Database connections were closed before forking.
    Public API only: the documented setting_changed signal for STORAGES, on which Django's own
    receiver (django.test.signals, imported here so that it is connected) drops the storages it
    made, as it does when a test overrides the setting. Django has no other public way to do it."""
    import django.test.signals  # noqa: F401  (connects the receiver)
    from django.conf import settings
    from django.core.signals import setting_changed

    setting_changed.send(sender=Command, setting="STORAGES", value=settings.STORAGES, enter=False)


class Command(BaseCommand):
    help = (
        "Make the missing renditions (WebP and JPEG at 320-1600 px), placeholders and dominant colours "
        "of product images. Re-running makes nothing that already exists."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group()
        which.add_argument(
            "--missing", action="store_true",
            help="Images without all their renditions: pending or failed (the default).",
        )
        which.add_argument(
            "--all", action="store_true", dest="all_images",
            help="Every image: also checks that each rendition file is still in storage and re-makes those "
            "that are not.",
        )
        parser.add_argument("--workers", type=int, default=1, help="Processes to run (default 1).")

    def handle(self, *args, missing: bool = False, all_images: bool = False, workers: int = 1, **options) -> None:
        if workers < 1:
            raise CommandError("--workers must be at least 1.")
        images = ProductImage.objects.all() if all_images else ProductImage.objects.needing_renditions()
        ids = list(images.order_by("pk").values_list("pk", flat=True))
        started = time.monotonic()
        summary = Summary(looked_at=len(ids))
        progress = tqdm(total=len(ids), desc="Processing images", unit="image", file=sys.stderr,
                        disable=not self.stderr.isatty())
        if workers == 1 or len(ids) <= 1:
            for image_id in ids:
                summary.add(process_one(image_id, all_images))
                progress.update()
        else:
            connections.close_all()  # each forked process opens its own connection
            with ProcessPoolExecutor(max_workers=min(workers, len(ids)), initializer=_start_worker_process,
                                     mp_context=multiprocessing.get_context("fork")) as pool:
                futures = [pool.submit(process_one, image_id, all_images) for image_id in ids]
                for future in as_completed(futures):
                    summary.add(future.result())
                    progress.update()
        progress.close()
        pending = ProductImage.objects.filter(status=ProductImage.Status.PENDING).count()
        self.stdout.write(format_summary(summary, seconds=time.monotonic() - started, workers=workers,
                                         pending=pending))


def format_summary(summary: Summary, *, seconds: float, workers: int, pending: int) -> str:
    """The summary: counts, then every failure as "image N (file): reason"."""
    lines = [
        f"Processed {summary.looked_at} images in {seconds:.1f} s with {workers} "
        f"worker{'s' if workers != 1 else ''}.",
        f"processed:   {summary.processed} ({summary.renditions_made} renditions made)",
        f"skipped:     {summary.skipped} (already complete)",
        f"failed:      {len(summary.failed)}",
    ]
    lines.extend(f"  image {image_id} ({name or '?'}): {reason}" for image_id, name, reason in summary.failed)
    lines.append(f"pending:     {pending}")
    return "\n".join(lines)
