"""Support chat's reads: the shopper's conversation, replays for sockets, the staff inbox, the side
panel beside a conversation (cart, orders, recently viewed, from the existing selectors) and the
analytics figures per day."""
from datetime import date, datetime, time, timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db.models import Avg, Count, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from analytics.selectors import recently_viewed
from catalog.models import Product
from orders.carts import find_cart
from orders.models import Order
from orders.selectors import cart_lines

from .models import CannedReply, Conversation, Message
from .services import SESSION_KEY

REPLAY_LIMIT = 500  # messages a reconnecting socket is sent at most
TABS = ("open", "mine", "closed")


def shopper_conversation(*, customer, session: SessionBase | None) -> Conversation | None:
    """The shopper's current conversation: a customer's open one (else their latest), a guest's the
    one their session names (never one that now belongs to a customer). None when they have none."""
    if customer is not None and customer.is_authenticated:
        mine = Conversation.objects.filter(customer=customer)
        return mine.open().order_by("-created_at").first() or mine.order_by("-created_at").first()
    conversation_id = session.get(SESSION_KEY) if session is not None else None
    if not isinstance(conversation_id, int):
        return None
    return Conversation.objects.filter(pk=conversation_id, customer__isnull=True).first()


def messages_since(conversation: Conversation, since: int = 0, limit: int = REPLAY_LIMIT) -> list[Message]:
    """The conversation's messages with an id above `since`, oldest first (the last `limit`)."""
    rows = list(conversation.messages.filter(pk__gt=since).order_by("-pk")[:limit])
    return rows[::-1]


def staff_messages_since(since: int, limit: int = REPLAY_LIMIT) -> list[Message]:
    """Every conversation's messages with an id above `since`, oldest first (the last `limit`), for
    a staff socket that reconnects."""
    rows = list(Message.objects.filter(pk__gt=since).order_by("-pk")[:limit])
    return rows[::-1]


def _with_unread(queryset: QuerySet[Conversation]) -> QuerySet[Conversation]:
    return queryset.select_related("customer", "assigned_to", "order").annotate(
        unread=Count("messages", filter=Q(messages__author=Message.Author.SHOPPER,
                                          messages__pk__gt=F("staff_last_read"))))


def inbox(*, tab: str, staff) -> QuerySet[Conversation]:
    """The inbox tab `tab` ("open", "mine": open and assigned to `staff`, "closed"), newest activity
    first, each with `unread` (shopper messages staff have not seen). Raises ValueError for another tab."""
    if tab not in TABS:
        raise ValueError(f"Unknown inbox tab {tab!r}")
    queryset = {"open": Conversation.objects.open(), "mine": Conversation.objects.open().filter(assigned_to=staff),
                "closed": Conversation.objects.closed()}[tab]
    return _with_unread(queryset).order_by(F("last_message_at").desc(nulls_last=True), "-pk")


def inbox_counts(*, staff) -> dict[str, int]:
    """{"open", "mine", "closed": conversations in each tab, "unread": open conversations with
    messages staff have not seen} (two queries)."""
    is_open = Q(status=Conversation.Status.OPEN)
    counts = Conversation.objects.aggregate(
        open=Count("pk", filter=is_open), mine=Count("pk", filter=is_open & Q(assigned_to=staff)),
        closed=Count("pk", filter=~is_open))
    counts["unread"] = (Message.objects.filter(author=Message.Author.SHOPPER, conversation__status=Conversation.Status.OPEN,
                                               pk__gt=F("conversation__staff_last_read"))
                        .values("conversation").distinct().count())
    return counts


def conversation_for_staff(conversation_id: int) -> Conversation | None:
    """One conversation with its shopper, assignee and order, or None."""
    return Conversation.objects.select_related("customer", "assigned_to", "order").filter(pk=conversation_id).first()


def customer_conversations(customer) -> QuerySet[Conversation]:
    """A customer's conversations, newest first, each with `message_count`."""
    return (Conversation.objects.filter(customer=customer).annotate(message_count=Count("messages"))
            .order_by("-created_at"))


def customer_orders_for_chat(customer) -> QuerySet[Order]:
    """The customer's orders, newest first (the shopper's "attach an order" choices; not sliced,
    since a form's choice field filters it)."""
    if customer is None or not customer.is_authenticated:
        return Order.objects.none()
    return Order.objects.filter(customer=customer).order_by("-created_at")


def _guest_session(session_key: str) -> SessionBase | None:
    if not session_key:
        return None
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    return store if store.exists(session_key) else None


def side_panel(conversation: Conversation, *, orders: int = 10, viewed: int = 8) -> dict:
    """What staff see beside a conversation: {"cart_lines": the shopper's current cart's lines
    (a customer's saved cart, a guest's session cart), "orders": their latest `orders` orders (a
    guest's by the email they gave), "recently_viewed": up to `viewed` products (customers only)}."""
    customer = conversation.customer
    session = None if customer is not None else _guest_session(conversation.session_key)
    cart = find_cart(session=session, customer=customer) if (customer is not None or session is not None) else None
    if customer is not None:
        order_rows = Order.objects.filter(customer=customer)
    elif conversation.email:
        order_rows = Order.objects.filter(email__iexact=conversation.email, customer__isnull=True)
    else:
        order_rows = Order.objects.none()
    products = []
    if customer is not None:
        ids = recently_viewed(customer.pk, limit=viewed)
        by_id = Product.objects.in_bulk(ids)
        products = [by_id[pk] for pk in ids if pk in by_id]
    return {"cart_lines": cart_lines(cart), "orders": list(order_rows.order_by("-created_at")[:orders]),
            "recently_viewed": products}


def canned_replies() -> list[CannedReply]:
    """The canned replies, in the admin's order."""
    return list(CannedReply.objects.all())


def daily_stats(start: date, end: date) -> list[dict]:
    """Per day from `start` to `end` (inclusive, the shop's time zone), of the conversations started
    that day: {"date", "started", "first_response" (mean seconds to the first staff reply, or
    None), "resolution" (mean seconds to closing, or None)}. One query."""
    zone = timezone.get_current_timezone()
    since = timezone.make_aware(datetime.combine(start, time.min), zone)
    until = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), zone)
    rows = (Conversation.objects.filter(created_at__gte=since, created_at__lt=until)
            .annotate(day=TruncDate("created_at", tzinfo=zone)).values("day")
            .annotate(started=Count("pk"), first_response=Avg(F("first_response_at") - F("created_at")),
                      resolution=Avg(F("closed_at") - F("created_at"))).order_by("day"))
    seconds = lambda delta: None if delta is None else round(delta.total_seconds())  # noqa: E731
    return [{"date": row["day"], "started": row["started"], "first_response": seconds(row["first_response"]),
             "resolution": seconds(row["resolution"])} for row in rows]
