"""Account writes. The HTML sign-up, the API's register endpoint and commands all call these."""
from django.db import transaction
from django.dispatch import Signal

from .models import User

# Sent after commit when a customer account is created; kwargs: user, request (None outside a request).
user_registered = Signal()


@transaction.atomic
def register_customer(*, email: str, password: str, first_name: str = "", last_name: str = "",
                      request=None) -> User:
    """Create a customer account (never staff) and announce it with `user_registered` after commit.

    `email` is stored lower-cased; `password` is hashed with the first of PASSWORD_HASHERS.
    Callers validate first (SignUpForm, the API serializer); a taken email raises IntegrityError.
    Returns the new user.
    """
    user = User.objects.create_user(email=email.strip().lower(), password=password,
                                    first_name=first_name, last_name=last_name)
    transaction.on_commit(lambda: user_registered.send(sender=User, user=user, request=request), robust=True)
    return user
