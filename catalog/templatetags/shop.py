"""Template tags and filters for the storefront: money formatting, media URLs, responsive
product pictures (`{% picture %}`), and the listings' parts written in Python for speed: product
cards (`{% product_cards %}`), the filter form (`{% filter_form %}`) and the page links
(`{% pagination_links %}`)."""
import html
import re
from decimal import Decimal

from django import template
from django.conf import settings
from django.template.defaultfilters import urlencode
from django.template.defaulttags import querystring
from django.templatetags.static import static
from django.utils.formats import get_format, localize
from django.utils.safestring import mark_safe

from catalog import models
from shop.templatetags.cached_url import FixedURLs, current_app

register = template.Library()

CURRENCY_SYMBOLS = {"USD": "$", "GBP": "£", "EUR": "€", "CAD": "CA$", "AUD": "A$"}


@register.filter
def money(amount: Decimal | None, currency: str | None = None) -> str:
    """Format a Decimal amount as "$52.00" (symbol from the currency code; default the shop's)."""
    if amount is None or amount == "":
        return ""
    code = currency or settings.SHOP_CURRENCY
    symbol = CURRENCY_SYMBOLS.get(code)
    value = f"{Decimal(amount):,.2f}"
    return f"{symbol}{value}" if symbol else f"{value} {code}"


@register.filter
def media_url(path: str | None) -> str:
    """The public URL of a file stored in the default storage, or "" for no file
    (catalog.models.media_url)."""
    return models.media_url(path) if path else ""


@register.filter
def stars(rating: Decimal | None) -> str:
    """A five-star bar for an average rating: 4.3 -> "★★★★☆"."""
    if rating is None:
        return ""
    full = int(Decimal(rating) + Decimal("0.5"))
    return "★" * full + "☆" * (5 - full)


@register.filter
def attribute_value(value) -> str:
    """Show a product attribute: lists (multi-select values) joined by commas."""
    return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


@register.filter
def attribute_label(key: str) -> str:
    """"eco_collection" -> "Eco collection"."""
    return key.replace("_", " ").capitalize()


