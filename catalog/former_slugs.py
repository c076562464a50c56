"""Slugs that products no longer use, so that old links and bookmarks still arrive: the product
page answers a former slug with a 301 to the product's current URL (catalog.views)."""
from django.db import models


class FormerSlug(models.Model):
    """A slug `product` was once served under. A live product holding the same slug wins."""

    slug = models.SlugField(max_length=255, unique=True)
    product = models.ForeignKey("catalog.Product", related_name="former_slugs", on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "catalog"

    def __str__(self) -> str:
        return f"{self.slug} -> product {self.product_id}"


def remember_former_slug(*, product, slug: str) -> None:
    """Record that `product` (whose slug changes) was served under `slug`."""
    FormerSlug.objects.update_or_create(slug=slug, defaults={"product": product})


def moved_product(slug: str):
    """The product that was once served under `slug`, or None."""
    former = FormerSlug.objects.select_related("product").filter(slug=slug).first()
    return former.product if former else None
