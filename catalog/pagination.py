"""Keyset ("seek") pagination for product listings: the cost of a page does not grow with the
number of products before it or in the whole listing.

`OFFSET n` makes the database produce and throw away n rows, and `COUNT(*)` reads every
matching row; both grow with the catalogue. A keyset page instead asks for the rows *after* the
last one shown, in the listing's order, which an index on the sort columns answers directly
(Markus Winand, "Paging Through Results", use-the-index-luke.com/no-offset). The shopper gets
Previous / Next links and a "Last" (?last=1) that reads the order backwards, so the deepest page
is one link away and as cheap as the first. The result count is capped (COUNT over at most
COUNT_CAP + 1 rows): "1,000+ products".

Numbered pages ("1 2 3 ... 9") sit beside Previous and Next, and replace First and Last while
the count is exact. A numbered link (?page=3) is the one place an offset is used: the page count
comes from the capped count, so an offset never passes COUNT_CAP rows, about 40 pages of cards,
which an index scan answers in the same single query. Previous and Next stay keyset links and
carry the number of the page they lead to (?after=...&page=4), so the page knows where it is
without counting. The last numbered page holds the remainder; "Last" (?last=1, shown past the
cap, where the page count is unknown) a full page.

A cursor is the sort-key values of the row at a page boundary, as URL-safe base64 JSON. A cursor
that does not decode (edited by hand, or from another sort) is ignored: the first page is shown.
"""
import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import F, Q, QuerySet

from shop.security import loads_json

COUNT_CAP = 1000  # listings with more products say "1,000+ products"


@dataclass(frozen=True)
class Key:
    """One column of a listing's order: the attribute or annotation `name`, its Python type (to
    decode cursors), direction, and where NULLs go (only `nulls_last` descending is used)."""

    name: str
    type: type = str
    desc: bool = False
    nullable: bool = False

    def order(self, reverse: bool = False):
        """The ORDER BY term, forwards or backwards (NULLs last forwards, so first backwards)."""
        desc = self.desc != reverse
        expression = F(self.name)
        if self.nullable:
            nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
            return expression.desc(**nulls) if desc else expression.asc(**nulls)
        return expression.desc() if desc else expression.asc()


@dataclass
class KeysetPage:
    """One page of a listing: `items` in display order, cursors for the links, and a capped count.

    `next_cursor`/`previous_cursor` are None when there is nothing in that direction. `is_first`
    and `is_last` say whether First/Last links are worth showing.
    """

    items: list
    count: int
    next_cursor: str | None = None
    previous_cursor: str | None = None
    is_first: bool = True
    is_last: bool = True
    count_capped: bool = field(default=False)
    rows: dict = field(default_factory=dict, repr=False)  # keyset_page(fields=...): {pk: {name: value}}
    number: int | None = 1  # this page's number, 1-based (None: not known, e.g. the last of a capped listing)
    page_count: int = 1  # pages in the (capped) count; more follow it when count_capped

    @property
    def next_number(self) -> int | None:
        return None if self.number is None else self.number + 1

    @property
    def previous_number(self) -> int | None:
        return None if self.number is None or self.number < 2 else self.number - 1

    @property
    def numbers(self) -> list[int | None]:
        """The page numbers to link, None where a gap ("...") goes: the first, the last (when
        the count is exact), and two either side of this page. [] with a single page."""
        if self.page_count < 2 and self.is_last:
            return []
        shown = {1, self.page_count}
        if self.number is not None:
            shown |= set(range(max(1, self.number - 2), min(self.page_count, self.number + 2) + 1))
        numbers: list[int | None] = []
        for number in sorted(shown):
            if numbers and number - numbers[-1] > 1:
                numbers.append(None)
            numbers.append(number)
        if self.count_capped:
            numbers.append(None)  # more pages than counted, reached by Next and Last
        return numbers

    @property
    def has_other_pages(self) -> bool:
        return not (self.is_first and self.is_last)

    @property
    def count_label(self) -> str:
        """ "1 product", "24 products", "1,000+ products"."""
        if self.count_capped:
            return f"{COUNT_CAP:,}+ products"
        return f"{self.count} product{'' if self.count == 1 else 's'}"


def encode_cursor(values: list[Any]) -> str:
    """Sort-key values -> URL-safe text. Decimals and datetimes travel as strings."""
    plain = [str(v) if isinstance(v, Decimal) else v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(text: str, keys: list[Key]) -> list[Any] | None:
    """URL text -> sort-key values typed per `keys`, or None when it is not a cursor for them."""
    try:
        raw = loads_json(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))  # no deep nesting, no NUL
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(raw, list) or len(raw) != len(keys):
        return None
    values = []
    try:
        for key, value in zip(keys, raw):
            if value is None:
                if not key.nullable:
                    return None
                values.append(None)
            elif key.type is Decimal:
                values.append(Decimal(str(value)))
            elif key.type is datetime:
                values.append(datetime.fromisoformat(value))
            elif key.type is float:
                values.append(float(value))
            elif key.type is int:
                if isinstance(value, bool) or not isinstance(value, int):
                    return None
                values.append(value)
            else:
                if not isinstance(value, str):
                    return None
                values.append(value)
    except (InvalidOperation, ValueError, TypeError):
        return None
    return values


