"""Account emails, as outbox handlers (outbox.registry): each loads its rows by id and sends one
email, or nothing when the account or item is gone. accounts.services (and the password reset
form) write the messages in the transaction that makes them due; the outbox sends each once.

    accounts.verification_email    {"user_id", "email"}   sign-up, email change, "send it again"
    accounts.password_reset_email  {"user_id"}            the password reset form
    accounts.back_in_stock_email   {"item_id"}            a wishlisted variant is in stock again
    accounts.account_exists_email  {"user_id"}            someone signed up with this account's email
    accounts.login_link_email      {"user_id", "next_url"} a one-time login link (accounts.login_guard)
"""
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from outbox.registry import handles
from shop.mail import absolute_url, send_templated_email

from .models import User, WishlistItem


@handles("accounts.verification_email")
def verification_email(*, user_id: int, email: str) -> None:
    """Email `email` a link that verifies it as the address of account `user_id` (for a new
    account, or an email change). Nothing is sent for a deleted or inactive account."""
    from .services import verification_token

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    link = absolute_url(reverse("verify_email", args=[verification_token(user=user, email=email)]))
    send_templated_email(to=email, template="verify_email",
                         context={"user": user, "link": link, "is_change": email != user.email,
                                  "valid_days": max(1, settings.SHOP_EMAIL_VERIFICATION_MAX_AGE // 86400)})


@handles("accounts.account_exists_email")
def account_exists_email(*, user_id: int) -> None:
    """Tell account `user_id` that someone tried to sign up with its email (the sign-up page
    answered as for a new address), with links to log in and to reset the password."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    send_templated_email(to=user.email, template="account_exists", context={
        "user": user, "login_link": absolute_url(reverse("login")),
        "reset_link": absolute_url(reverse("password_reset"))})


@handles("accounts.password_reset_email")
def password_reset_email(*, user_id: int) -> None:
    """Email account `user_id` a password reset link (Django's token: single use, expires after
    PASSWORD_RESET_TIMEOUT seconds)."""
    from .services import may_reset_password

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not may_reset_password(user):
        return
    path = reverse("password_reset_confirm", kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                                                     "token": default_token_generator.make_token(user)})
    send_templated_email(to=user.email, template="password_reset", context={"user": user, "link": absolute_url(path)})


@handles("accounts.login_link_email")
def login_link_email(*, user_id: int, next_url: str = "") -> None:
    """Email account `user_id` a one-time login link (accounts.login_guard: signed, expires after
    SHOP_LOGIN_LINK_MAX_AGE seconds, dies at the next login) and its code for apps. The code is
    made here, when the email is sent, so it never sits in the outbox and an outage does not eat
    into its lifetime. `next_url`: a path on this site to go on to."""
    from urllib.parse import urlencode

    from .login_guard import login_code, safe_next

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    code = login_code(user)
    next_url = safe_next(next_url)
    path = reverse("login_link", args=[code]) + (f"?{urlencode({'next': next_url})}" if next_url else "")
    send_templated_email(to=user.email, template="login_link", context={
        "user": user, "link": absolute_url(path), "code": code, "reset_link": absolute_url(reverse("password_reset")),
        "minutes": max(1, settings.SHOP_LOGIN_LINK_MAX_AGE // 60)})


@handles("accounts.back_in_stock_email")
def back_in_stock_email(*, item_id: int) -> None:
    """Tell the customer of wishlist item `item_id` that its variant is back in stock."""
    item = WishlistItem.objects.select_related("user", "product", "variant").filter(pk=item_id).first()
    if item is None or not item.user.is_active:
        return
    send_templated_email(to=item.user.email, template="back_in_stock",
                         context={"item": item, "link": absolute_url(item.product.get_absolute_url())})
