"""A judged query set over the real Luma catalogue, for catalog/tests/test_search_quality.py.

Judgements are read from products.csv by rules written for each query (not by the search code):
grade 3 for a product that is what the shopper asked for (the name says it, or the exact SKU),
2 for a close one (a SKU the typed one begins, a product of the asked kind in the asked colour
but named otherwise), 1 for one a shopper would accept (it is in the matching category).
"""
import csv
import html
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass
class LumaProduct:
    """A product (parent row) of products.csv: decoded name, leaf categories, variant colours."""

    sku: str
    name: str
    categories: set[str]
    colours: set[str]


def read_products(luma_dir: Path) -> list[LumaProduct]:
    """The 191 products a shopper can find (rows visible on their own)."""
    with open(luma_dir / "products.csv", newline="", encoding="utf-8") as source:
        rows = list(csv.DictReader(source))
    colour_of = {row["sku"]: m.group(1) for row in rows if (m := re.search(r"color=([^,|]+)", row["additional_attributes"]))}
    products = []
    for row in rows:
        if row["visibility"] == "Not Visible Individually":
            continue
        children = re.findall(r"sku=([^,|]+)", row["configurable_variations"]) or [row["sku"]]
        products.append(LumaProduct(
            sku=row["sku"], name=html.unescape(row["name"]),
            categories={path.rsplit("/", 1)[-1] for path in row["categories"].split(",")},
            colours={colour_of[child] for child in children if child in colour_of}))
    return products


def named(pattern: str):
    """The product's name matches `pattern` (a regular expression, any case, at a word start)."""
    return lambda p: re.search(rf"\b{pattern}", p.name, re.IGNORECASE) is not None


def in_category(name: str):
    return lambda p: name in p.categories


def coloured(colour: str):
    return lambda p: colour in p.colours


def sku_prefix(prefix: str):
    return lambda p: p.sku.lower().startswith(prefix.lower())


def both(*rules):
    return lambda p: all(rule(p) for rule in rules)


def judge(products: list[LumaProduct], grades: dict[int, object]) -> dict[str, int]:
    """{sku: grade} for the products a rule of `grades` ({grade: rule}) accepts; the highest wins."""
    judged = {}
    for grade, rule in sorted(grades.items()):
        judged.update({p.sku: grade for p in products if rule(p)})
    return judged


# query -> {grade: rule}. Kinds: typo, plural, SKU, colour, multi-word (and brand words).
QUERIES = {
    # typos
    "jakcet": {3: named("jacket"), 1: in_category("Jackets")},
    "hoddie": {3: named("hood"), 1: in_category("Hoodies & Sweatshirts")},
    "sweatshrit": {3: named("sweatshirt"), 1: in_category("Hoodies & Sweatshirts")},
    "backpak": {3: named("backpack")},
    "wach": {3: named("watch")},
    "leggins": {3: named("leggings")},
    "yoga pnat": {3: both(named("yoga"), named("pant")), 1: named("pant")},
    "kangaroo hoddie": {3: named("kangeroo hoodie")},
    "messanger bag": {3: named("messenger"), 1: named("bag")},
    "capri pnats": {3: named("capri"), 1: in_category("Pants")},
    "tshirt": {3: named("tee"), 1: in_category("Tees")},
    "shrots": {3: named("short"), 1: in_category("Shorts")},
    # plurals
    "jackets": {3: named("jacket"), 1: in_category("Jackets")},
    "hoodies": {3: named("hood"), 1: in_category("Hoodies & Sweatshirts")},
    "pants": {3: named("pant"), 1: in_category("Pants")},
    "shorts": {3: named("short"), 1: in_category("Shorts")},
    "tees": {3: named("tee"), 1: in_category("Tees")},
    "bags": {3: named("bag"), 1: in_category("Bags")},
    "watches": {3: named("watch")},
    "tanks": {3: named("tank"), 1: in_category("Tanks")},
    "capris": {3: named("capri")},
    "bras": {3: named("bra"), 1: in_category("Bras & Tanks")},
    # SKUs, whole and partial
    "MH01": {3: sku_prefix("MH01")},
    "mj1": {3: sku_prefix("MJ1")},
    "24-MB01": {3: sku_prefix("24-MB01")},
    "24-WG08": {3: sku_prefix("24-WG08")},
    "MSH0": {3: sku_prefix("MSH0")},
    "WS1": {3: sku_prefix("WS1")},
    # colours
    "black hoodie": {3: both(named("hood"), coloured("Black")), 1: both(in_category("Hoodies & Sweatshirts"), coloured("Black"))},
    "red tee": {3: both(named("tee"), coloured("Red")), 1: both(in_category("Tees"), coloured("Red"))},
    "blue shorts": {3: both(named("short"), coloured("Blue")), 1: both(in_category("Shorts"), coloured("Blue"))},
    "green jacket": {3: both(named("jacket"), coloured("Green")), 1: both(in_category("Jackets"), coloured("Green"))},
    "purple tank": {3: both(named("tank"), coloured("Purple")), 1: both(in_category("Tanks"), coloured("Purple"))},
    "orange bra": {3: both(named("bra"), coloured("Orange"))},
    # multi-word
    "yoga pant": {3: both(named("yoga"), named("pant")), 1: named("pant")},
    "running short": {3: both(named("running"), named("short")), 1: named("short")},
    "messenger bag": {3: named("messenger"), 1: named("bag")},
    "gym tank": {3: both(named("gym"), named("tank")), 1: named("tank")},
    "sports bra": {3: both(named("sports?"), named("bra")), 1: named("bra")},
    "full zip jacket": {3: both(named("full[- ]zip"), named("jacket")), 1: named("jacket")},
    "foam roller": {3: named("foam roller"), 1: named("foam")},
    "water bottle": {3: named("water bottle")},
    "analog watch": {3: named("analog"), 1: named("watch")},
    "stasis ball 65": {3: named("stasis ball 65"), 1: named("stasis ball")},
    "yoga strap": {3: named("yoga strap")},
    "compression short": {3: named("compression short"), 1: named("short")},
    "v-neck tee": {3: both(named("v-neck"), named("tee")), 1: named("tee")},
    "duffle": {3: named("duffle")},
    # brand words (entities decoded at import)
    "lumatech": {3: named("lumatech")},
    "heattec": {3: named("heattec")},
    "evercool tee": {3: both(named("evercool"), named("tee")), 1: named("evercool")},
}
