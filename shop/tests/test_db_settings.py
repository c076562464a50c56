"""DJANGO_DB_SERVER_SIDE_BINDING and DJANGO_DB_PREPARE_THRESHOLD: on PostgreSQL a query run often
enough on one connection becomes a prepared statement (PostgreSQL stops planning it), and the knobs
turn that off. Settings are read at import, so each case runs in its own process."""
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from shop.conf.database import prepare_threshold_from_env

ROOT = Path(__file__).resolve().parents[2]
KNOBS = ("DJANGO_DB_SERVER_SIDE_BINDING", "DJANGO_DB_PREPARE_THRESHOLD")

# Runs one ORM query six times on one connection; after each run prints how many of this session's
# prepared statements are that query (pg_prepared_statements lists only the session's own).
PROBE = """
from django.contrib.contenttypes.models import ContentType
from django.db import connection
seen = []
for _ in range(6):
    list(ContentType.objects.filter(app_label="catalog").values_list("model", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                       ["%django_content_type%app_label%"])
        seen.append(cursor.fetchone()[0])
print("prepared:", *seen)
"""


def test_prepare_threshold_is_a_count_or_off():
    assert prepare_threshold_from_env("5") == 5
    assert prepare_threshold_from_env(" 0 ") == 0
    for off in ("", "none", "None", "off"):
        assert prepare_threshold_from_env(off) is None
    with pytest.raises(ImproperlyConfigured):
        prepare_threshold_from_env("-1")
    with pytest.raises(ValueError):
        prepare_threshold_from_env("often")


def run_probe(database_url: str, **knobs: str) -> list[int]:
    env = {k: v for k, v in os.environ.items() if k not in KNOBS}
    env.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="shop.settings", **knobs)
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", PROBE], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("prepared:"))
    return [int(n) for n in line.split()[1:]]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
@pytest.mark.django_db
def test_repeated_query_becomes_a_prepared_statement_unless_turned_off():
    s = connection.settings_dict  # the test database: its migrated rows (content types) are committed
    auth = quote(s["USER"]) + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
    url = f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    # Default: server-side binding, prepared from the 6th run on (psycopg's threshold of 5 runs).
    assert run_probe(url) == [0, 0, 0, 0, 0, 1]
    assert run_probe(url, DJANGO_DB_PREPARE_THRESHOLD="0") == [1] * 6
    assert run_probe(url, DJANGO_DB_PREPARE_THRESHOLD="") == [0] * 6
    # Client-side binding sends the values inside the SQL: nothing can be prepared.
    assert run_probe(url, DJANGO_DB_SERVER_SIDE_BINDING="false") == [0] * 6


def test_sqlite_ignores_the_knobs():
    code = "from django.conf import settings as s; print(sorted(s.DATABASES['default']['OPTIONS']))"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="shop.settings", DJANGO_DB_SERVER_SIDE_BINDING="true",
               DJANGO_DB_PREPARE_THRESHOLD="1")
    result = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "['init_command', 'timeout', 'transaction_mode']", result.stderr
