"""Account writes. The HTML sign-up, the API's register endpoint and commands all call these.

Also: email verification (signed, expiring links), profile and email change, the address book,
the wishlist (a guest's lives in the session and merges at login) and the back-in-stock emails.
Every email is an outbox message written in the transaction that makes it due (accounts.emails).
"""
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.base import SessionBase
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.dispatch import Signal
from django.utils import timezone

from catalog.models import Product, Variant
from outbox import services as outbox
from shop.sources import Source
from webhooks import events as webhook_events

from .models import Address, User, WishlistItem

# Sent after commit when a customer account is created; kwargs: user, request (None outside a request).
user_registered = Signal()

VERIFY_SALT = "accounts.verify-email"
SESSION_WISHLIST_KEY = "wishlist"  # a guest's wishlist: [[product_id, variant_id or None], ...]
SESSION_WISHLIST_LIMIT = 100


class AccountError(Exception):
    """A refused account change; the message is safe to show."""


class InvalidLink(AccountError):
    """A verification link that is malformed, tampered with, expired or for a deleted account."""


# --- Registration and email verification ------------------------------------------------------

def may_reset_password(user: User) -> bool:
    """Whether a reset link may be emailed to `user`: an active account with a password, or an
    imported customer (source other than the web shop), who has none until they set one this way."""
    return user.is_active and (user.has_usable_password() or user.source != Source.WEB)


@transaction.atomic
def register_customer(*, email: str, password: str, first_name: str = "", last_name: str = "",
                      request=None) -> User:
    """Create a customer account (never staff), send the email verification link and announce
    the account with `user_registered`, both after commit.

    `email` is stored lower-cased; `password` is hashed with the first of PASSWORD_HASHERS
    (Argon2). Callers validate first (SignUpForm, the API serializer); a taken email raises
    IntegrityError. The account can browse and buy before it is verified. Returns the new user.
    """
    user = User.objects.create_user(email=email.strip().lower(), password=password,
                                    first_name=first_name, last_name=last_name)
    send_verification(user=user)
    webhook_events.customer_created(user=user)  # customer.created (issue 28), in this transaction
    transaction.on_commit(lambda: user_registered.send(sender=User, user=user, request=request), robust=True)
    return user


def sign_up(*, email: str, password: str, first_name: str = "", last_name: str = "", request=None) -> User | None:
    """The HTML sign-up, which never tells whether `email` already has an account (no account
    enumeration): a new address gets an account and its verification link (register_customer);
    a taken one gets an email telling its owner so, with log-in and password-reset links, and no
    account is made. Either way the password is hashed, so the answer takes as long. Returns the
    new account, or None when the address was taken (callers answer alike in both cases)."""
    email = email.strip().lower()
    if not User.objects.filter(email__iexact=email).exists():
        try:
            with transaction.atomic():
                return register_customer(email=email, password=password, first_name=first_name,
                                         last_name=last_name, request=request)
        except IntegrityError:  # a concurrent sign-up with the same email won
            pass
    make_password(password)
    existing = User.objects.filter(email__iexact=email, is_active=True).first()
    if existing is not None:
        outbox.enqueue(kind="accounts.account_exists_email", payload={"user_id": existing.pk})
    return None


def verification_token(*, user: User, email: str) -> str:
    """A signed, timestamped token saying "`user` may prove they receive mail at `email`".
    Valid for settings.SHOP_EMAIL_VERIFICATION_MAX_AGE seconds (see verify_email)."""
    return signing.dumps({"u": user.pk, "e": email}, salt=VERIFY_SALT, compress=True)


def send_verification(*, user: User, email: str | None = None) -> None:
    """Email a verification link for `email` (default: the account's current email): an outbox
    message in the current transaction, sent after commit."""
    outbox.enqueue(kind="accounts.verification_email",
                   payload={"user_id": user.pk, "email": (email or user.email).lower()})


