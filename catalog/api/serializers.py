"""Catalogue API shapes. Reads show what the storefront shows (prices in settings.SHOP_CURRENCY as
decimal strings); staff writes list every field a client may set, so nothing else (stock, ratings,
image pipeline state, paths) can be mass-assigned."""
from decimal import Decimal

from django.utils.text import slugify
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from catalog.importers import sanitise_html
from catalog.models import SALE_PRICE_ERROR, Category, Product, ProductImage, Variant
from shop.api_base import StrictJSONModelSerializer

MAX_PRICE = Decimal("99999999.99")  # Variant.price: 10 digits, 2 after the point


class RenditionSerializer(serializers.Serializer):
    format = serializers.CharField(help_text='"webp" or "jpeg"')
    width = serializers.IntegerField(help_text="px")
    height = serializers.IntegerField(help_text="px")
    url = serializers.CharField()


class ImageSerializer(serializers.Serializer):
    """A product photo: `src` is the widest JPEG up to 1024 px (the original while pending), and
    `renditions` every resized copy (empty until the worker made them)."""

    id = serializers.IntegerField()
    alt_text = serializers.CharField()
    width = serializers.IntegerField(allow_null=True, help_text="px")
    height = serializers.IntegerField(allow_null=True, help_text="px")
    status = serializers.CharField(help_text='"pending", "ready" or "failed"')
    src = serializers.CharField(source="src_url")
    lqip = serializers.CharField(help_text="A tiny blurred placeholder as a data URI, or empty.")
    dominant_colour = serializers.CharField()
    renditions = serializers.SerializerMethodField()

    @extend_schema_field(RenditionSerializer(many=True))
    def get_renditions(self, image: ProductImage) -> list[dict]:
        return [{"format": r.format, "width": r.width, "height": r.height, "url": r.url}
                for r in (*image.webp_renditions, *image.jpeg_renditions)]


class CardVariantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    stock = serializers.IntegerField(help_text="Units on hand.")


class ProductCardSerializer(serializers.Serializer):
    """One product in a listing (catalog.selectors.product_cards: no query per product)."""

    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    url = serializers.CharField(source="get_absolute_url", help_text="The storefront page.")
    price_from = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True,
                                          help_text="Lowest selling price of an active variant.")
    regular_price_from = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    currency = serializers.SerializerMethodField()
    in_stock = serializers.SerializerMethodField()
    stock_total = serializers.IntegerField(help_text="Units across active variants.")
    rating_average = serializers.DecimalField(max_digits=3, decimal_places=2, allow_null=True)
    rating_count = serializers.IntegerField()
    image = serializers.SerializerMethodField()
    variants = CardVariantSerializer(source="live_variants", many=True)

    def get_currency(self, product) -> str:
        from django.conf import settings

        return settings.SHOP_CURRENCY

    def get_in_stock(self, product) -> bool:
        return product.stock_total > 0

    @extend_schema_field(ImageSerializer(allow_null=True))
    def get_image(self, product):
        return ImageSerializer(product.primary_images[0]).data if product.primary_images else None


class VariantSerializer(serializers.ModelSerializer):
    """A variant as shoppers see it; `unit_price` is what one unit sells for now, and
    `price_reason` why it is below `price` (a catalogue promotion's label, "Sale", or "")."""

    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    price_reason = serializers.CharField(read_only=True)
    in_stock = serializers.BooleanField(read_only=True)

    class Meta:
        model = Variant
        fields = ["id", "sku", "name", "size", "colour", "price", "sale_price", "unit_price", "price_reason", "stock",
                  "in_stock", "low_stock_threshold", "position", "is_active"]
        read_only_fields = fields


class CategoryRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug", "path"]
        read_only_fields = fields


class ProductDetailSerializer(serializers.ModelSerializer):
    """A product page's data (catalog.selectors.product_detail): active variants with stock, images
    with renditions, categories deepest first, rating."""

    variants = VariantSerializer(many=True, read_only=True, source="active_variants")
    images = ImageSerializer(many=True, read_only=True, source="gallery")
    categories = CategoryRefSerializer(many=True, read_only=True, source="category_list")
    url = serializers.CharField(source="get_absolute_url", read_only=True)
    currency = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = ["id", "sku", "slug", "name", "url", "description", "short_description", "attributes",
                  "seo_title", "seo_description", "is_visible", "categories", "rating_average", "rating_count",
                  "currency", "variants", "images", "created_at", "updated_at"]
        read_only_fields = fields

    def get_currency(self, product) -> str:
        from django.conf import settings

        return settings.SHOP_CURRENCY


