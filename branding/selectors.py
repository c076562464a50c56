"""The storefront's one reading of the branding (`site_branding`), cached on the shop's version
scheme (shop/cache.py): the site settings row is kept in the shared cache under the version key
`branding_version_key()` and read with it in one round trip, so a page costs one cache read and no
query while nobody edits the settings. Saving or deleting the settings (admin) bumps that version
and the catalogue's, which every cached category and product page and card grid is stored under
(catalog.versions), so the next page shows the change."""
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.templatetags.static import static

from shop.cache import bump, current_versions, get_many, namespace

from .models import DEFAULT_FONT, FONTS, SiteSettings

logger = logging.getLogger(__name__)

MAX_AGE = 24 * 3600  # seconds a stored row is kept at most, whatever the versions say


@dataclass(frozen=True)
class Branding:
    """What the storefront shows of the shop's identity: `shop_name`, `logo_url` ("" for the name
    as a wordmark), `brand_colour` and `accent_colour` (CSS colours), `font` (a models.FONTS key:
    base.html sets --font to shop.css's --font-<key>) and `font_file` (the static URL of the file
    to preload, or "")."""

    shop_name: str
    logo_url: str
    brand_colour: str
    accent_colour: str
    font: str
    font_file: str


def branding_version_key() -> str:
    """The version key of the stored site settings."""
    return f"{namespace()}:v:branding"


def _entry_key() -> str:
    return f"{namespace()}:branding"


def _stored_fields() -> dict:
    """The site settings row as plain values ({} when there is none): what the cache keeps."""
    row = SiteSettings.objects.filter(pk=SiteSettings.SINGLETON_PK).first()
    if row is None:
        return {}
    return {"shop_name": row.shop_name, "logo_url": row.logo.url if row.logo else "",
            "brand_colour": row.brand_colour, "accent_colour": row.accent_colour, "font": row.font}


def _branding(fields: dict) -> Branding:
    """The stored fields over the environment's settings (an empty field means the setting)."""
    font = fields.get("font") if fields.get("font") in FONTS else DEFAULT_FONT
    _, file = FONTS[font]
    return Branding(
        shop_name=fields.get("shop_name") or settings.SHOP_NAME,
        logo_url=fields.get("logo_url") or settings.SHOP_LOGO_URL,
        brand_colour=fields.get("brand_colour") or settings.SHOP_BRAND_COLOUR,
        accent_colour=fields.get("accent_colour") or settings.SHOP_ACCENT_COLOUR,
        font=font, font_file=static(file) if file else "")


def branding_keys() -> list[str]:
    """The cache keys a branding reading needs (its version and the stored row): a page that
    makes other cache reads asks for these with them and passes what was found to site_branding,
    to spare a round trip."""
    return [branding_version_key(), _entry_key()]


def stored_branding(found: dict | None = None) -> Branding:
    """The current branding: one cache round trip (none when `found`, a page's cache read, holds
    branding_keys()), and one query when the cached row is missing or older than the last save
    (then stored). With the cache down, one query every call."""
    key, entry_key = branding_keys()
    if found is None or key not in found:
        found = get_many([key, entry_key])
    versions = current_versions([key], found)
    entry = found.get(entry_key)
    if versions is not None and entry is not None and entry["versions"] == versions:
        return _branding(entry["fields"])
    fields = _stored_fields()
    if versions is not None:
        try:
            cache.set(entry_key, {"versions": versions, "fields": fields}, timeout=MAX_AGE)
        except Exception:  # noqa: BLE001 - served all the same; the next page reads the row again
            logger.exception("Could not cache the site settings")
    return _branding(fields)


def site_branding(request=None, found: dict | None = None) -> Branding:
    """stored_branding(found), read once per request when given one (the header, the page's title
    and the theme's colours all use it)."""
    if request is None:
        return stored_branding(found)
    branding = getattr(request, "shop_branding", None)
    if branding is None:
        branding = request.shop_branding = stored_branding(found)
    return branding


def invalidate_branding(**kwargs) -> None:
    """Signal receiver (post_save, post_delete of SiteSettings): bump the branding's version and
    the catalogue's (the cached pages and grids) now, so the next page shows the change, and again
    after commit, so a page that read the old row meanwhile is not kept."""
    from catalog.versions import catalog_version_key

    keys = [branding_version_key(), catalog_version_key()]
    bump(keys)
    transaction.on_commit(lambda: bump(keys), robust=True)
