"""Celery tasks of accounts: the emails. Each takes ids, loads the rows and sends one email;
network and SMTP errors are retried with backoff (shop.mail.EMAIL_TASK_OPTIONS)."""
from celery import shared_task
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from shop.mail import EMAIL_TASK_OPTIONS, absolute_url, send_templated_email

from .models import User, WishlistItem


@shared_task(**EMAIL_TASK_OPTIONS)
def send_verification_email(self, user_id: int, email: str) -> None:
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


@shared_task(**EMAIL_TASK_OPTIONS)
def send_account_exists_email(self, user_id: int) -> None:
    """Tell account `user_id` that someone tried to sign up with its email (the sign-up page
    answered as for a new address), with links to log in and to reset the password."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    send_templated_email(to=user.email, template="account_exists", context={
        "user": user, "login_link": absolute_url(reverse("login")),
        "reset_link": absolute_url(reverse("password_reset"))})


@shared_task(**EMAIL_TASK_OPTIONS)
def send_password_reset_email(self, user_id: int) -> None:
    """Email account `user_id` a password reset link (Django's token: single use, expires after
    PASSWORD_RESET_TIMEOUT seconds)."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    path = reverse("password_reset_confirm", kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                                                     "token": default_token_generator.make_token(user)})
    send_templated_email(to=user.email, template="password_reset", context={"user": user, "link": absolute_url(path)})


@shared_task(**EMAIL_TASK_OPTIONS)
def send_login_link_email(self, user_id: int, next_url: str = "") -> None:
    """Email account `user_id` a one-time login link (accounts.login_guard: signed, expires after
    SHOP_LOGIN_LINK_MAX_AGE seconds, dies at the next login) and its code for apps. The code is
    made here, so it never travels through the broker. `next_url`: a path on this site to go on to."""
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


@shared_task(**EMAIL_TASK_OPTIONS)
def send_back_in_stock_email(self, item_id: int) -> None:
    """Tell the customer of wishlist item `item_id` that its variant is back in stock."""
    item = WishlistItem.objects.select_related("user", "product", "variant").filter(pk=item_id).first()
    if item is None or not item.user.is_active:
        return
    send_templated_email(to=item.user.email, template="back_in_stock",
                         context={"item": item, "link": absolute_url(item.product.get_absolute_url())})
