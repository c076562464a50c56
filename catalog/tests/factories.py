"""factory_boy factories for the catalogue: categories, products, variants, images and reviews.

`ProductFactory()` makes a product without variants (so not `visible()`); use
`ProductFactory(with_variant=True)` or `VariantFactory()` for one a shopper can buy.
"""
import io
from decimal import Decimal

import factory
from django.core.files.base import ContentFile
from django.utils.text import slugify
from factory.django import DjangoModelFactory
from PIL import Image

from catalog.models import Category, Product, ProductImage, Review, Variant


def jpeg_file(*, name: str = "photo.jpg", size: tuple[int, int] = (8, 10), colour: str = "steelblue") -> ContentFile:
    """A small, real JPEG image as an uploadable file."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG")
    return ContentFile(buffer.getvalue(), name=name)


class CategoryFactory(DjangoModelFactory):
    """A top-level category; pass `parent=` for a child (path and depth follow the parent)."""

    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    parent = None
    path = factory.LazyAttribute(lambda o: f"{o.parent.path}/{o.slug}" if o.parent else o.slug)
    depth = factory.LazyAttribute(lambda o: o.parent.depth + 1 if o.parent else 1)


class ProductFactory(DjangoModelFactory):
    """A visible product. `categories=[...]` assigns categories; `with_variant=True` adds a variant."""

    class Meta:
        model = Product
        skip_postgeneration_save = True

    class Params:
        with_variant = factory.Trait(
            variant=factory.RelatedFactory("catalog.tests.factories.VariantFactory", factory_related_name="product")
        )

    sku = factory.Sequence(lambda n: f"P{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.LazyAttribute(lambda o: slugify(f"{o.name}-{o.sku}"))
    description = "<p>A product made for testing.</p>"
    is_visible = True

    @factory.post_generation
    def categories(self, create: bool, extracted: list[Category] | None, **kwargs) -> None:
        if create and extracted:
            self.categories.set(extracted)


class VariantFactory(DjangoModelFactory):
    """A purchasable variant: 52.00, 10 in stock, no size or colour."""

    class Meta:
        model = Variant

    product = factory.SubFactory(ProductFactory)
    sku = factory.Sequence(lambda n: f"V{n:05d}")
    name = factory.LazyAttribute(lambda o: o.product.name)
    size = ""
    colour = ""
    price = Decimal("52.00")
    sale_price = None
    stock = 10
    is_active = True


class ProductImageFactory(DjangoModelFactory):
    """A product photograph: a small real JPEG stored through the ImageField (into MEDIA_ROOT)."""

    class Meta:
        model = ProductImage

    product = factory.SubFactory(ProductFactory)
    variant = None
    image = factory.LazyFunction(jpeg_file)
    alt_text = factory.LazyAttribute(lambda o: o.product.name)
    position = factory.Sequence(lambda n: n)


class ReviewFactory(DjangoModelFactory):
    """An approved five-star review."""

    class Meta:
        model = Review

    product = factory.SubFactory(ProductFactory)
    rating = 5
    title = factory.Sequence(lambda n: f"Review {n}")
    body = "Does what it says."
    reviewer_name = factory.Sequence(lambda n: f"Reviewer {n}")
    status = Review.Status.APPROVED