@transaction.atomic
def verify_email(*, token: str) -> User:
    """Open a verification link: the account's email becomes `email` from the token (an email
    change) and is marked verified now, and the guest orders placed with it become the account's
    (orders.services.attach_guest_orders). Opening the link again changes nothing.

    Raises InvalidLink for a bad or expired token or a deleted account; AccountError when the new
    email was taken by another account in the meantime.
    """
    try:
        data = signing.loads(token, salt=VERIFY_SALT, max_age=settings.SHOP_EMAIL_VERIFICATION_MAX_AGE)
    except signing.SignatureExpired:
        raise InvalidLink("This verification link has expired. Log in and ask for a new one.") from None
    except signing.BadSignature:
        raise InvalidLink("This verification link is not valid.") from None
    user = User.objects.select_for_update().filter(pk=data["u"], is_active=True).first()
    if user is None:
        raise InvalidLink("This verification link is not valid.")
    if user.email != data["e"]:
        if User.objects.filter(email__iexact=data["e"]).exclude(pk=user.pk).exists():
            raise AccountError("Another account uses that email address now.")
        user.email = data["e"]
        user.email_verified_at = None
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email", "email_verified_at"])
        from orders import services as orders

        orders.attach_guest_orders(customer=user)  # the email is proven theirs: so are its guest orders
    return user


# --- Profile -----------------------------------------------------------------------------------

@transaction.atomic
def update_profile(*, user: User, first_name: str, last_name: str, email: str) -> bool:
    """Save the customer's name. A different `email` is not changed yet: a verification link goes
    to the new address and the change happens when it is opened (verify_email).
    Returns True when such a link was sent. Raises AccountError when the email is taken."""
    user.first_name, user.last_name = first_name.strip(), last_name.strip()
    user.save(update_fields=["first_name", "last_name"])
    email = email.strip().lower()
    if email == user.email:
        return False
    if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
        raise AccountError("An account with this email already exists.")
    send_verification(user=user, email=email)
    return True


# --- Address book ------------------------------------------------------------------------------

ADDRESS_FIELDS = ("name", "line1", "line2", "city", "postcode", "region", "country", "phone",
                  "is_default_shipping", "is_default_billing")


@transaction.atomic
def save_address(*, user: User, data: dict, address: Address | None = None) -> Address:
    """Create (or, with `address`, update) one of `user`'s addresses from `data` (the
    ADDRESS_FIELDS). Making it the default shipping or billing address takes that mark off the
    previous default. The first address becomes the default for both. Returns the address."""
    if address is not None and address.user_id != user.pk:
        raise AccountError("No such address.")
    address = address or Address(user=user)
    for field in ADDRESS_FIELDS:
        if field in data:
            setattr(address, field, data[field])
    others = Address.objects.select_for_update().filter(user=user).exclude(pk=address.pk)
    if not others.exists():
        address.is_default_shipping = address.is_default_billing = True
    for flag in ("is_default_shipping", "is_default_billing"):
        if getattr(address, flag):
            others.filter(**{flag: True}).update(**{flag: False})
    address.save()
    return address


@transaction.atomic
def delete_address(*, user: User, address_id: int) -> None:
    """Delete one of `user`'s addresses; a default mark it held moves to their oldest address."""
    address = Address.objects.filter(user=user, pk=address_id).first()
    if address is None:
        raise AccountError("No such address.")
    address.delete()
    for flag in ("is_default_shipping", "is_default_billing"):
        if getattr(address, flag) and not Address.objects.filter(user=user, **{flag: True}).exists():
            Address.objects.filter(pk__in=Address.objects.filter(user=user).order_by("pk")[:1]).update(**{flag: True})


def default_shipping_address(user) -> Address | None:
    """The customer's default shipping address, if any (None for guests)."""
    if not user.is_authenticated:
        return None
    return Address.objects.filter(user=user, is_default_shipping=True).first()


# --- Wishlist ----------------------------------------------------------------------------------

def _wishlist_target(product_id: int, variant_id: int | None) -> tuple[Product, Variant | None]:
    product = Product.objects.visible().filter(pk=product_id).first()
    variant = (Variant.objects.filter(pk=variant_id, product_id=product_id, is_active=True).first()
               if variant_id else None)
    if product is None or (variant_id and variant is None):
        raise AccountError("That product is no longer available.")
    return product, variant


def add_to_wishlist(*, user, session: SessionBase, product_id: int, variant_id: int | None = None) -> bool:
    """Keep a product (optionally one variant) on the shopper's wishlist: the customer's in the
    database, a guest's in the session. Adding it again changes nothing. A sold-out variant (or a
    product with no variant in stock, when none was chosen) is watched: its restock sends an email. Returns True when it was added now.
    Raises AccountError for a hidden or unknown product or variant."""
    product, variant = _wishlist_target(product_id, variant_id)
    if not user.is_authenticated:
        items = session.get(SESSION_WISHLIST_KEY, [])
        entry = [product.pk, variant.pk if variant else None]
        if entry in items:
            return False
        session[SESSION_WISHLIST_KEY] = [*items, entry][-SESSION_WISHLIST_LIMIT:]
        return True
    try:
        with transaction.atomic():
            sold_out = (not variant.in_stock if variant is not None
                        else not Variant.objects.in_stock().filter(product=product).exists())
            WishlistItem.objects.create(user=user, product=product, variant=variant, awaiting_restock=sold_out)
    except IntegrityError:
        return False
    return True