class ProductWriteSerializer(StrictJSONModelSerializer):
    """Staff create/update of a product. Descriptions are sanitised HTML; the slug defaults to the
    name's; ratings, stock and images are never written here."""

    slug = serializers.SlugField(max_length=255, required=False,
                                 validators=[UniqueValidator(queryset=Product.objects.all())])
    categories = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), many=True, required=False)
    attributes = serializers.DictField(child=serializers.ListField(child=serializers.CharField(max_length=255)),
                                       required=False, help_text='e.g. {"material": ["Wool"]}')

    class Meta:
        model = Product
        fields = ["id", "sku", "name", "slug", "description", "short_description", "attributes", "seo_title",
                  "seo_description", "is_visible", "categories"]
        read_only_fields = ["id"]

    def validate(self, attrs: dict) -> dict:
        for field in ("description", "short_description"):
            if field in attrs:
                attrs[field] = sanitise_html(attrs[field])
        if not attrs.get("slug") and "name" in attrs and self.instance is None:
            attrs["slug"] = slugify(attrs["name"])[:255]
            if not attrs["slug"]:
                raise serializers.ValidationError({"slug": ["Give a slug: the name has no letters to make one."]})
            if Product.objects.filter(slug=attrs["slug"]).exists():
                raise serializers.ValidationError({"slug": ["A product with this slug already exists."]})
        return attrs


@extend_schema_field({"type": "string", "format": "decimal", "pattern": r"^[0-9]{1,8}(\.[0-9]{1,2})?$",
                      "example": "52.00"})
class PriceField(serializers.DecimalField):
    """A price in the shop currency as a decimal string: 0 to 99999999.99, at most 2 decimals."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=10, decimal_places=2, min_value=Decimal("0"), max_value=MAX_PRICE, **kwargs)

    def run_validation(self, data=serializers.empty):
        """An empty string is not a price (DRF would read it as null); send null to clear a sale price."""
        if data == "":
            self.fail("invalid")
        return super().run_validation(data)


class VariantWriteSerializer(StrictJSONModelSerializer):
    """Staff create/update of a variant. Stock can be given when creating; later it changes only
    through PATCH /variants/{id}/stock/ (which broadcasts and refuses to go below zero)."""

    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    price = PriceField()
    sale_price = PriceField(required=False, allow_null=True)
    stock = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False, default=0,
                                     help_text="Initial units on hand (create only).")
    low_stock_threshold = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
    position = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)

    class Meta:
        model = Variant
        fields = ["id", "product", "sku", "name", "size", "colour", "price", "sale_price", "stock",
                  "low_stock_threshold", "position", "is_active"]
        read_only_fields = ["id"]

    def validate(self, attrs: dict) -> dict:
        """Refuse a sale price at or above the price (the variant's current one on a partial update)
        with a 400 naming `sale_price`, before the database constraint would."""
        price = attrs.get("price", getattr(self.instance, "price", None))
        sale_price = attrs.get("sale_price", getattr(self.instance, "sale_price", None))
        if sale_price is not None and price is not None and sale_price >= price:
            raise serializers.ValidationError({"sale_price": [SALE_PRICE_ERROR]})
        return attrs


class VariantUpdateSerializer(VariantWriteSerializer):
    """A variant edit: everything but its product and its stock (PATCH .../stock/ moves stock)."""

    class Meta(VariantWriteSerializer.Meta):
        fields = ["id", "sku", "name", "size", "colour", "price", "sale_price", "low_stock_threshold", "position",
                  "is_active"]


class CategoryTreeSerializer(serializers.ModelSerializer):
    """A category with its visible children, recursively."""

    children = serializers.SerializerMethodField()

    class Meta:
        model = Category
        fields = ["id", "name", "slug", "path", "depth", "position", "description", "children"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_children(self, category: Category) -> list[dict]:
        children = self.context["children"].get(category.pk, [])
        return [CategoryTreeSerializer(child, context=self.context).data for child in children]


class CategoryWriteSerializer(StrictJSONModelSerializer):
    """Staff create/update of a category. `path` and `depth` follow from `parent` and `slug`, which
    are fixed once created (moving a subtree is an admin job)."""

    slug = serializers.SlugField(max_length=200)
    parent = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), required=False, allow_null=True)
    position = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)

    class Meta:
        model = Category
        fields = ["id", "name", "slug", "parent", "path", "depth", "position", "description", "is_visible"]
        read_only_fields = ["id", "path", "depth"]
        validators: list = []  # (parent, slug) uniqueness is checked through the path in validate()

    def validate(self, attrs: dict) -> dict:
        if self.instance is None:
            parent = attrs.get("parent")
            attrs["path"] = f"{parent.path}/{attrs['slug']}" if parent else attrs["slug"]
            attrs["depth"] = parent.depth + 1 if parent else 1
            if len(attrs["path"]) > 1000:
                raise serializers.ValidationError({"slug": ["The category path would be too long."]})
            if Category.objects.filter(path=attrs["path"]).exists():
                raise serializers.ValidationError({"slug": ["A category with this slug already exists here."]})
        return attrs


class CategoryUpdateSerializer(CategoryWriteSerializer):
    """A category edit: its slug and parent stay (moving a subtree is an admin job)."""

    class Meta(CategoryWriteSerializer.Meta):
        fields = ["id", "name", "path", "depth", "position", "description", "is_visible"]
