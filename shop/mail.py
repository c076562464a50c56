"""Shop emails: one way to render and send them.

Every email the shop sends (order confirmation, shipped, cancelled/refunded, email verification,
password reset, back in stock) is an outbox message (outbox.services.enqueue) written in the
transaction that makes it due, and sent once after commit by its handler (orders.emails,
accounts.emails), which calls `send_templated_email`: a text and an HTML part rendered from
templates/emails/<name>_subject.txt, <name>.txt and <name>.html. The backend comes from EMAIL_URL
(console by default, SMTP by URL). A failed send is retried by the outbox with back-off.
"""
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def absolute_url(path: str) -> str:
    """`path` ("/accounts/verify/...") on settings.SHOP_BASE_URL, for links in emails."""
    return settings.SHOP_BASE_URL + path


def send_templated_email(*, to: str, template: str, context: dict) -> None:
    """Render emails/<template>{_subject.txt,.txt,.html} with `context` (plus SHOP_NAME, the site
    settings' name, and SHOP_BASE_URL) and send one message to `to` with a text body and an HTML alternative.

    Raises whatever the email backend raises (OSError / smtplib.SMTPException for SMTP), so
    that the outbox retries.
    """
    from branding.selectors import site_branding

    context = {"SHOP_NAME": site_branding().shop_name, "SHOP_BASE_URL": settings.SHOP_BASE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject, body=render_to_string(f"emails/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL, to=[to])
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    message.send()
