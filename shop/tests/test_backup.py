"""The backup round trip on the real PostgreSQL: `manage.py backup` dumps the test database,
`manage.py restore` puts it into a scratch database, and the two hold the same rows: the same
count in every table and the same orders and order lines, byte for byte (an md5 over them)."""
import uuid
from decimal import Decimal

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from catalog.tests.factories import VariantFactory
from orders import services as order_services
from orders.tests.factories import cart_with, checkout_details
from shop import backups
from payments.testing import place_paid_order

pytestmark = pytest.mark.django_db(transaction=True)

ORDERS_AND_LINES = """
    SELECT md5(coalesce(string_agg(row_text, '|' ORDER BY row_text), '')) FROM (
        SELECT 'o' || o.id || ':' || o.number || ':' || o.status || ':' || o.total || ':' || o.email AS row_text
        FROM orders_order o
        UNION ALL
        SELECT 'l' || l.id || ':' || l.order_id || ':' || l.sku || ':' || l.quantity || ':' || l.unit_price
               || ':' || l.line_total FROM orders_orderline l
    ) AS rows
"""


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("backups are pg_dump files: run with DATABASE_URL=postgres://... (make test and CI do)")
    return backups.Database.from_settings()


@pytest.fixture
def scratch(postgres):
    """An empty database beside the test database, dropped afterwards."""
    name = f"{postgres.name}_restore_{uuid.uuid4().hex[:8]}"
    admin = dict(dbname="postgres", host=postgres.host or None, port=postgres.port or None,
                 user=postgres.user or None, password=postgres.password or None, autocommit=True)
    with psycopg.connect(**admin) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield backups.Database(name=name, host=postgres.host, port=postgres.port, user=postgres.user,
                           password=postgres.password)
    with psycopg.connect(**admin) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def url(database: backups.Database) -> str:
    credentials = database.user + (f":{database.password}" if database.password else "")
    return f"postgres://{credentials}@{database.host or '127.0.0.1'}:{database.port or 5432}/{database.name}"


def facts(database: backups.Database) -> tuple[dict[str, int], str]:
    """({table: row count} for every table in public, the orders-and-lines md5)."""
    with psycopg.connect(dbname=database.name, host=database.host or None, port=database.port or None,
                         user=database.user or None, password=database.password or None) as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
        counts = {table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}
        return counts, conn.execute(ORDERS_AND_LINES).fetchone()[0]


def place_orders(count: int) -> None:
    for index in range(count):
        variants = [VariantFactory(stock=10, price=Decimal("12.50") + index) for _ in range(2)]
        cart = cart_with((variants[0], 1), (variants[1], 2))
        place_paid_order(cart=cart, customer=None, details=checkout_details(), idempotency_key=uuid.uuid4().hex)


def test_backup_then_restore_into_a_scratch_database_gives_the_same_rows(postgres, scratch, tmp_path, capsys):
    place_orders(3)
    call_command("backup", dir=tmp_path)
    dump = next(tmp_path.glob("ishop-*.dump"))
    digest, name = (tmp_path / f"{dump.name}.sha256").read_text().split()
    assert name == dump.name and digest == backups.sha256_of(dump)
    assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    assert "Backup written" in capsys.readouterr().out

    call_command("restore", str(dump), database_url=url(scratch))

    source_counts, source_orders = facts(postgres)
    restored_counts, restored_orders = facts(scratch)
    assert source_counts["orders_order"] == 3 and source_counts["orders_orderline"] == 6
    assert restored_counts == source_counts
    assert restored_orders == source_orders


def test_backups_are_readable_by_their_owner_only(postgres, tmp_path):
    """Issue 21: a dump holds password hashes, emails and addresses: 0600 under any umask, in a
    0700 directory when the backup makes it, and also when --output names an existing file."""
    import os
    import stat

    place_orders(1)
    previous = os.umask(0o022)
    try:
        call_command("backup", dir=tmp_path / "new-dir")
        existing = tmp_path / "existing.dump"
        existing.write_text("old")
        existing.chmod(0o644)
        call_command("backup", output=existing)
    finally:
        os.umask(previous)
    dump = next((tmp_path / "new-dir").glob("ishop-*.dump"))
    for path in (dump, backups.checksum_path(dump), existing, backups.checksum_path(existing)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE((tmp_path / "new-dir").stat().st_mode) == 0o700
    backups.verify(existing)


def test_restore_refuses_a_database_that_is_not_empty_unless_forced(postgres, scratch, tmp_path):
    place_orders(1)
    dump = tmp_path / "one.dump"
    call_command("backup", output=dump)
    call_command("restore", str(dump), database_url=url(scratch))

    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", str(dump), database_url=url(scratch))
    with pytest.raises(CommandError, match="is not empty"):  # the default database: the live one
        call_command("restore", str(dump))

    call_command("restore", str(dump), database_url=url(scratch), force=True)
    assert facts(scratch) == facts(postgres)


def test_a_damaged_or_unverifiable_backup_is_refused(postgres, scratch, tmp_path):
    dump = tmp_path / "shop.dump"
    call_command("backup", output=dump)
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    with pytest.raises(CommandError, match="does not match its checksum"):
        call_command("restore", str(dump), database_url=url(scratch))
    (tmp_path / "shop.dump.sha256").unlink()
    with pytest.raises(CommandError, match="No checksum file"):
        call_command("restore", str(dump), database_url=url(scratch))
    with pytest.raises(CommandError, match="No backup file"):
        call_command("restore", str(tmp_path / "missing.dump"), database_url=url(scratch))
    assert backups.table_count(scratch) == 0  # nothing was restored
