"""Shop emails: one way to render and send them, and the retry policy of the Celery tasks that do.

Every email the shop sends (order confirmation, shipped, cancelled/refunded, email verification,
password reset, back in stock) is sent by a Celery task, enqueued after the transaction commits
(`send_after_commit`), with a text and an HTML part rendered from
templates/emails/<name>_subject.txt, <name>.txt and <name>.html. The backend comes from
EMAIL_URL (console by default, SMTP by URL).
"""
from collections.abc import Callable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

# Celery options shared by the email tasks: a lost worker's job is delivered again (acks_late);
# network and SMTP errors (smtplib.SMTPException is an OSError) are retried with exponential
# backoff and full jitter: up to 30 s, 60 s, 120 s ... capped at 600 s, 6 retries (about 25 min).
EMAIL_TASK_OPTIONS = {
    "bind": True,
    "acks_late": True,
    "ignore_result": True,
    "autoretry_for": (OSError,),
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 6,
    "soft_time_limit": 60,  # seconds
    "time_limit": 90,  # seconds
}


def absolute_url(path: str) -> str:
    """`path` ("/accounts/verify/...") on settings.SHOP_BASE_URL, for links in emails."""
    return settings.SHOP_BASE_URL + path


def send_templated_email(*, to: str, template: str, context: dict) -> None:
    """Render emails/<template>{_subject.txt,.txt,.html} with `context` (plus SHOP_NAME and
    SHOP_BASE_URL) and send one message to `to` with a text body and an HTML alternative.

    Raises whatever the email backend raises (OSError / smtplib.SMTPException for SMTP), so
    that the calling task retries.
    """
    context = {"SHOP_NAME": settings.SHOP_NAME, "SHOP_BASE_URL": settings.SHOP_BASE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject, body=render_to_string(f"emails/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL, to=[to])
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    message.send()


def send_after_commit(task, *args) -> None:
    """Enqueue `task.delay(*args)` once the current transaction commits (at once outside one).
    A broker failure is logged by Django (robust=True) and never undoes the write."""
    send: Callable[[], object] = lambda: task.delay(*args)  # noqa: E731
    transaction.on_commit(send, robust=True)
