"""Accounts reacting to other apps: the guest wishlist merges at login; a stock change of a
wishlisted variant may send back-in-stock emails."""
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from catalog.services import stock_changed

from . import services


@receiver(user_logged_in)
def merge_guest_wishlist_at_login(sender, request, user, **kwargs) -> None:
    """Move the session's guest wishlist into `user`'s wishlist."""
    if request is not None and hasattr(request, "session"):
        services.merge_session_wishlist(session=request.session, user=user)


@receiver(stock_changed)
def watch_wishlisted_stock(sender, variant_ids, **kwargs) -> None:
    """After commit of any stock change: back-in-stock emails for wishlisted variants."""
    services.watch_stock(variant_ids=variant_ids)
