"""The shop's user: customers and staff log in with their email address."""
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models

from orders.addresses import format_lines
from shop.sources import SOURCE_MAX_LENGTH, Source


class UserManager(BaseUserManager):
    """Creates users keyed by a normalised, unique email address."""

    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields):
        """Create a customer. Raises ValueError when the email is empty."""
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields):
        """Create a staff superuser for the Django admin."""
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        # Emails are stored lower-case, so "Ann@Example.com" logs in as "ann@example.com".
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})


class User(AbstractUser):
    """A customer or a staff member. `email` is the login; there is no username."""

    username = None
    email = models.EmailField("email address", unique=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 code, when known.")
    email_verified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the customer opened the verification link sent to `email`.")
    source = models.CharField(
        max_length=SOURCE_MAX_LENGTH, choices=Source.choices, default=Source.WEB, db_default=Source.WEB,
        db_index=True, help_text="Signed up on the shop, or imported from an order history (such a customer "
                                 "sets a password through a reset link before logging in).")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        ordering = ["email"]
        indexes = [models.Index(fields=["source", "email"], name="user_source_email")]
        permissions = [("view_dashboard", "Can view the staff dashboard"),
                       ("handle_chat", "Can answer support chat")]  # issue 29

    def __str__(self) -> str:
        return self.email

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def display_name(self) -> str:
        """The full name when known, else the email."""
        return self.get_full_name() or self.email


class Address(models.Model):
    """A saved address in a customer's address book. At most one is the default shipping address
    and one the default billing address (the same row may be both)."""

    user = models.ForeignKey(User, related_name="addresses", on_delete=models.CASCADE)
    name = models.CharField("full name", max_length=200)
    line1 = models.CharField("address line 1", max_length=255)
    line2 = models.CharField("address line 2", max_length=255, blank=True)
    city = models.CharField(max_length=100)
    postcode = models.CharField("postcode / ZIP", max_length=20, blank=True)  # Ireland needs none
    region = models.CharField("state / province / county", max_length=100, blank=True, db_default="",
                              help_text="The country's code of it (\"CA\"); blank where the country has none.")
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 code.")
    phone = models.CharField(max_length=32, blank=True)
    is_default_shipping = models.BooleanField("default shipping address", default=False)
    is_default_billing = models.BooleanField("default billing address", default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "addresses"
        ordering = ["-is_default_shipping", "-is_default_billing", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=models.Q(is_default_shipping=True),
                                    name="address_one_default_shipping"),
            models.UniqueConstraint(fields=["user"], condition=models.Q(is_default_billing=True),
                                    name="address_one_default_billing"),
        ]

    def __str__(self) -> str:
        return ", ".join(self.lines)

    @property
    def lines(self) -> list[str]:
        """The address as its country writes it, one string per line (orders.addresses)."""
        return format_lines(name=self.name, line1=self.line1, line2=self.line2, city=self.city,
                            postcode=self.postcode, region=self.region, country=self.country)

    def as_checkout_initial(self) -> dict[str, str]:
        """The checkout form's fields filled from this address."""
        return {"shipping_name": self.name, "shipping_line1": self.line1, "shipping_line2": self.line2,
                "shipping_city": self.city, "shipping_postcode": self.postcode, "shipping_region": self.region,
                "shipping_country": self.country,
                "phone": self.phone}


class WishlistItem(models.Model):
    """A product a customer wants, optionally one variant (size/colour) of it.

    `awaiting_restock` is set while the wishlisted variant is sold out; when its stock comes back
    the customer is emailed once (accounts.services.notify_restocked) and the flag is cleared.
    """

    user = models.ForeignKey(User, related_name="wishlist", on_delete=models.CASCADE)
    product = models.ForeignKey("catalog.Product", related_name="+", on_delete=models.CASCADE)
    variant = models.ForeignKey("catalog.Variant", null=True, blank=True, related_name="wishlist_items",
                                on_delete=models.CASCADE)
    awaiting_restock = models.BooleanField(default=False, db_index=True)
    restock_notified_at = models.DateTimeField(null=True, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-added_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "variant"], condition=models.Q(variant__isnull=False),
                                    name="wishlist_unique_variant"),
            models.UniqueConstraint(fields=["user", "product"], condition=models.Q(variant__isnull=True),
                                    name="wishlist_unique_product"),
        ]

    def __str__(self) -> str:
        return f"{self.user} wants {self.variant or self.product}"
