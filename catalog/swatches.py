"""The product page's option buttons: each size and colour on offer, whether any variant with it
can be bought now, and for colours the swatch drawn beside the name. Worked out from the variant
picker's already-loaded variants (catalog.selectors.VariantPicker), with no query."""
from dataclasses import dataclass

# Swatch colours of the catalogue's colour names (CSS colours). A name not listed gets no swatch,
# only its name; the name is always shown, so a swatch never has to carry the meaning alone.
SWATCHES = {
    "beige": "#d9c8a9", "black": "#1b1b1b", "blue": "#1f5fbf", "brown": "#6b4226", "gold": "#c9a227",
    "gray": "#8a8f96", "grey": "#8a8f96", "green": "#2e7d32", "lavender": "#b7a6e0", "navy": "#1b2a4a",
    "orange": "#ef6c00", "pink": "#e58fb3", "purple": "#6a3d9a", "red": "#c62828", "silver": "#c0c4c8",
    "white": "#ffffff", "yellow": "#f2c500",
}


@dataclass(frozen=True)
class OptionChoice:
    """One size or colour button: `value` (what the form posts), `in_stock` (some active variant
    with it has stock: otherwise the button is shown disabled) and `swatch` (a CSS colour, or "")."""

    value: str
    in_stock: bool
    swatch: str = ""


def option_choices(picker) -> dict[str, list[OptionChoice]]:
    """{"sizes": [...], "colours": [...]} for a VariantPicker, in its order (sizes XS..XL first,
    then numbers and measures, as the picker sorts them)."""
    stocked_sizes = {v.size for v in picker.variants if v.in_stock}
    stocked_colours = {v.colour for v in picker.variants if v.in_stock}
    return {
        "sizes": [OptionChoice(size, size in stocked_sizes) for size in picker.sizes],
        "colours": [OptionChoice(colour, colour in stocked_colours, SWATCHES.get(colour.strip().lower(), ""))
                    for colour in picker.colours],
    }
