"""At login, a guest's session cart merges into the customer's saved cart."""
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from . import services


@receiver(user_logged_in)
def merge_guest_cart_at_login(sender, request, user, **kwargs) -> None:
    """Move the lines of the session's guest cart into `user`'s cart (see services.merge_carts)."""
    if request is not None and hasattr(request, "session"):
        services.merge_guest_cart_into_customer_cart(session=request.session, customer=user)
