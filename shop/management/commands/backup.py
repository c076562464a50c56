"""`python manage.py backup [--dir DIR | --output FILE]`: pg_dump -Fc of the database plus a
SHA-256 checksum file (shop.backups)."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shop import backups


class Command(BaseCommand):
    help = "Dump the PostgreSQL database (pg_dump -Fc) to a file with a .sha256 checksum beside it."

    def add_arguments(self, parser):
        parser.add_argument("--dir", type=Path, help="folder for ishop-<timestamp>.dump (default: ISHOP_BACKUP_DIR)")
        parser.add_argument("--output", type=Path, help="exact file to write instead")

    def handle(self, *args, **options):
        try:
            path, digest = backups.backup(directory=options["dir"], output=options["output"])
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        size = path.stat().st_size
        self.stdout.write(self.style.SUCCESS(f"Backup written: {path} ({size} bytes, sha256 {digest})"))
