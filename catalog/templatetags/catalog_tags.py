"""Template tags for catalogue pages (`{% load catalog_tags %}`): responsive product pictures
(`{% picture %}`, rendered by templates/catalog/_picture.html), where a gallery thumbnail links
(`|picture_link`) and the `sizes` of a layout (`{% picture_sizes %}`). Site-wide filters (money,
stars, media URLs) are in shop/templatetags/shop.py."""
import re

from django import template

register = template.Library()


# --- Responsive product pictures ---------------------------------------------------------------
#
# `sizes` tells the browser how wide (CSS px) an image will be drawn before any CSS has loaded, so
# it can pick a srcset candidate (320w, 640w, 1024w...) at once. Each value below is worked out from
# static/css/shop.css (issue 23's theme); change them together:
#   .container            max-width 1280px, padding 0 16px  -> content 1248px, or 100vw - 32px
#   .listing              from 960px: 260px filter sidebar + 32px gap -> products get 100vw - 324px
#                         (up to 956px); below 960px the filters are a drawer and the grid is full width
#   .product-grid         2 columns, gap 12px (phones); 3 columns, gap 20px from 640px; 4 columns from
#                         1100px beside the sidebar, from 960px on the home page (.grid-wide)
#   .product-card         no padding or border: image = column
#   .product-page         from 960px: 1fr 1fr, gap 40px; one column below
# Media conditions are tried in order; the first that matches gives the slot width.
PICTURE_SIZES = {
    # Cards on category and search pages (grid beside the 260px sidebar from 960px).
    "listing": ", ".join([
        "(min-width: 1280px) 224px",               # 4 columns of (956 - 3*20)/4
        "(min-width: 1100px) calc(25vw - 96px)",   # 4 columns: grid = 100vw - 324px
        "(min-width: 960px) calc(33.33vw - 122px)",  # 3 columns
        "(min-width: 640px) calc(33.33vw - 24px)",  # filters in a drawer: grid = 100vw - 32px, 3 columns
        "calc(50vw - 22px)",                       # phones: 2 columns, gap 12px
    ]),
    # Cards on the home page (grid across the whole container).
    "wide": ", ".join([
        "(min-width: 1280px) 297px",               # 4 columns of (1248 - 3*20)/4
        "(min-width: 960px) calc(25vw - 23px)",    # 4 columns: grid = 100vw - 32px
        "(min-width: 640px) calc(33.33vw - 24px)",  # 3 columns
        "calc(50vw - 22px)",                       # 2 columns
    ]),
    # The product page's main image: half the container beside the buy box, full width below 960px.
    "product": ", ".join([
        "(min-width: 1280px) 604px",               # (1248 - 40)/2
        "(min-width: 960px) calc(50vw - 36px)",    # (100vw - 32px - 40px)/2
        "calc(100vw - 32px)",                      # one column
    ]),
    # Product page thumbnails (.thumbs img: 64px wide).
    "thumb": "64px",
    # The home page's hero photo (.hero-image: 420px beside the text from 768px, else full width).
    "hero": "(min-width: 768px) 420px, calc(100vw - 32px)",
    # Category tiles (.category-tiles, gap 16px): 5 columns from 960px, 3 from 640px, else 2.
    "tile": ", ".join([
        "(min-width: 1280px) 237px",               # (1248 - 4*16)/5
        "(min-width: 960px) calc(20vw - 19px)",
        "(min-width: 640px) calc(33.33vw - 21px)",
        "calc(50vw - 24px)",
    ]),
}
EAGER_CARDS = 4  # cards in the first row of a listing beside the filters at full width: loaded at once
DEFAULT_ASPECT = (300, 372)  # width, height: the Luma photographs' shape, for images of unknown size
LQIP_PATTERN = re.compile(r"data:image/(?:webp|jpeg|png);base64,[A-Za-z0-9+/]+={0,2}")
COLOUR_PATTERN = re.compile(r"#[0-9a-fA-F]{6}")


def picture(image, *, sizes: str, alt: str = "", position: int | None = None, priority: bool = False,
            css_class: str = "") -> dict:
    """What `{% picture %}` shows of a product image (catalog.models.ProductImage, or None).

    - Renditions ready: a WebP <source> and a JPEG <img> fallback, each with a srcset and the
      `sizes` of the layout named by `sizes` (a PICTURE_SIZES key); the LQIP over the dominant
      colour is the img's background until the photo arrives (shop.js then drops it, so a
      transparent WebP does not show it through).
    - Renditions pending: the original, scaled by the browser (no srcset).
    - Refused by the worker (failed), no file or no image: the neutral placeholder.
    Always with width/height (the photo's own shape), so nothing moves when it loads.
    Loading: `priority` (the main product image, the hero) is eager with fetchpriority="high", as
    is the card at `position` 1 (a listing's largest paint on a phone, Lighthouse's LCP); a card up
    to EAGER_CARDS (the first row) is eager; anything else (cards without a position too) is lazy.
    Read image.renditions from a prefetch
    (ProductImage.objects.with_renditions()), or this costs a query per image.
    """
    width, height = (image.width, image.height) if image is not None and image.width and image.height \
        else DEFAULT_ASPECT
    context = {"alt": alt, "width": width, "height": height, "css_class": css_class,
               "loading": "eager" if priority or (position is not None and position <= EAGER_CARDS) else "lazy",
               "priority": priority or position == 1,
               "sizes": PICTURE_SIZES[sizes]}
    if image is None or not image.image or image.status == image.Status.FAILED:
        return {**context, "placeholder": True}
    if not image.is_ready:
        return {**context, "src": image.image.url}
    lqip = image.lqip if LQIP_PATTERN.fullmatch(image.lqip or "") else ""
    colour = image.dominant_colour if COLOUR_PATTERN.fullmatch(image.dominant_colour or "") else ""
    return {**context, "src": image.src_url, "webp_srcset": image.webp_srcset, "jpeg_srcset": image.jpeg_srcset,
            "lqip": lqip, "colour": colour}


@register.inclusion_tag("catalog/_picture.html", name="picture")
def picture_tag(image, *, sizes: str, alt: str = "", position: int | None = None, priority: bool = False,
                css_class: str = "") -> dict:
    """`{% picture image sizes="listing" ... %}`: picture(image, **options) rendered by
    templates/catalog/_picture.html. Ready: <picture> with a WebP <source> and a JPEG <img>, each
    with a srcset and `sizes`, the LQIP and dominant colour as the img's CSS custom properties
    (--lqip, --dominant; see .picture-img in shop.css). Pending: the <img> of the original.
    Refused, or no file: <img class="picture-img is-placeholder"> of static/img/placeholder.svg."""
    return picture(image, sizes=sizes, alt=alt, position=position, priority=priority, css_class=css_class)


@register.filter
def picture_link(image) -> str:
    """Where a link to a product image (a gallery thumbnail) points: its widest JPEG rendition
    when ready, the original while pending, "" when refused or missing (never a refused file)."""
    if image is None or not image.image or image.status == image.Status.FAILED:
        return ""
    jpegs = image.jpeg_renditions
    return jpegs[-1].url if jpegs else image.image.url


@register.simple_tag
def picture_sizes(layout: str) -> str:
    """The `sizes` value of a PICTURE_SIZES layout, for scripts that move pictures between slots."""
    return PICTURE_SIZES[layout]


# --- The product page's option buttons ---------------------------------------------------------

@register.simple_tag
def option_choices(picker):
    """`{% option_choices picker as options %}`: catalog.swatches.option_choices(picker), the
    sizes and colours with their stock state and swatches (no query)."""
    from catalog.swatches import option_choices as choices

    return choices(picker)
