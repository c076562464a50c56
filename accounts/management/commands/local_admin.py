"""`manage.py local_admin`: create (or reset) the local admin login that `make run` prints."""
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User


class Command(BaseCommand):
    help = "Create or reset a superuser for local use and print its login. Refused unless DEBUG is on."

    def add_arguments(self, parser):
        parser.add_argument("--email", default="admin@ishop.local")

    def handle(self, *args, email: str, **options):
        if not settings.DEBUG:
            raise CommandError("local_admin is for local development only (DJANGO_DEBUG=false here). "
                               "Use `manage.py createsuperuser` in production.")
        password = secrets.token_urlsafe(12)
        user, created = User.objects.get_or_create(email=email, defaults={"is_staff": True, "is_superuser": True})
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
        self.stdout.write(self.style.SUCCESS(
            f"Admin login ({'created' if created else 'password reset'}): {email} / {password}  "
            f"-> http://127.0.0.1:8000/admin/"))
