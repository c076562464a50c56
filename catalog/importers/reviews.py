"""The reviews import: a reviews CSV attached to products by product or variant SKU."""
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from catalog.models import Product, Review, Variant
from catalog.services import refresh_product_rating

from .reading import Record, ReviewImportReport, RowError, read_records, update_fields

def import_reviews(*, csv_path: Path) -> ReviewImportReport:
    """Attach reviews (`sku,rating_code,rating_value,title,review,reviewer,email`) to products.

    The SKU may be a product's or one of its variants'. New reviews are approved; a review that
    matches an existing one on (product, reviewer, title) is updated, keeping its moderation
    status. Product ratings are recomputed afterwards. Bad rows are reported and skipped.
    Raises ImportFileError if the file is missing or lacks the reviews columns.
    """
    report = ReviewImportReport()
    records, report.errors = read_records(
        path=csv_path, required_columns=("sku", "rating_value", "title", "review", "reviewer"), kind="reviews CSV"
    )
    skus = {record.sku for record in records}
    product_ids = dict(Variant.objects.filter(sku__in=skus).values_list("sku", "product_id"))
    product_ids.update(Product.objects.filter(sku__in=skus).values_list("sku", "pk"))

    rows: dict[tuple[int, str, str], tuple[int, dict]] = {}  # review key -> (line, values)
    for record in records:
        try:
            key, values = _parse_review(record, product_ids)
        except RowError as exc:
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
        elif update_fields(review, values):
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


def _parse_review(record: Record, product_ids: dict[str, int]) -> tuple[tuple[int, str, str], dict]:
    sku, rating, reviewer, title = (record.get(column) for column in ("sku", "rating_value", "reviewer", "title"))
    if not sku:
        raise RowError("missing SKU")
    if sku not in product_ids:
        raise RowError(f"unknown SKU {sku!r}")
    if rating not in {"1", "2", "3", "4", "5"}:
        raise RowError(f"rating must be a whole number from 1 to 5, got {rating!r}")
    if not reviewer or len(reviewer) > 100:
        raise RowError("reviewer must be 1 to 100 characters")
    if not title or len(title) > 255:
        raise RowError("title must be 1 to 255 characters")
    email = record.get("email")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise RowError(f"invalid email {email!r}") from None
    return (product_ids[sku], reviewer, title), {"rating": int(rating), "body": record.get("review"), "email": email}
