"""What each kind of outbox message does: a handler per kind name.

    from outbox.registry import handles

    @handles("orders.order_email")
    def order_email(*, order_id: int, event: str) -> None: ...

A handler takes the message's payload as keyword arguments, does its one side effect and
returns; any exception means "not done, try again later" (outbox.services.deliver). It must be
safe to run again after a failure. Kind names are "<app>.<what>". Modules that register handlers
are imported by their app's AppConfig.ready(), so every process (web, worker) knows every kind.
"""
from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

Handler = Callable[..., None]
_handlers: dict[str, Handler] = {}


class UnknownKind(LookupError):
    """No handler is registered for this kind of message."""


def handles(kind: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of `kind`. Raises ImproperlyConfigured when
    `kind` already has another handler."""
    def register(handler: Handler) -> Handler:
        existing = _handlers.get(kind)
        if existing is not None and existing.__qualname__ != handler.__qualname__:
            raise ImproperlyConfigured(f"Outbox kind {kind!r} already has a handler: {existing.__qualname__}")
        _handlers[kind] = handler
        return handler
    return register


def handler_for(kind: str) -> Handler:
    """The handler of `kind`; raises UnknownKind."""
    try:
        return _handlers[kind]
    except KeyError:
        raise UnknownKind(f"No outbox handler is registered for {kind!r}") from None


def kinds() -> list[str]:
    """Every registered kind, sorted."""
    return sorted(_handlers)
