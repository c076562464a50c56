"""The product page gallery's colour shots: which photo shows which colour, so choosing a colour in
the variant picker can show that colour's photos (static/js/shop.js)."""
from .models import ProductImage, Variant


def image_colours(gallery: list[ProductImage], variants: list[Variant]) -> dict[int, str]:
    """{image id: colour} of the gallery's photos linked to a variant with a colour; photos of the
    whole product are absent. The colours come from `variants` (the page's active variants); a
    photo linked to another variant (an inactive one) costs one query for all such."""
    colours = {variant.pk: variant.colour for variant in variants}
    others = {image.variant_id for image in gallery if image.variant_id and image.variant_id not in colours}
    if others:
        colours.update(Variant.objects.filter(pk__in=others).values_list("pk", "colour"))
    return {image.pk: colours[image.variant_id] for image in gallery
            if image.variant_id and colours.get(image.variant_id)}
