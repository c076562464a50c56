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
def send_back_in_stock_email(self, item_id: int) -> None:
    """Tell the customer of wishlist item `item_id` that its variant is back in stock."""
    item = WishlistItem.objects.select_related("user", "product", "variant").filter(pk=item_id).first()
    if item is None or not item.user.is_active:
        return
    send_templated_email(to=item.user.email, template="back_in_stock",
                         context={"item": item, "link": absolute_url(item.product.get_absolute_url())})
