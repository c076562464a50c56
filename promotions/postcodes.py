"""Postcode rules of shipping zones: a prefix ("BT", "HS") or a range of outward codes ("BT1-BT99")
or of numbers ("10000-19999"). One rule each: `matches` for checkout, `rule_error` for the admin
and the API (a rule either parses or is refused with the reason).

Postcodes are compared without spaces, in capitals. A range compares the digits that follow the
range's letters at the start of the postcode's first part ("BT12 5AB" -> outward code "BT12" ->
12, also written "BT125AB"; "12345-6789" -> 12345), so "BT1-BT99" holds BT1 5AB and BT99 1AA but not BT100 or AB12.
"""
import re

RANGE = re.compile(r"^([A-Z]*)(\d+)-([A-Z]*)(\d+)$")
PREFIX = re.compile(r"^[A-Z0-9]+$")
LEADING = re.compile(r"^([A-Z]*)(\d+)")
UK_WITHOUT_SPACE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}$")  # "BT125AB": inward code "5AB" last


def _compact(text: str) -> str:
    return text.replace(" ", "").upper()


def rule_error(rule: str) -> str:
    """Why `rule` is not a postcode rule ("" when it is): a prefix of letters and digits, or a
    range "BT1-BT99" / "10000-19999" with the same letters on both ends and low <= high."""
    compact = _compact(str(rule))
    if PREFIX.match(compact):
        return ""
    found = RANGE.match(compact)
    if found is None:
        return f"{rule!r} is neither a postcode prefix (BT) nor a range (BT1-BT99, 10000-19999)."
    letters, low, other_letters, high = found.groups()
    if letters != other_letters:
        return f"{rule!r}: both ends of a range start with the same letters."
    if int(low) > int(high):
        return f"{rule!r}: the range's start is above its end."
    return ""


def matches(rule: str, postcode: str) -> bool:
    """Whether `postcode` falls under `rule` (a prefix or a range; an invalid rule matches nothing)."""
    compact = _compact(rule)
    found = RANGE.match(compact)
    if found is None:
        return bool(compact) and _compact(postcode).startswith(compact)
    letters, low, _, high = found.groups()
    outward = postcode.strip().upper().split(" ")[0].split("-")[0]
    if UK_WITHOUT_SPACE.match(outward):
        outward = outward[:-3]
    leading = LEADING.match(outward)
    if leading is None or leading.group(1) != letters:
        return False
    return int(low) <= int(leading.group(2)) <= int(high)
