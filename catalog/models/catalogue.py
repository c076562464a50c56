"""The catalogue proper: categories, products and their variants (the things with a SKU, a price
and stock), and the selling-price rule (selling_price, Variant.unit_price)."""
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Case, Exists, F, OuterRef, Q, When
from django.db.models.functions import Least, Now
from django.utils import timezone

from shop.sources import SOURCE_MAX_LENGTH, Source
from shop.urlcache import cached_reverse

SALE_PRICE_ERROR = "The sale price must be below the price (leave it empty for no sale)."
SALE_REASON = "Sale"  # Variant.price_reason when the variant's own sale price sets its unit price


def promotion_in(reason: str) -> str:
    """The catalogue promotion a price reason (Variant.price_reason) names: its label, or "" when
    there is none or the variant's own sale price won."""
    return "" if reason == SALE_REASON else reason


class Category(models.Model):
    """A node of the category tree. `path` is the slash-joined slugs from the top ("men/tops")."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200)
    parent = models.ForeignKey("self", null=True, blank=True, related_name="children", on_delete=models.CASCADE)
    path = models.CharField(max_length=1000, unique=True, help_text="Slugs from the top, joined by '/'.")
    depth = models.PositiveSmallIntegerField(default=1, help_text="1 for a top-level category.")
    position = models.PositiveIntegerField(default=0, help_text="Order among siblings.")
    description = models.TextField(blank=True)
    is_visible = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["path"]
        constraints = [models.UniqueConstraint(fields=["parent", "slug"], name="category_unique_slug_per_parent")]

    def __str__(self) -> str:
        return self.path

    def get_absolute_url(self) -> str:
        return cached_reverse("catalog:category", kwargs={"path": self.path})

    def ancestor_paths(self) -> list[str]:
        """Paths of this category and every ancestor, top first: "a/b" -> ["a", "a/b"]."""
        parts = self.path.split("/")
        return ["/".join(parts[: i + 1]) for i in range(len(parts))]


class ProductQuerySet(models.QuerySet):
    """Named reads of products."""

    def visible(self) -> "ProductQuerySet":
        """Products a shopper may see: flagged visible, with at least one active variant."""
        return self.filter(Exists(Variant.objects.filter(product=OuterRef("pk"), is_active=True)), is_visible=True)

    def in_category(self, category: "Category") -> "ProductQuerySet":
        """Products in `category` or any category below it."""
        in_tree = Product.categories.through.objects.filter(product=OuterRef("pk")).filter(
            Q(category__path=category.path) | Q(category__path__startswith=category.path + "/")
        )
        return self.filter(Exists(in_tree))

    def on_sale(self) -> "ProductQuerySet":
        """Products with an active variant selling below its regular price (Variant.is_on_sale)."""
        return self.filter(Exists(
            Variant.objects.active().with_effective_price()
            .filter(product=OuterRef("pk"), effective_price__lt=F("price"))
        ))


class TaxClass(models.TextChoices):
    """How a product is taxed; each country's rate per class is a promotions.TaxRate."""

    STANDARD = "standard", "Standard rate"
    REDUCED = "reduced", "Reduced rate"
    ZERO = "zero", "Zero rate"


