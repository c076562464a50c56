"""Keyset ("seek") pagination for product listings: the cost of a page does not grow with the
number of products before it or in the whole listing.

`OFFSET n` makes the database produce and throw away n rows, and `COUNT(*)` reads every
matching row; both grow with the catalogue. A keyset page instead asks for the rows *after* the
last one shown, in the listing's order, which an index on the sort columns answers directly
(Markus Winand, "Paging Through Results", use-the-index-luke.com/no-offset). The shopper gets
First / Previous / Next / Last links; "Last" reads the order backwards, so the deepest page is one
link away and as cheap as the first. The result count is capped (COUNT over at most
COUNT_CAP + 1 rows): "1,000+ products".

A cursor is the sort-key values of the row at a page boundary, as URL-safe base64 JSON. A cursor
that does not decode (edited by hand, or from another sort) is ignored: the first page is shown.
"""
import base64
import binascii
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
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
    followed: list = field(default_factory=list, repr=False)  # keyset_page(follow=...): its rows

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


def seek_params(keys: list[Key], values: list[Any], reverse: bool = False) -> list[Any]:
    """The query parameters seek(queryset, keys, values, reverse) adds, in the order the SQL takes
    them (the first column's bound, then each OR branch's equalities and bound); NULLs add none."""
    params = [values[0]] if values[0] is not None and not keys[0].nullable else []
    prefix: list[Any] = []
    for value in values:
        if value is not None:
            params += [*prefix, value]
            prefix.append(value)
        elif reverse:  # the branch "equal so far, then IS NOT NULL" (no parameter of its own)
            params += prefix
    return params


@dataclass(frozen=True)
class Follow:
    """A query about a keyset page's rows, run in the same statement as the page, so that a
    listing reads its page and what its cards show in one round trip.

    `sql` is a SELECT, or a UNION ALL of SELECTs, of `width` columns and without ORDER BY, that
    reads the page as the table `page`: its columns are named after keyset_page's keys and
    `fields` (e.g. `... WHERE product_id IN (SELECT pk FROM page)`). `params` are its parameters;
    `order` the 1-based numbers of its columns its rows are sorted by."""

    sql: str
    params: tuple
    width: int
    order: tuple[int, ...]


@lru_cache(maxsize=512)
def _with_follow(sql: str, follow: Follow, columns: tuple[str, ...], keys: tuple[Key, ...], reverse: bool,
                 using: str) -> str:
    """The page query `sql` (whose result `columns` are named, the keys' first) and `follow` as one
    statement. Its rows: the page's, as (position on the page, *page columns, NULL * follow.width),
    numbered in the page's order (Key.order over the named columns); then the follow's, as
    (NULL, NULL * len(columns), *follow columns), sorted by follow.order."""
    quote = connections[using].ops.quote_name
    ordering = []
    for key in keys:
        where_nulls = (" NULLS FIRST" if reverse else " NULLS LAST") if key.nullable else ""
        ordering.append(f"{quote(key.name)} {'DESC' if key.desc != reverse else 'ASC'}{where_nulls}")
    names = ", ".join(quote(column) for column in columns)
    follow_nulls = ", ".join(["NULL"] * follow.width)
    page_nulls = ", ".join(["NULL"] * (len(columns) + 1))
    order = ", ".join(["1", *(str(len(columns) + 1 + position) for position in follow.order)])
    return (f"WITH page({names}) AS ({sql}) SELECT ROW_NUMBER() OVER (ORDER BY {', '.join(ordering)}), page.*,"
            f" {follow_nulls} FROM page UNION ALL SELECT {page_nulls}, followed.* FROM ({follow.sql}) followed"
            f" ORDER BY {order}")


COMPILED_LIMIT = 512  # page queries remembered per process (catalog.pagination._compiled)
_compiled: OrderedDict = OrderedDict()  # key -> (sql, params before the cursor's, their types, converters)
_compiled_lock = threading.Lock()


