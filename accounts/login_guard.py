"""The login guard against distributed password guessing (issue 21; OWASP ASVS 4.0 2.2.1:
anti-automation that does not hand attackers a lockout).

django-axes locks an (account, client address) pair after AXES_FAILURE_LIMIT failures, so one
guesser cannot lock the owner out from elsewhere. A botnet guessing from many addresses stays under
that limit at each one. So every failure is also kept (axes' AccessFailureLog), and an account that
got SHOP_LOGIN_ACCOUNT_FAILURE_LIMIT failures within the last SHOP_LOGIN_ACCOUNT_FAILURE_WINDOW
seconds, from anywhere, is *guarded*: the right password alone no longer logs in, on any path (the
HTML login, the admin login, the API token endpoint). The owner is emailed a one-time login link
instead, and logs in with the link *and* the password. Nobody is locked out, and a guesser who
finds the password still needs the owner's mailbox.

The link carries a login code: signed (django.core.signing, salt LOGIN_CODE_SALT), expiring
(SHOP_LOGIN_LINK_MAX_AGE seconds) and single use: inside it is a token of Django's
PasswordResetTokenGenerator (with its own key salt), a hash of the account's password and last
login, so the code dies at the next login (or password change) of the account; and since that
hash keeps the last login to the second, a code also dies when it is used (an atomic cache add of
its digest, kept as long as the code could live).
"""
import hashlib
from datetime import timedelta

from axes.models import AccessFailureLog
from django.conf import settings
from django.core.cache import cache
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import signing
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from outbox import services as outbox

LOGIN_CODE_SALT = "accounts.login-code"


class LoginLinkRequired(Exception):
    """The password was right, but this account needs the emailed login link as well; the
    message (safe to show) says a link was sent."""


class LoginTokenGenerator(PasswordResetTokenGenerator):
    """Django's reset-token scheme (password hash, last login, timestamp) under another key salt,
    so that a login code is never a password reset token, nor the other way round."""

    key_salt = "accounts.login_guard.LoginTokenGenerator"


login_tokens = LoginTokenGenerator()


def account_is_guarded(email: str) -> bool:
    """True when the account `email` got at least SHOP_LOGIN_ACCOUNT_FAILURE_LIMIT failed logins
    (from any address, on any path) in the last SHOP_LOGIN_ACCOUNT_FAILURE_WINDOW seconds."""
    limit = settings.SHOP_LOGIN_ACCOUNT_FAILURE_LIMIT
    since = timezone.now() - timedelta(seconds=settings.SHOP_LOGIN_ACCOUNT_FAILURE_WINDOW)
    recent = AccessFailureLog.objects.filter(username=email.strip().lower(), attempt_time__gte=since)
    return recent[:limit].count() >= limit


def login_code(user) -> str:
    """A new login code for `user` (see the module docstring)."""
    return signing.dumps({"u": user.pk, "t": login_tokens.make_token(user)}, salt=LOGIN_CODE_SALT, compress=True)


def login_code_is_valid(*, user, code: str) -> bool:
    """True if `code` was made for `user`, is younger than SHOP_LOGIN_LINK_MAX_AGE seconds and the
    account has not logged in (nor changed its password) since it was made."""
    try:
        data = signing.loads(code, salt=LOGIN_CODE_SALT, max_age=settings.SHOP_LOGIN_LINK_MAX_AGE)
    except signing.BadSignature:  # tampered with, or expired (SignatureExpired)
        return False
    return (isinstance(data, dict) and data.get("u") == user.pk
            and login_tokens.check_token(user, str(data.get("t", ""))))


def _first_use(code: str) -> bool:
    """True the first time a (valid) login code is used to log in, False ever after."""
    digest = hashlib.sha256(code.encode()).hexdigest()
    return cache.add(f"login-code-used:{digest}", True, timeout=settings.SHOP_LOGIN_LINK_MAX_AGE)


def safe_next(next_url: str) -> str:
    """`next_url` if it is a path on this site ("/admin/"), else ""."""
    if next_url and next_url.startswith("/") and url_has_allowed_host_and_scheme(next_url, allowed_hosts=None):
        return next_url[:500]
    return ""


def check_login(*, user, code: str = "", next_url: str = "") -> None:
    """Call once `user`'s password has been checked and before logging them in (a session or
    tokens). Returns if they may log in: the account is not guarded, or `code` is a valid login
    code for it. Otherwise emails the owner a new login link (going on to `next_url`, a path on
    this site) after commit and raises LoginLinkRequired; a stale `code` says so in the message."""
    if not account_is_guarded(user.email):
        return
    if code and login_code_is_valid(user=user, code=code) and _first_use(code):
        return
    outbox.enqueue(kind="accounts.login_link_email", payload={"user_id": user.pk, "next_url": safe_next(next_url)})
    minutes = max(1, settings.SHOP_LOGIN_LINK_MAX_AGE // 60)
    stale = "That login link is no longer valid. " if code else ""
    raise LoginLinkRequired(
        f"{stale}There have been many failed attempts to log in to this account, so logging in needs a "
        f"one-time link as well as the password. We emailed you one: open it within {minutes} minutes "
        "and enter your password again.")
