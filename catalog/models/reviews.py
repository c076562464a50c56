"""Shoppers' reviews of products."""
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from .catalogue import Product


class ReviewQuerySet(models.QuerySet):
    def approved(self) -> "ReviewQuerySet":
        return self.filter(status=Review.Status.APPROVED)


class Review(models.Model):
    """A shopper's rating (1-5) and words about a product. Only approved reviews count."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    product = models.ForeignKey(Product, related_name="reviews", on_delete=models.CASCADE)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="reviews", null=True, blank=True, on_delete=models.SET_NULL
    )
    rating = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    title = models.CharField(max_length=255)
    body = models.TextField()
    reviewer_name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    is_featured = models.BooleanField("featured", default=False, help_text="Shown first on the product page.")
    is_verified_buyer = models.BooleanField(
        "verified buyer", default=False,
        help_text="The reviewer has a delivered order line for this product (kept by catalog.services).")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"),
            models.UniqueConstraint(
                fields=["product", "reviewer_name", "title"], name="review_unique_per_reviewer_title"
            ),
            # A customer reviews a product once (imported reviews have no user).
            models.UniqueConstraint(fields=["product", "user"], condition=Q(user__isnull=False),
                                    name="review_one_per_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 {self.title}"