def _page_rows(selected: Callable[[], QuerySet], using: str, key: Hashable | None,
               cursor_params: list[Any], *, follow: Follow | None = None, columns: tuple[str, ...] = (),
               keys: tuple[Key, ...] = (), reverse: bool = False) -> tuple[list[tuple], list[tuple]]:
    """The rows of the query `selected()` builds (a values_list slice of `columns`, in the order of
    `keys`, read backwards when `reverse`), and the rows of `follow`, run in the same statement
    (_with_follow); no follow rows without one.

    With a `key`, the SQL is compiled once per process for every query of that key and only run
    afterwards: building and compiling it through the ORM cost several times what PostgreSQL
    takes to run it. The key must name everything the SQL depends on except the cursor's values,
    which are the query's last parameters (`cursor_params`, as seek_params gives them). That is
    checked when the SQL is compiled: a query whose parameters do not end with them is run
    without being remembered. The result's converters (e.g. SQLite's decimals) are applied as
    the ORM would."""
    connection = connections[using]
    entry = _compiled.get(key) if key is not None else None
    if entry is None:
        compiler = selected().query.get_compiler(using=using)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return [], []
        params = list(params)
        converters = compiler.get_converters([column for column, _, _ in compiler.select])
        cut = len(params) - len(cursor_params)
        tail = params[cut:] if cut >= 0 else []
        if key is not None and tail == cursor_params and all(
                isinstance(param, type(value)) for param, value in zip(tail, cursor_params)):
            # The database's own types of the cursor's values (e.g. psycopg's Int4 for an int).
            types = [None if type(param) is type(value) else type(param) for param, value in zip(tail, cursor_params)]
            with _compiled_lock:
                _compiled[key] = (sql, params[:cut], types, converters)
                while len(_compiled) > COMPILED_LIMIT:
                    _compiled.popitem(last=False)
    else:
        sql, prefix, types, converters = entry
        params = [*prefix, *(value if cast is None else cast(value) for cast, value in zip(types, cursor_params))]
    if follow is not None:
        sql = _with_follow(sql, follow, columns, keys, reverse, using)
        params = [*params, *follow.params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    followed = []
    if follow is not None:
        end = 1 + len(columns)
        followed = [row[end:] for row in rows if row[0] is None]
        rows = [row[1:end] for row in rows if row[0] is not None]
    if converters:
        rows = [list(row) for row in rows]
        for row in rows:
            for position, (functions, expression) in converters.items():
                for function in functions:
                    row[position] = function(row[position], expression, connection)
        rows = [tuple(row) for row in rows]
    return rows, followed


def keyset_page(queryset: QuerySet, keys: list[Key], *, size: int, after: str = "", before: str = "",
                last: bool = False, fields: Sequence[str] = (),
                count: Callable[[QuerySet], int] = capped_count,
                shape: Hashable | None = None, follow: Follow | None = None) -> tuple[list[int], KeysetPage]:
    """Pick one page of `queryset` in the order `keys` (whose last key must be unique, e.g. pk).

    Returns the page's primary keys in display order (the caller loads what it shows for just
    these) and a KeysetPage whose `items` is that list of primary keys until replaced. `fields`
    (plain columns of the rows, e.g. "name") are read in the same query and given in
    `page.rows`: {primary key: {field or key name: value}}. Queries: one for the keys of the page
    (size + 1 rows) and one capped count (`count(queryset)`: capped_count, or a cached one).

    `shape` (optional, hashable) names everything `queryset`'s SQL depends on, e.g. the category
    and the cleaned filters: the page's query is then compiled once per process for that shape,
    direction and cursor pattern, and only run afterwards (_page_rows).

    `follow` (optional, a Follow) is run in the same statement as the page, over its rows: its rows
    are `page.followed`, in its order (one round trip instead of two)."""
    if queryset.query.is_empty():  # .none(): nothing to seek in (and maybe not the sort's annotations)
        return [], KeysetPage(items=[], count=0)
    after_values = decode_cursor(after, keys) if after else None
    before_values = decode_cursor(before, keys) if before and after_values is None else None
    reverse = bool(before_values) or (last and after_values is None)
    cursor = after_values if after_values is not None else before_values
    names = [key.name for key in keys]
    extra = [name for name in fields if name not in names]

    def selected() -> QuerySet:
        ordered = queryset.order_by(*[key.order(reverse) for key in keys])
        if cursor is not None:
            ordered = seek(ordered, keys, cursor, reverse=reverse)
        return ordered.values_list(*names, *extra)[: size + 1]

    key = None if shape is None else (
        queryset.db, shape, tuple(keys), tuple(names + extra), size, reverse,
        None if cursor is None else tuple(value is None for value in cursor))
    columns = (*names, *extra)
    rows, followed = _page_rows(selected, queryset.db, key, [] if cursor is None else seek_params(keys, cursor, reverse),
                                follow=follow, columns=columns, keys=tuple(keys), reverse=reverse)
    more = len(rows) > size
    rows = rows[:size]
    if reverse:
        rows.reverse()
    found = {row[len(keys) - 1]: dict(zip(columns, row)) for row in rows} if fields else {}
    rows = [row[: len(keys)] for row in rows] if extra else rows
    total = count(queryset)
    page = KeysetPage(items=[row[-1] for row in rows], count=min(total, COUNT_CAP), count_capped=total > COUNT_CAP,
                      rows=found, followed=followed)
    if reverse:
        page.is_first, page.is_last = not more, before_values is None
    else:
        page.is_first, page.is_last = after_values is None, not more
    if rows:
        page.next_cursor = None if page.is_last else encode_cursor(list(rows[-1]))
        page.previous_cursor = None if page.is_first else encode_cursor(list(rows[0]))
    return page.items, page
