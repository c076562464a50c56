"""The site settings: one row (SiteSettings.load()) whose empty fields fall back to the
environment's settings. The storefront reads them through branding.selectors.site_branding."""
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
MIN_CONTRAST = 4.5  # WCAG AA for body text: both colours carry white text and are text on white

# Self-hosted typefaces (make install fetches them from npm into static/vendor/; shop.css declares
# their @font-face rules and a --font-<key> stack for each): key -> (label, the Latin file to
# preload, or "" for none).
FONTS = {
    "inter": ("Inter (sans-serif)", "vendor/inter/inter-latin-wght-normal.woff2"),
    "lora": ("Lora (serif)", "vendor/lora/lora-latin-wght-normal.woff2"),
    "system": ("The device's own (no download)", ""),
}
DEFAULT_FONT = "inter"


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a "#rrggbb" colour, 0 (black) to 1 (white)."""
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_on_white(colour: str) -> float:
    """The contrast ratio of a "#rrggbb" colour against white (1 to 21)."""
    return 1.05 / (relative_luminance(colour) + 0.05)


def validate_theme_colour(value: str) -> None:
    """A "#rrggbb" colour readable on white and under white text (contrast >= 4.5:1).
    Raises ValidationError saying which."""
    if not HEX_COLOUR.match(value):
        raise ValidationError("Enter a colour as #rrggbb, for example #1f4e79.", code="format")
    ratio = contrast_on_white(value)
    if ratio < MIN_CONTRAST:
        raise ValidationError(
            f"This colour is too light: white text on it has a contrast of {ratio:.1f}:1, and at least "
            f"{MIN_CONTRAST}:1 is needed to be readable. Choose a darker colour.", code="contrast")


def validate_logo_size(file) -> None:
    """A logo no larger than SHOP_IMAGE_MAX_BYTES. Raises ValidationError."""
    if file.size > settings.SHOP_IMAGE_MAX_BYTES:
        raise ValidationError(f"The logo is too large: at most {settings.SHOP_IMAGE_MAX_BYTES // (1024 * 1024)} MB.")


class SiteSettings(models.Model):
    """The shop's branding as staff set it. One row (pk 1); an empty field means "the environment's
    setting" (shown as the field's help text)."""

    SINGLETON_PK = 1

    shop_name = models.CharField(max_length=80, blank=True,
                                 help_text="Shown in the header, page titles and emails. Empty: the SHOP_NAME setting.")
    logo = models.ImageField(upload_to="branding/", blank=True, validators=[validate_logo_size],
                             help_text="PNG, JPEG or WebP, shown 36 px high in the header. "
                                       "Empty: the SHOP_LOGO_URL setting, or the name as a wordmark.")
    brand_colour = models.CharField(max_length=7, blank=True, validators=[validate_theme_colour],
                                    help_text="#rrggbb: links, buttons, the header. Empty: the SHOP_BRAND_COLOUR setting.")
    accent_colour = models.CharField(max_length=7, blank=True, validators=[validate_theme_colour],
                                     help_text="#rrggbb: sale prices, badges, calls to action. "
                                               "Empty: the SHOP_ACCENT_COLOUR setting.")
    font = models.CharField(max_length=20, choices=[(key, label) for key, (label, _) in FONTS.items()],
                            default=DEFAULT_FONT, help_text="The storefront's typeface, served by the shop itself.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "Site settings"
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="site_settings_single_row")]

    def __str__(self) -> str:
        return "Site settings"

    def save(self, *args, **kwargs):
        self.pk = self.SINGLETON_PK  # there is only one
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> "SiteSettings":
        """The row, created with every field empty (the environment's settings) if there is none."""
        settings_row, _ = cls.objects.get_or_create(pk=cls.SINGLETON_PK)
        return settings_row
