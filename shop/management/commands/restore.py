"""`python manage.py restore FILE [--force] [--database-url URL]`: verify the backup's checksum and
restore it into an empty database (shop.backups)."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shop import backups


class Command(BaseCommand):
    help = ("Restore a `manage.py backup` file into an empty database, after checking its checksum. "
            "Refuses a database with tables unless --force.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--force", action="store_true",
                            help="restore over a non-empty database (objects in the backup are replaced)")
        parser.add_argument("--database-url", help="restore into this database instead of DATABASE_URL's")

    def handle(self, *args, **options):
        try:
            database = (backups.Database.from_url(options["database_url"]) if options["database_url"]
                        else backups.Database.from_settings())
            digest = backups.restore(options["file"], database=database, force=options["force"])
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Restored {options['file']} (sha256 {digest}) into {database.name}"))
