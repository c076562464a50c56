"""The guest's conversation follows them when they log in (as the guest cart does, orders.signals)."""
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from . import services


@receiver(user_logged_in)
def conversation_follows_login(sender, request, user, **kwargs) -> None:
    """Move the session's guest conversation to `user` (the session id survives the login's key change)."""
    if request is not None and hasattr(request, "session"):
        services.follow_login(session=request.session, user=user)