class Product(models.Model):
    """What a shopper browses: a name, a description and one or more variants to buy."""

    sku = models.CharField(
        "parent SKU", max_length=64, unique=True, help_text="The catalogue's own key (Magento parent SKU)."
    )
    name = models.CharField(max_length=255)
    slug = models.SlugField(max_length=255, unique=True)
    description = models.TextField(blank=True, help_text="Sanitised HTML.")
    short_description = models.TextField(blank=True, help_text="Sanitised HTML.")
    attributes = models.JSONField(default=dict, blank=True, help_text='e.g. {"material": ["Wool"]}')
    seo_title = models.CharField(max_length=255, blank=True)
    seo_description = models.TextField(blank=True)
    is_visible = models.BooleanField(default=True, db_index=True)
    source = models.CharField(max_length=SOURCE_MAX_LENGTH, choices=Source.choices, default=Source.WEB,
                              db_default=Source.WEB, db_index=True, help_text="Live catalogue or imported history.")
    categories = models.ManyToManyField(Category, related_name="products", blank=True)
    tax_class = models.CharField(max_length=16, choices=TaxClass.choices, default=TaxClass.STANDARD,
                                 db_default=TaxClass.STANDARD)
    weight = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True,
                                 validators=[MinValueValidator(Decimal("0"))],
                                 help_text="kg per unit, for weight-based shipping (a variant's own weight wins).")
    is_consumable = models.BooleanField(
        default=False, db_default=False,
        help_text="Bought again and again (coffee, filters, refills): personal recommendations may offer it again "
                  "to a customer who already bought it.")
    is_gift_card = models.BooleanField(
        default=False, db_default=False,
        help_text="Sold as a gift card: once the order is paid, a card worth the unit price is issued per unit "
                  "and its code emailed to the buyer (giftcards.services.issue_for_order). Use the zero tax class.")
    # Kept in step by catalog.services.refresh_product_rating, never computed per row on listings.
    rating_average = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    rating_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [
            # Keyset pages of the listing sorts (catalog.selectors.SORT_KEYS): an index scan starts at
            # the cursor, so page 1000 of 100,000 products costs what page 1 costs.
            models.Index(fields=["name", "id"], name="product_listing_name"),
            models.Index(fields=["created_at", "id"], name="product_listing_newest"),
            # The rating sort's index is PostgreSQL-only (migration 0004).
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return Product.url_for(self.slug)

    @staticmethod
    def url_for(slug: str) -> str:
        """The storefront path of the product with `slug` ("/p/<slug>/"), for readers that hold
        only the slug (catalog.selectors.load_cards)."""
        return cached_reverse("catalog:product", kwargs={"slug": slug})

    @property
    def meta_title(self) -> str:
        return self.seo_title or self.name


PRICE_FIELD = models.DecimalField(max_digits=10, decimal_places=2)


def selling_price(prefix: str = "") -> Least:
    """The selling-price rule as a database expression: the lowest of the price, the sale price
    (when set and below the price) and the live promoted price (a Decimal in settings.SHOP_CURRENCY).
    The promoted price is live while the catalogue promotion that set it runs (`promoted_until` in
    the future, or open-ended) and was worked out from the price the variant has now
    (`promotion_base_price`), so an ended promotion or a changed price never sells at a stale
    promoted price, even before promotions.sales.apply_promotions has run again.
    `prefix` reaches a variant through a relation, e.g. "variants__" from a product.
    Variant.unit_price is the same rule in Python; every price a shopper sees, filters or sorts by,
    pays or is shown in the API comes from one of the two. (The database also refuses a sale price
    at or above the price: variant_sale_below_price.)"""
    price = F(f"{prefix}price")
    sale = Case(When(**{f"{prefix}sale_price__lt": price}, then=F(f"{prefix}sale_price")), default=price,
                output_field=PRICE_FIELD)
    live = Q(**{f"{prefix}promoted_price__isnull": False, f"{prefix}promotion_base_price": price}) & (
        Q(**{f"{prefix}promoted_until__isnull": True}) | Q(**{f"{prefix}promoted_until__gt": Now()}))
    promoted = Case(When(live, then=F(f"{prefix}promoted_price")), default=price, output_field=PRICE_FIELD)
    return Least(sale, promoted, output_field=PRICE_FIELD)


class VariantQuerySet(models.QuerySet):
    """Named reads of variants."""

    def active(self) -> "VariantQuerySet":
        return self.filter(is_active=True)

    def in_stock(self) -> "VariantQuerySet":
        return self.filter(is_active=True, stock__gt=0)

    def with_effective_price(self) -> "VariantQuerySet":
        """Annotate `effective_price`: what one unit sells for now (selling_price(), the rule of
        Variant.unit_price)."""
        return self.annotate(effective_price=selling_price())


class Variant(models.Model):
    """A buyable SKU of a product: one size and colour, with its own price and stock."""

    product = models.ForeignKey(Product, related_name="variants", on_delete=models.CASCADE)
    sku = models.CharField("SKU", max_length=64, unique=True)
    name = models.CharField(max_length=255, blank=True)
    size = models.CharField(max_length=32, blank=True, db_index=True)
    colour = models.CharField(max_length=32, blank=True, db_index=True)
    price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    sale_price = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )
    stock = models.IntegerField(default=0, help_text="Units on hand that can still be sold.")
    low_stock_threshold = models.PositiveIntegerField(default=5)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    weight = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True,
                                 validators=[MinValueValidator(Decimal("0"))],
                                 help_text="kg per unit; empty: the product's weight.")
    # The best catalogue promotion running for this variant, written by promotions.sales (never by
    # hand): its price, the price it was worked out from, when it ends, and its label.
    promoted_price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True, editable=False)
    promotion_base_price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True,
                                               editable=False)
    promoted_until = models.DateTimeField(null=True, blank=True, editable=False)
    promotion_label = models.CharField(max_length=120, blank=True, default="", editable=False)

    objects = VariantQuerySet.as_manager()

    class Meta:
        ordering = ["product_id", "position", "pk"]
        constraints = [
            # The last line of defence against overselling: the database refuses negative stock.
            models.CheckConstraint(condition=Q(stock__gte=0), name="variant_stock_non_negative"),
            models.CheckConstraint(condition=Q(price__gte=0), name="variant_price_non_negative"),
            # A sale price is a reduction: at or above the price it would mean nothing (or a rise).
            models.CheckConstraint(condition=Q(sale_price__isnull=True) | Q(sale_price__lt=F("price")),
                                   name="variant_sale_below_price"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} ({self.product.name})" if self.product_id else self.sku

    def clean(self) -> None:
        """Refuse a sale price at or above the price, on the sale price field (forms, the admin)."""
        super().clean()
        if self.sale_price is not None and self.price is not None and self.sale_price >= self.price:
            raise ValidationError({"sale_price": SALE_PRICE_ERROR})

    @property
    def promotion_is_live(self) -> bool:
        """The promoted price applies now: set, worked out from today's price, and not ended."""
        return (self.promoted_price is not None and self.promotion_base_price == self.price
                and (self.promoted_until is None or self.promoted_until > timezone.now()))

    @property
    def unit_price(self) -> Decimal:
        """What one unit sells for now: the lowest of the price, the sale price (when below it) and
        the live promoted price (the rule of selling_price(), in Python)."""
        prices = [self.price]
        if self.sale_price is not None:
            prices.append(self.sale_price)
        if self.promotion_is_live:
            prices.append(self.promoted_price)
        return min(prices)

    @property
    def price_reason(self) -> str:
        """Why the unit price is below the price: the promotion's label, "Sale", or "" (none)."""
        if self.unit_price >= self.price:
            return ""
        return self.promotion_label if self.promotion_is_live and self.promoted_price == self.unit_price \
            else SALE_REASON

    @property
    def shipping_weight(self) -> Decimal:
        """kg per unit for shipping: the variant's weight, else the product's, else 0."""
        weight = self.weight if self.weight is not None else self.product.weight
        return weight if weight is not None else Decimal("0")

    @property
    def is_on_sale(self) -> bool:
        return self.unit_price < self.price

    @property
    def in_stock(self) -> bool:
        return self.is_active and self.stock > 0

    @property
    def options_label(self) -> str:
        """"M / Gray", or "" for a product without options."""
        return " / ".join(value for value in (self.size, self.colour) if value)

    @property
    def options(self) -> dict[str, str]:
        return {key: value for key, value in (("size", self.size), ("colour", self.colour)) if value}
