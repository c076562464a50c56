"""The product page gallery's colour shots: which photo shows which colour, so choosing a colour in
the variant picker can show that colour's photos (static/js/shop.js)."""
from .models import ProductImage


def image_colours(product_id: int) -> dict[int, str]:
    """{image id: colour} of the product's photos linked to a variant with a colour (one query);
    photos of the whole product are absent."""
    return dict(ProductImage.objects.filter(product_id=product_id, variant__isnull=False)
                .exclude(variant__colour="").values_list("pk", "variant__colour"))
