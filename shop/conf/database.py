"""The database settings: SQLite's embedded-default options, PostgreSQL's statement preparation,
and django-prometheus' instrumented engines."""
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

SQLITE = "django.db.backends.sqlite3"
POSTGRESQL = "django.db.backends.postgresql"
# django-prometheus' wrappers of the engines we use (query counters and latencies per engine).
PROMETHEUS_ENGINES = {
    POSTGRESQL: "django_prometheus.db.backends.postgresql",
    SQLITE: "django_prometheus.db.backends.sqlite3",
}


def prepare_threshold_from_env(raw: str) -> int | None:
    """DJANGO_DB_PREPARE_THRESHOLD as psycopg wants it: a count of runs, or None (empty, "none",
    "off") for no prepared statements at all."""
    raw = raw.strip().lower()
    if raw in ("", "none", "off", "false"):
        return None
    threshold = int(raw)
    if threshold < 0:
        raise ImproperlyConfigured(f"DJANGO_DB_PREPARE_THRESHOLD={raw!r}: use a count (0 or more) or none.")
    return threshold


def sqlite_options(*, test_name: Path) -> dict:
    """OPTIONS and TEST of the embedded SQLite database.

    WAL and a busy timeout (seconds) let the embedded default take a page view while an import
    writes. IMMEDIATE transactions wait for the write lock instead of failing with "database is
    locked" when two processes (process_images --workers 2) upgrade reads to writes at once. The
    test database is a file, not memory, so that a daphne test server in another process sees the
    test data; `test_name` is one file per test run, so that runs side by side do not share it.
    """
    return {
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
        "TEST": {"NAME": str(test_name)},
    }


def postgresql_options(*, server_side_binding: bool, prepare_threshold: int | None) -> dict:
    """psycopg's OPTIONS for PostgreSQL.

    PostgreSQL plans our storefront queries for longer than it runs them (a category page's keyset
    query: 0.25 ms planning, 0.1 ms running). Server-side binding (psycopg sends the parameters
    apart from the SQL) lets psycopg prepare a statement once it has run `prepare_threshold` times
    on a connection; from then on PostgreSQL reuses its plan. It pays with persistent connections
    (DJANGO_CONN_MAX_AGE > 0). With client-side binding nothing is ever prepared. Behind pgbouncer in
    transaction pooling mode (without max_prepared_statements, pgbouncer 1.21+) prepared statements
    break ("prepared statement ... does not exist"): set DJANGO_DB_PREPARE_THRESHOLD= (empty) there.
    A migration that changes a column's type under running processes makes their prepared
    statements on that table fail ("cached plan must not change result type") until their
    connections close: migrate before starting them, as deploy/prod.py and docker-compose.yml do,
    or restart them after.
    """
    return {"server_side_binding": server_side_binding, "prepare_threshold": prepare_threshold}