def _beyond(key: Key, value: Any, reverse: bool) -> Q | None:
    """Rows strictly beyond `value` in the (possibly reversed) order of this one column, or None
    when nothing can be beyond it."""
    desc = key.desc != reverse
    if key.nullable:
        # Forward order: values (in key direction), then NULLs. Reversed: NULLs, then values.
        if value is None:
            return None if not reverse else Q(**{f"{key.name}__isnull": False})
        strictly = Q(**{f"{key.name}__{'lt' if desc else 'gt'}": value})
        return strictly if reverse else strictly | Q(**{f"{key.name}__isnull": True})
    return Q(**{f"{key.name}__{'lt' if desc else 'gt'}": value})


def _equal(key: Key, value: Any) -> Q:
    return Q(**{f"{key.name}__isnull": True}) if value is None else Q(**{key.name: value})


def seek(queryset: QuerySet, keys: list[Key], values: list[Any], reverse: bool = False) -> QuerySet:
    """Rows after `values` in the order `keys` (before them when `reverse`), as
    (k1 > v1) OR (k1 = v1 AND k2 > v2) OR ..., plus a plain bound on the first column so that
    an index on it starts the scan at the cursor instead of at the beginning."""
    condition = Q(pk__in=[])
    prefix = Q()
    for key, value in zip(keys, values):
        beyond = _beyond(key, value, reverse)
        if beyond is not None:
            condition |= prefix & beyond
        prefix &= _equal(key, value)
    first, value = keys[0], values[0]
    if value is not None and not first.nullable:
        desc = first.desc != reverse
        queryset = queryset.filter(**{f"{first.name}__{'lte' if desc else 'gte'}": value})
    return queryset.filter(condition)


def key_values(item: Any, keys: list[Key]) -> list[Any]:
    return [getattr(item, key.name) for key in keys]


def capped_count(queryset: QuerySet) -> int:
    """The number of rows of `queryset`, counting at most COUNT_CAP + 1 (one query)."""
    return queryset.order_by().values("pk")[: COUNT_CAP + 1].count()


def page_number(text: str) -> int:
    """ "?page=" as a page number: 1 for anything but a positive whole number."""
    return int(text) if text.isdigit() and 0 < len(text) < 6 and int(text) > 0 else 1


def keyset_page(queryset: QuerySet, keys: list[Key], *, size: int, after: str = "", before: str = "",
                last: bool = False, number: int | None = None, fields: Sequence[str] = (),
                count: Callable[[QuerySet], int] = capped_count) -> tuple[list[int], KeysetPage]:
    """Pick one page of `queryset` in the order `keys` (whose last key must be unique, e.g. pk).

    Returns the page's primary keys in display order (the caller loads what it shows for just
    these) and a KeysetPage whose `items` is that list of primary keys until replaced. `fields`
    (plain columns of the rows, e.g. "name") are read in the same query and given in
    `page.rows`: {primary key: {field or key name: value}}. Queries: one for the keys of the page
    (size + 1 rows, through the ORM) and one capped count (`count(queryset)`: capped_count, or a
    cached one). `number`: the page's number (None: not known); without a cursor or `last`, a
    number above 1 picks that page by offset (at most the last counted page), and with a cursor it
    is only shown."""
    if queryset.query.is_empty():  # .none(): nothing to seek in (and maybe not the sort's annotations)
        return [], KeysetPage(items=[], count=0)
    after_values = decode_cursor(after, keys) if after else None
    before_values = decode_cursor(before, keys) if before and after_values is None else None
    cursor = after_values if after_values is not None else before_values
    names = [key.name for key in keys]
    columns = (*names, *(name for name in fields if name not in names))
    total = count(queryset)
    page_count = max(1, -(-min(total, COUNT_CAP) // size))
    reverse = bool(before_values) or (last and after_values is None)
    offset = 0
    if cursor is None and not reverse:
        number = min(number or 1, page_count)
        offset = (number - 1) * size
    elif cursor is None:  # ?last=1: the last full page, read backwards; numbered when it is aligned
        number = page_count if total <= COUNT_CAP and total % size == 0 else None
    ordered = queryset.order_by(*[key.order(reverse) for key in keys])
    if cursor is not None:
        ordered = seek(ordered, keys, cursor, reverse=reverse)
    rows = list(ordered.values_list(*columns)[offset: offset + size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if reverse:
        rows.reverse()
    found = {row[len(keys) - 1]: dict(zip(columns, row)) for row in rows} if fields else {}
    rows = [row[: len(keys)] for row in rows]
    page = KeysetPage(items=[row[-1] for row in rows], count=min(total, COUNT_CAP), count_capped=total > COUNT_CAP,
                      rows=found, number=number, page_count=page_count)
    if reverse:
        page.is_first, page.is_last = not more, before_values is None
    else:
        page.is_first, page.is_last = after_values is None and offset == 0, not more
    if rows:
        page.next_cursor = None if page.is_last else encode_cursor(list(rows[-1]))
        page.previous_cursor = None if page.is_first else encode_cursor(list(rows[0]))
    return page.items, page
