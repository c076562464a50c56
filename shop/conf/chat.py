"""Support chat settings (issue 29, the chat app) as the environment spells them."""
from django.core.exceptions import ImproperlyConfigured


def rate(value: str, name: str) -> tuple[int, int]:
    """"<count>/<seconds>" (e.g. "10/60") as (count, seconds). Raises ImproperlyConfigured otherwise."""
    try:
        count, seconds = (int(part) for part in value.split("/"))
    except ValueError:
        raise ImproperlyConfigured(f'{name} must look like "10/60" (messages per seconds), not {value!r}.') from None
    if count < 1 or seconds < 1:
        raise ImproperlyConfigured(f"{name}: both numbers must be positive, not {value!r}.")
    return count, seconds


def from_env(env) -> tuple[int, tuple[int, int], tuple[int, int], int]:
    """The chat settings from the environment (an environ.Env), in this order:

    CHAT_MAX_MESSAGE_LENGTH  characters in one message (default 2000);
    CHAT_RATE_LIMIT          messages per seconds on one socket (default "10/10"; over it: an error reply);
    CHAT_GUEST_RATE_LIMIT    shopper messages per seconds in one guest conversation, over every socket
                             and the contact form (default "20/60");
    CHAT_PRESENCE_SECONDS    a staff socket counts as online this long after its last ping (default 60)."""
    return (env.int("CHAT_MAX_MESSAGE_LENGTH", default=2000),
            rate(env("CHAT_RATE_LIMIT", default="10/10"), "CHAT_RATE_LIMIT"),
            rate(env("CHAT_GUEST_RATE_LIMIT", default="20/60"), "CHAT_GUEST_RATE_LIMIT"),
            env.int("CHAT_PRESENCE_SECONDS", default=60))
