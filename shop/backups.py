"""Database backups: `pg_dump -Fc` files with a SHA-256 checksum beside them, and their restore.

Used by `manage.py backup` and `manage.py restore` (the commands only parse arguments).

- A backup is `<dir>/ishop-<UTC timestamp>.dump` (pg_dump's custom format: compressed, restorable
  table by table) and `<same>.dump.sha256` in sha256sum's format ("<64 hex>  <file name>"), so
  `sha256sum -c` checks it too. The dump is written to a temporary name and renamed when complete.
  Both files are readable by their owner only (0600, pg_dump runs under umask 077), and a backup
  directory made here is 0700: a dump holds password hashes, emails and addresses.
- A restore checks the checksum first, then refuses a database that has any table in it unless
  `force` (then pg_restore --clean drops and recreates what the dump holds).

PostgreSQL only: the embedded SQLite default is one file (copy it).
"""
import hashlib
import os
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import environ
from django.conf import settings

CHUNK = 1024 * 1024  # bytes read at a time while hashing


class BackupError(Exception):
    """A backup or restore could not be done; the message says why and what to do."""


@dataclass(frozen=True)
class Database:
    """Connection parameters of one PostgreSQL database."""

    name: str
    host: str = ""
    port: str = ""
    user: str = ""
    password: str = ""

    @classmethod
    def from_settings(cls, alias: str = "default") -> "Database":
        config = settings.DATABASES[alias]
        if "postgresql" not in config["ENGINE"]:
            raise BackupError(f"Backups need PostgreSQL; the {alias!r} database is {config['ENGINE']}.")
        return cls(name=config["NAME"], host=str(config.get("HOST") or ""), port=str(config.get("PORT") or ""),
                   user=str(config.get("USER") or ""), password=str(config.get("PASSWORD") or ""))

    @classmethod
    def from_url(cls, url: str) -> "Database":
        config = environ.Env.db_url_config(url)
        if "postgresql" not in config["ENGINE"]:
            raise BackupError(f"{url!r} is not a PostgreSQL URL (postgres://user@host:port/name).")
        return cls(name=config["NAME"], host=str(config.get("HOST") or ""), port=str(config.get("PORT") or ""),
                   user=str(config.get("USER") or ""), password=str(config.get("PASSWORD") or ""))

    def arguments(self) -> list[str]:
        """libpq options for pg_dump / pg_restore / psql (the password goes in the environment)."""
        arguments = []
        if self.host:
            arguments += ["--host", self.host]
        if self.port:
            arguments += ["--port", self.port]
        if self.user:
            arguments += ["--username", self.user]
        return arguments

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of the file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def checksum_path(dump: Path) -> Path:
    return dump.with_name(dump.name + ".sha256")


PRIVATE_FILE = 0o600
PRIVATE_UMASK = 0o077


def _run(command: list[str], database: Database, *, umask: int = -1) -> None:
    try:
        result = subprocess.run(command, env=database.environment(), capture_output=True, text=True, umask=umask)
    except FileNotFoundError as exc:
        raise BackupError(f"{command[0]} is not installed (Debian: apt-get install postgresql-client).") from exc
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")


def backup(*, directory: Path | None = None, output: Path | None = None,
           database: Database | None = None) -> tuple[Path, str]:
    """Dump `database` (default: settings' default database) with `pg_dump -Fc` to `output`, or to
    `directory/ishop-<UTC YYYYmmddTHHMMSSZ>.dump`, and write the checksum file beside it.
    Returns (dump path, hex SHA-256). Raises BackupError."""
    database = database or Database.from_settings()
    if output is None:
        directory = Path(directory or settings.BACKUP_DIR)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        output = directory / f"ishop-{stamp}.dump"
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = output.with_name(output.name + ".partial")
    try:
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(partial),
              *database.arguments(), database.name], database, umask=PRIVATE_UMASK)
        partial.chmod(PRIVATE_FILE)  # also when --output named a file that already existed
        digest = sha256_of(partial)
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    sidecar = checksum_path(output)
    sidecar.unlink(missing_ok=True)
    with open(os.open(sidecar, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE), "w") as handle:
        handle.write(f"{digest}  {output.name}\n")
    return output, digest


def verify(dump: Path) -> str:
    """Check `dump` against its .sha256 file; returns the digest. Raises BackupError if the file or
    its checksum is missing or they differ."""
    dump = Path(dump)
    if not dump.is_file():
        raise BackupError(f"No backup file at {dump}.")
    sidecar = checksum_path(dump)
    if not sidecar.is_file():
        raise BackupError(f"No checksum file {sidecar.name} beside the backup: cannot tell if it is complete.")
    expected = sidecar.read_text().split()[0].lower()
    actual = sha256_of(dump)
    if actual != expected:
        raise BackupError(f"{dump.name} does not match its checksum (expected {expected}, got {actual}): "
                          "the file is damaged or incomplete.")
    return actual


def table_count(database: Database) -> int:
    """How many tables the database's public schema holds (0: empty)."""
    import psycopg

    with psycopg.connect(dbname=database.name, host=database.host or None, port=database.port or None,
                         user=database.user or None, password=database.password or None) as connection:
        return connection.execute(
            "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'public'").fetchone()[0]


def restore(dump: Path, *, database: Database | None = None, force: bool = False) -> str:
    """Restore `dump` into `database` (default: settings' default database) after verifying its
    checksum. Refuses a database with tables unless `force` (then existing objects the dump holds
    are dropped first). Returns the verified digest. Raises BackupError."""
    digest = verify(dump)
    database = database or Database.from_settings()
    tables = table_count(database)
    if tables and not force:
        raise BackupError(f"The database {database.name!r} is not empty ({tables} tables). Restore into an "
                          "empty database, or pass --force to replace what the backup holds.")
    command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
               "--dbname", database.name, *database.arguments()]
    if tables:
        command += ["--clean", "--if-exists"]
    _run([*command, str(dump)], database)
    return digest