# --- Responsive product pictures ---------------------------------------------------------------
#
# `sizes` tells the browser how wide (CSS px) an image will be drawn before any CSS has loaded, so
# it can pick a srcset candidate (320w, 640w, 1024w...) at once. Each value below is worked out from
# static/css/shop.css; change them together:
#   .container            max-width 1200px, padding 0 16px  -> content 1168px, or 100vw - 32px
#   .listing              240px filter sidebar + 24px gap   -> products get 1168 - 264 = 904px
#                         (one column at max-width 760px: the sidebar goes above the products)
#   .product-grid         repeat(auto-fill, minmax(200px, 1fr)), gap 20px: n columns when the
#                         grid is at least n*200 + (n-1)*20 px wide, i.e. n = floor((grid+20)/220)
#   .product-card         padding 10px + border 1px each side -> image = column - 22px
#   .product-page         1fr 1fr, gap 32px (one column at max-width 760px)
# Media conditions are tried in order; the first that matches gives the slot width.
PICTURE_SIZES = {
    # Cards on category and search pages (grid beside the 240px sidebar).
    "listing": ", ".join([
        "(min-width: 1200px) 189px",               # 4 columns of (904 - 3*20)/4 = 211 -> 189px
        "(min-width: 1156px) calc(25vw - 111px)",  # 4 columns: grid = 100vw - 296px
        "(min-width: 936px) calc(33.33vw - 134px)",  # 3 columns
        "(min-width: 761px) calc(50vw - 180px)",   # 2 columns (grid 465-639px)
        "(min-width: 672px) calc(33.33vw - 46px)",  # sidebar on top: grid = 100vw - 32px, 3 columns
        "(min-width: 452px) calc(50vw - 48px)",    # 2 columns
        "calc(100vw - 54px)",                      # phones: 1 column
    ]),
    # Cards on the home page (grid across the whole container).
    "wide": ", ".join([
        "(min-width: 1200px) 196px",               # 5 columns of (1168 - 4*20)/5 = 217.6 -> 196px
        "(min-width: 1112px) calc(20vw - 44px)",   # 5 columns: grid = 100vw - 32px
        "(min-width: 892px) calc(25vw - 45px)",    # 4 columns
        "(min-width: 672px) calc(33.33vw - 46px)",  # 3 columns
        "(min-width: 452px) calc(50vw - 48px)",    # 2 columns
        "calc(100vw - 54px)",                      # 1 column
    ]),
    # The product page's main image: half the container beside the buy box, full width below 761px.
    "product": ", ".join([
        "(min-width: 1200px) 568px",               # (1168 - 32)/2
        "(min-width: 761px) calc(50vw - 32px)",    # (100vw - 32px - 32px)/2
        "calc(100vw - 32px)",                      # one column
    ]),
    # Product page thumbnails (.thumbs img: 64px wide).
    "thumb": "64px",
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
    Loading: `priority` (the main product image) is eager with fetchpriority="high"; a card at
    `position` (1-based) up to EAGER_CARDS (the first row) is eager; anything else is lazy.
    Read image.renditions from a prefetch
    (ProductImage.objects.with_renditions()), or this costs a query per image.
    """
    width, height = (image.width, image.height) if image is not None and image.width and image.height \
        else DEFAULT_ASPECT
    context = {"alt": alt, "width": width, "height": height, "css_class": css_class,
               "loading": "eager" if priority or (position is not None and position <= EAGER_CARDS) else "lazy",
               "priority": priority,
               "sizes": PICTURE_SIZES[sizes]}
    if image is None or not image.image or image.status == image.Status.FAILED:
        return {**context, "placeholder": True}
    if not image.is_ready:
        return {**context, "src": image.image.url}
    lqip = image.lqip if LQIP_PATTERN.fullmatch(image.lqip or "") else ""
    colour = image.dominant_colour if COLOUR_PATTERN.fullmatch(image.dominant_colour or "") else ""
    return {**context, "src": image.src_url, "webp_srcset": image.webp_srcset, "jpeg_srcset": image.jpeg_srcset,
            "lqip": lqip, "colour": colour}


@register.simple_tag(name="picture")
def picture_tag(image, *, sizes: str, alt: str = "", position: int | None = None, priority: bool = False,
                css_class: str = "") -> str:
    """`{% picture image sizes="listing" ... %}`: picture(image, **options) as HTML. Written out
    here rather than in a template: a listing shows 24 and the product page a dozen, and a
    template costs several times as much per picture. Every value is escaped as a template would,
    and each picture ends with a newline, as the template this replaced did.

    Ready: <picture><source type="image/webp" srcset sizes><img class="picture-img" loading
    fetchpriority|decoding src srcset sizes alt width height style="--lqip:url('...');--dominant:#..."
    ></picture> (the custom properties drive .picture-img's background in shop.css). Pending: the
    <img> with the original as src. Refused, or no file: <img class="picture-img is-placeholder">
    of static/img/placeholder.svg."""
    return _picture_html(**picture(image, sizes=sizes, alt=alt, position=position, priority=priority,
                                   css_class=css_class))


def _escape(value) -> str:
    """`value` as `{{ value }}` prints it: escaped unless marked safe (django.utils.html's
    conditional_escape, without its lazy-string wrapper, which costs more than the escaping)."""
    return value.__html__() if hasattr(value, "__html__") else html.escape(str(value))


def _picture_html(*, alt, width, height, css_class, loading, priority, sizes, placeholder=False, src="",
                  webp_srcset="", jpeg_srcset="", lqip="", colour="") -> str:
    """The HTML of a picture() answer (see picture_tag)."""
    extra_class = f" {_escape(css_class)}" if css_class else ""
    shape = f'alt="{_escape(alt)}" width="{_escape(width)}" height="{_escape(height)}"'
    if placeholder:
        placeholder_src = _escape(static("img/placeholder.svg"))
        return mark_safe(f'<img class="picture-img is-placeholder{extra_class}" src="{placeholder_src}" {shape}>\n')
    fetch = ' fetchpriority="high"' if priority else ' decoding="async"'
    img = f'<img class="picture-img{extra_class}" loading="{_escape(loading)}"{fetch} src="{_escape(src)}"'
    if not (jpeg_srcset or webp_srcset):
        return mark_safe(f"{img} {shape}>\n")
    sizes = _escape(sizes)
    source = f'<source type="image/webp" srcset="{_escape(webp_srcset)}" sizes="{sizes}">' if webp_srcset else ""
    srcset = f' srcset="{_escape(jpeg_srcset)}" sizes="{sizes}"' if jpeg_srcset else ""
    style = ""
    if lqip or colour:
        lqip_property = f"--lqip:url('{_escape(lqip)}');" if lqip else ""
        colour_property = f"--dominant:{_escape(colour)}" if colour else ""
        style = f' style="{lqip_property}{colour_property}"'
    return mark_safe(f"<picture>{source}{img}{srcset} {shape}{style}></picture>\n")


# --- Product cards ------------------------------------------------------------------------------


@register.simple_tag(name="product_cards")
def product_cards(cards, *, sizes: str = "listing", empty: str = "") -> str:
    """`{% product_cards cards sizes="wide" empty="No products match." %}`: a grid's cards as HTML,
    the one place that writes them (category, search and home pages).

    `cards`: catalog.selectors.ProductCard objects in display order; `sizes`: the PICTURE_SIZES
    layout of their pictures, "listing" (beside the filters; also for "") or "wide" (home page);
    `empty`: the text shown, in a <p>, when there are no cards ("": nothing). Each card is an
    <article class="product-card">: a link holding the picture or a no-image box, and the name (which
    says what the link is, so the picture is decorative: alt=""); the price, on sale as the sale
    price and the struck regular one; the stars with the count when rated; the stock line, whose
    data-stock-variants the live stock script follows. A picture's position (1-based) makes the
    first row load at once (EAGER_CARDS), the rest when scrolled near.
    Written in Python, as `{% picture %}` is: a template cost about 17 us a card, this about 2. The
    output is byte for byte what that template wrote, every value escaped as it did."""
    number, sizes, html, currency = None, sizes or "listing", [], settings.SHOP_CURRENCY
    for position, card in enumerate(cards or (), 1):
        image = picture_tag(card.image, sizes=sizes, position=position) if card.image \
            else '<div class="no-image" aria-hidden="true"></div>'
        price = _escape(money(card.price_from, currency))
        if card.on_sale:
            price = f'<span class="sale">{price}</span> <s>{_escape(money(card.regular_price_from, currency))}</s>\n    '
        rating = ""
        if card.rating_count:
            number, average = number or _number_format(), card.rating_average
            rating = (f'<p class="rating" title="{_escape(number(average))} out of 5">{_escape(stars(average))} '
                      f"<span>({_escape(number(card.rating_count))})</span></p>")
        stock, stock_text = ("in", "In stock") if card.stock_total else ("out", "Sold out")
        html.append(f'<article class="product-card">\n  <a href="{_escape(card.url)}">\n    \n    {image}\n'
                    f'    <h3>{_escape(card.name)}</h3>\n  </a>\n  <p class="price">\n    {price}\n  </p>\n  {rating}\n'
                    f'  <p class="stock {stock}" data-stock-variants="{_escape(card.variant_ids)}">{stock_text}</p>\n'
                    "</article>\n")
    if not html and empty:
        return mark_safe(f"<p>{_escape(empty)}</p>")
    return mark_safe("".join(html))


def _number_format():
    """How `{{ number }}` prints a Decimal or an int under the active locale, as a function: plain
    (4.30, 1234) without a thousand separator and with "." before decimals, as this shop runs;
    django's localize() otherwise (about 6 us a number)."""
    if settings.USE_THOUSAND_SEPARATOR or get_format("DECIMAL_SEPARATOR") != ".":
        return localize
    return lambda number: f"{number:f}" if isinstance(number, Decimal) else str(number)


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


# --- The site header and footer ------------------------------------------------------------------


def _variable(context, name: str):
    """`{{ name }}`'s value in `context`: "" when missing, called when callable (as the template
    engine does for the lazy values of shop.context_processors)."""
    found = context.get(name, "")
    return found() if callable(found) else found


@register.simple_tag(takes_context=True)
def site_header(context) -> str:
    """`{% site_header %}`: every storefront page's header (base.html), the one place that writes it.

    The shop's name linking home; the search form, holding the page's `query`; the account links
    (a guest's Log in / Sign up; a customer's account, orders and a Log out form with the CSRF
    token, and for staff the dashboard and the admin); the wishlist; the cart link whose badge
    (`cart_item_count`) the cart script updates; the top-level categories (`nav_categories`).
    Reads the context the processors give (shop.context_processors and the others in
    settings.TEMPLATES). Written in Python, as `{% product_cards %}` is: the template cost ~0.25 ms
    a page, a fifth of a category page's rendering. The output is byte for byte what that template
    wrote, every value escaped as it did."""
    url, user = FixedURLs(current_app(context)), context.get("user")
    query = _variable(context, "query")
    if user is not None and user.is_authenticated:
        staff = (f'<a href="{url["analytics:staff_dashboard"]}">Staff</a> <a href="{url["admin:index"]}">Admin</a>'
                 if user.is_staff else "")
        token = context.get("csrf_token")
        token = "" if not token or token == "NOTPROVIDED" else \
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{_escape(token)}">'
        account = (f'\n        <a href="{url["account"]}">My account</a>\n        <a href="{url["orders:order_list"]}">My orders'
                   f'</a>\n        {staff}\n        <form action="{url["logout"]}" method="post" class="inline">{token}'
                   '<button class="link" type="submit">Log out</button></form>\n      ')
    else:
        account = (f'\n        <a href="{url["login"]}">Log in</a>\n        <a href="{url["signup"]}">Sign up</a>'
                   "\n      ")
    categories = "".join(f'<a href="{_escape(category.get_absolute_url())}">{_escape(category.name)}</a>'
                         for category in _variable(context, "nav_categories") or ())
    return mark_safe(
        f'<header class="site-header">\n  <div class="container header-row">\n    <a class="brand" href="{url["home"]}">'
        f'{_escape(_variable(context, "SHOP_NAME"))}</a>\n    <form class="search" action="{url["catalog:search"]}" method="get" '
        'role="search">\n      <label class="visually-hidden" for="search-q">Search products</label>\n      <input '
        f'id="search-q" type="search" name="q" value="{_escape(query) if query else ""}" placeholder="Search products">'
        '\n      <button type="submit">Search</button>\n    </form>\n    <nav class="account-nav" aria-label="Account">'
        f'\n      {account}\n      <a href="{url["wishlist"]}">Wishlist</a>\n      <a class="cart-link" href="'
        f'{url["orders:cart"]}">Cart <span class="badge" data-cart-count>{_escape(_variable(context, "cart_item_count"))}</span></a>'
        '\n    </nav>\n  </div>\n  <nav class="container category-nav" aria-label="Categories">\n    '
        f"{categories}\n  </nav>\n</header>\n")


@register.simple_tag(takes_context=True)
def site_footer(context) -> str:
    """`{% site_footer %}`: every storefront page's footer (base.html): the shop's name, the
    currency its prices are in, and links to the cart and to search. Written in Python beside
    `{% site_header %}`; byte for byte what templates/includes/footer.html wrote."""
    url = FixedURLs(current_app(context))
    return mark_safe(
        f'<footer class="site-footer">\n  <div class="container">\n    <p>{_escape(_variable(context, "SHOP_NAME"))} &middot; '
        f'prices in {_escape(_variable(context, "SHOP_CURRENCY"))} &middot; <a href="{url["orders:cart"]}">Cart</a> &middot; '
        f'<a href="{url["catalog:search"]}">Search</a></p>\n  </div>\n</footer>\n')


# --- The listing's filter form ------------------------------------------------------------------


@register.simple_tag(name="filter_form")
def filter_form(product_filter, query: str = "") -> str:
    """`{% filter_form filter query %}`: a listing's filter form (a catalog.filters.ProductFilter)
    as HTML, the one place that writes it (category and search pages; `query`, the search words,
    goes along as a hidden q and is kept by the Clear filters link).

    Sort, the sizes and colours the listing offers (a fieldset each, none when it offers none),
    the price range and "in stock only", with the shopper's choices shown back (filter.shown): the
    sort selected, boxes checked, prices as typed; fields whose value was refused are
    aria-invalid and a line says so. Names and ids are the ones Django's widgets would give.
    Written in Python, as `{% product_cards %}` is: the template cost about 0.2 ms a page. The
    output is byte for byte what that template wrote, every value escaped as it did."""
    fields, shown = product_filter.form.fields, product_filter.shown
    invalid, sort = shown["invalid"], shown["sort"]
    hidden_q = f'<input type="hidden" name="q" value="{_escape(query)}">' if query else ""
    error = '<p class="error">Some filters were not valid and were ignored.</p>' if invalid else ""
    html = [f'<form class="filters" method="get" action="">\n  {hidden_q}\n  \n  {error}\n'
            '  <div class="field"><label for="id_sort">Sort by</label> <select name="sort" id="id_sort">']
    html += [f'\n    <option value="{_escape(value)}"{" selected" if value == sort else ""}>{_escape(label)}</option>'
             for value, label in fields["sort"].choices]
    html.append("\n  </select></div>\n  ")
    for name, legend in (("size", "Size"), ("colour", "Colour")):
        if choices := fields[name].choices:
            chosen = shown[name]
            html.append(f'<fieldset><legend>{legend}</legend><div id="id_{name}">')
            html += [f'\n    <div><label for="id_{name}_{i}"><input type="checkbox" name="{name}" '
                     f'value="{_escape(value)}" id="id_{name}_{i}"{" checked" if value in chosen else ""}> '
                     f"{_escape(label)}</label></div>" for i, (value, label) in enumerate(choices)]
            html.append("\n  </div></fieldset>")
        html.append("\n  ")
    html.append("<fieldset><legend>Price</legend>\n")
    for name, text in (("min_price", "From"), ("max_price", "to")):
        value = f' value="{_escape(shown[name])}"' if shown[name] else ""
        marked = ' aria-invalid="true"' if name in invalid else ""
        html.append(f'    <label>{text} <input type="number" name="{name}"{value} min="0" step="any" '
                    f'id="id_{name}"{marked}></label>\n')
    in_stock = " checked" if shown["in_stock"] else ""
    clear = f'<a href="?{f"q={_escape(urlencode(query))}" if query else ""}">Clear filters</a>' \
        if product_filter.active_filter_count else ""
    html.append(f'  </fieldset>\n  <div class="field"><input type="checkbox" name="in_stock" id="id_in_stock"{in_stock}>'
                f' <label for="id_in_stock">In stock only</label></div>\n  \n  <button type="submit">Apply</button>\n'
                f"  {clear}\n</form>\n")
    return mark_safe("".join(html))


@register.simple_tag(takes_context=True)
def pagination_links(context, page) -> str:
    """`{% pagination_links page %}`: a keyset listing's First / Previous / Next / Last links (no
    page numbers; catalog.pagination.KeysetPage `page`), each the current query string with the
    cursor parameters (after, before, last) changed by Django's own `{% querystring %}`. Nothing but
    the blank lines when the listing fits on one page. Written in Python, as `{% product_cards %}`
    is: the template this replaces cost more than the links."""
    def link(**changes) -> str:
        return _escape(querystring(context, **{"after": None, "before": None, "last": None, **changes}))

    if not page.has_other_pages:
        return mark_safe("\n\n")
    first = last = ""
    if not page.is_first:
        first = f'<a href="{link()}">&laquo; First</a>\n  '
        if page.previous_cursor:
            first += f'<a rel="prev" href="{link(before=page.previous_cursor)}">&larr; Previous</a>'
    if not page.is_last:
        if page.next_cursor:
            last = f'<a rel="next" href="{link(after=page.next_cursor)}">Next &rarr;</a>'
        last += f'\n  <a href="{link(last=1)}">Last &raquo;</a>'
    return mark_safe(f'\n\n<nav class="pagination" aria-label="Pages">\n  {first}\n  {last}\n</nav>\n\n')
