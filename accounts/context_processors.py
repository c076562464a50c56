"""What every page may show about the shopper's account: the verification reminder and wishlist."""
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def account(request: HttpRequest) -> dict:
    """`email_unverified`: a logged-in customer (never staff: no reminder in the back office) has
    not opened their verification link yet.
    `wishlist_product_ids`: lazy set of the product ids on the shopper's wishlist (queried only
    when a template uses it)."""
    user = getattr(request, "user", None)
    if user is None or not hasattr(request, "session"):
        return {}
    from .services import wishlist_product_ids

    return {
        "email_unverified": user.is_authenticated and not user.is_staff and not user.email_verified,
        "wishlist_product_ids": SimpleLazyObject(lambda: wishlist_product_ids(user=user, session=request.session)),
    }