def remove_from_wishlist(*, user, session: SessionBase, product_id: int, variant_id: int | None = None) -> None:
    """Take a product (or one variant of it) off the shopper's wishlist; absent is fine."""
    if not user.is_authenticated:
        session[SESSION_WISHLIST_KEY] = [item for item in session.get(SESSION_WISHLIST_KEY, [])
                                         if item != [product_id, variant_id]]
        return
    WishlistItem.objects.filter(user=user, product_id=product_id, variant_id=variant_id).delete()


def move_wishlist_item_to_cart(*, user, session: SessionBase, product_id: int, variant_id: int | None) -> Variant:
    """Put one unit of the wishlisted variant in the cart and take it off the wishlist. A
    product-level item works when the product has a single active variant.
    Raises AccountError (choose a size/colour first) or the cart's errors (sold out...)."""
    from orders import services as orders

    if variant_id is None:
        variants = list(Variant.objects.filter(product_id=product_id, is_active=True)[:2])
        if len(variants) != 1:
            raise AccountError("Choose a size and colour on the product page first.")
        variant_id = variants[0].pk
    cart = orders.get_or_create_cart(session=session, customer=user)
    with transaction.atomic():
        orders.add_to_cart(cart=cart, variant_id=variant_id, quantity=1)
        remove_from_wishlist(user=user, session=session, product_id=product_id, variant_id=variant_id)
        remove_from_wishlist(user=user, session=session, product_id=product_id, variant_id=None)
    return Variant.objects.select_related("product").get(pk=variant_id)


def merge_session_wishlist(*, session: SessionBase, user: User) -> int:
    """At login: move the guest's session wishlist into the customer's. Returns items added."""
    added = 0
    for product_id, variant_id in session.pop(SESSION_WISHLIST_KEY, []):
        try:
            added += add_to_wishlist(user=user, session=session, product_id=product_id, variant_id=variant_id)
        except AccountError:
            continue  # hidden since the guest added it
    return added


def wishlist_product_ids(*, user, session: SessionBase) -> set[int]:
    """Ids of the products on the shopper's wishlist (one query for a customer, none for a guest)."""
    if user.is_authenticated:
        return set(WishlistItem.objects.filter(user=user).values_list("product_id", flat=True))
    return {product_id for product_id, _ in session.get(SESSION_WISHLIST_KEY, [])}


# --- Back in stock -----------------------------------------------------------------------------

def _buyable() -> Q:
    """Wishlist items whose variant, or for an item without a variant any active variant of its
    product, has stock."""
    return (Exists(Variant.objects.in_stock().filter(pk=OuterRef("variant_id")))
            | (Q(variant__isnull=True) & Exists(Variant.objects.in_stock().filter(product=OuterRef("product_id")))))


def watch_stock(*, variant_ids: Iterable[int]) -> int:
    """React to a stock change of these variants (after commit, from catalog's `stock_changed`):
    wishlist items that can no longer be bought start waiting, and those that can again get one
    email each (an outbox message) and stop waiting. An item is for one variant, or for the whole
    product (no variant chosen): that one waits while none of the product's active variants has
    stock. Returns the emails sent.

    Safe to call for any variants: without wishlist items it runs cheap queries and sends nothing.
    """
    ids = list(variant_ids)
    products = Variant.objects.filter(pk__in=ids).values("product_id")
    watched = WishlistItem.objects.filter(Q(variant_id__in=ids) | Q(variant__isnull=True, product_id__in=products))
    watched.filter(awaiting_restock=False).exclude(_buyable()).update(awaiting_restock=True)
    with transaction.atomic():
        restocked = list(watched.select_for_update(skip_locked=True).filter(
            _buyable(), awaiting_restock=True, product__is_visible=True).values_list("pk", flat=True))
        if restocked:
            WishlistItem.objects.filter(pk__in=restocked).update(awaiting_restock=False,
                                                                 restock_notified_at=timezone.now())
            for item_id in restocked:
                outbox.enqueue(kind="accounts.back_in_stock_email", payload={"item_id": item_id})
    return len(restocked)
