"""Chat pages through the Django client, and the services' rules: the contact form without JS,
the staff inbox and its permissions, a guest conversation following login, offline replies and
transcripts by email through the outbox, attaching only one's own order, the analytics figures."""
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.tests.factories import AnalystFactory, UserFactory
from chat import live, selectors, services
from chat.models import CannedReply, Conversation, Message
from orders.tests.factories import OrderFactory

from .factories import ChatStaffFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


def test_contact_form_without_js_starts_a_conversation(client):
    page = client.get("/chat/")
    assert page.status_code == 200
    assert b'name="email"' in page.content  # a guest gives their address
    response = client.post("/chat/", {"email": "ann@example.com",
                                      "body": "<script>alert(1)</script> see https://example.com/x"})
    assert response.status_code == 302 and response["Location"] == "/chat/"
    conversation = Conversation.objects.get()
    assert (conversation.email, conversation.customer, conversation.status) == ("ann@example.com", None, "open")
    assert client.session[services.SESSION_KEY] == conversation.pk
    page = client.get("/chat/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<a href="https://example.com/x" rel="nofollow">https://example.com/x</a>' in page
    # The second message goes into the same conversation, and no email is asked for again.
    assert b'name="email"' not in client.get("/chat/").content
    client.post("/chat/", {"body": "Any news?"})
    assert list(conversation.messages.values_list("body", flat=True))[-1] == "Any news?"


def test_contact_form_errors_are_form_errors(client, settings):
    settings.CHAT_MAX_MESSAGE_LENGTH = 20
    response = client.post("/chat/", {"email": "", "body": "Hello"})
    assert response.status_code == 400 and b"This field is required" in response.content
    response = client.post("/chat/", {"email": "a@example.com", "body": "x" * 21})
    assert response.status_code == 400
    response = client.post("/chat/", {"email": "a@example.com", "body": "   "}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert not Conversation.objects.exists()


def test_panel_fragment_for_the_script(client):
    response = client.post("/chat/", {"email": "ann@example.com", "body": "Hi"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"data-chat-box" in response.content and b"<html" not in response.content
    assert b"No one is online" in response.content


def test_every_storefront_page_has_the_chat_button(client):
    page = client.get("/").content.decode()
    assert 'href="/chat/" data-chat-open' in page and "js/chat.js" in page


def test_guest_conversation_follows_the_shopper_when_they_log_in(client):
    client.post("/chat/", {"email": "guest@example.com", "body": "Before logging in"})
    customer = UserFactory()
    client.force_login(customer)  # login() cycles the session key; the conversation id survives
    conversation = Conversation.objects.get()
    assert conversation.customer == customer
    assert selectors.shopper_conversation(customer=customer, session=client.session) == conversation
    history = client.get("/chat/history/")
    assert b"1 message" in history.content
    assert client.get(f"/chat/history/{conversation.pk}/").status_code == 200


def test_customers_see_only_their_own_transcripts(client):
    mine, theirs = UserFactory(), UserFactory()
    other = ConversationFactory(customer=theirs)
    client.force_login(mine)
    assert client.get(f"/chat/history/{other.pk}/").status_code == 404
    assert client.get("/chat/history/").status_code == 200


def test_guest_conversation_is_not_found_after_it_moved_to_a_customer():
    conversation = ConversationFactory(customer=UserFactory())
    assert selectors.shopper_conversation(customer=None, session={services.SESSION_KEY: conversation.pk}) is None


def test_staff_inbox_lists_unread_and_presence(client):
    staff = ChatStaffFactory()
    conversation = ConversationFactory()
    MessageFactory(conversation=conversation)
    MessageFactory(conversation=conversation, body="Hello?")
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=timezone.now())
    live.mark_online(staff.pk)
    client.force_login(staff)
    page = client.get("/staff/chat/")
    assert page.status_code == 200
    row = selectors.inbox(tab="open", staff=staff).get()
    assert row.unread == 2
    assert selectors.inbox_counts(staff=staff) == {"open": 1, "mine": 0, "closed": 0, "unread": 1}
    assert b"Online: <span data-staff-presence-names>Sam</span>" in page.content
    assert client.get("/staff/chat/?tab=mine").status_code == 200
    assert client.get("/staff/chat/?tab=bogus").status_code == 200
    # Opening the conversation marks it read.
    assert client.get(f"/staff/chat/{conversation.pk}/").status_code == 200
    assert selectors.inbox(tab="open", staff=staff).get().unread == 0


def test_staff_pages_need_the_chat_permission(client):
    conversation = ConversationFactory()
    assert client.get("/staff/chat/").status_code == 302  # to the admin login
    client.force_login(UserFactory())
    assert client.get("/staff/chat/").status_code == 302
    client.force_login(AnalystFactory())  # staff without accounts.handle_chat
    assert client.get("/staff/chat/").status_code == 403
    assert client.post(f"/staff/chat/{conversation.pk}/close/").status_code == 403
    assert Conversation.objects.get().is_open


def test_staff_conversation_page_shows_the_side_panel_and_canned_replies(client):
    customer = UserFactory()
    order = OrderFactory(customer=customer, number="SY-SIDE-1")
    conversation = ConversationFactory(customer=customer, order=order)
    MessageFactory(conversation=conversation)
    CannedReply.objects.create(title="Shipping times", body="We ship within 2 days.")
    client.force_login(ChatStaffFactory())
    page = client.get(f"/staff/chat/{conversation.pk}/").content.decode()
    assert "SY-SIDE-1" in page and "(asked about)" in page
    assert "We ship within 2 days." in page
    assert "Empty cart." in page


def test_staff_assign_transfer_close_and_reply_without_js(client, django_capture_on_commit_callbacks):
    staff, colleague = ChatStaffFactory(), ChatStaffFactory()
    conversation = ConversationFactory()
    MessageFactory(conversation=conversation)
    client.force_login(staff)
    base = f"/staff/chat/{conversation.pk}/"
    client.post(base + "assign/")
    assert Conversation.objects.get().assigned_to == staff
    client.post(base + "transfer/", {"staff": colleague.pk})
    assert Conversation.objects.get().assigned_to == colleague
    client.post(base + "transfer/", {"staff": UserFactory().pk})  # not chat staff: refused by the form
    assert Conversation.objects.get().assigned_to == colleague
    client.post(base + "reply/", {"body": "On it"})
    assert Message.objects.filter(author="staff", body="On it").exists()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(base + "close/", {"email_transcript": "on"})
    closed = Conversation.objects.get()
    assert closed.status == "closed" and closed.closed_at is not None
    transcript, = mail.outbox
    assert transcript.to == [conversation.email] and "On it" in transcript.body
    response = client.post(base + "reply/", {"body": "Too late"}, follow=True)
    assert b"This conversation is closed." in response.content


def test_staff_reply_is_emailed_when_the_shopper_wrote_while_no_one_was_online(django_capture_on_commit_callbacks):
    staff = ChatStaffFactory()
    conversation = services.start_conversation(customer=None, session=None, body="Anyone there?",
                                               email="late@example.com")
    assert Conversation.objects.get().email_replies is True
    with django_capture_on_commit_callbacks(execute=True):
        services.post_message(conversation=conversation, author="staff", user=staff, body="Yes: see https://x.test")
    reply, = mail.outbox
    assert reply.to == ["late@example.com"] and "Yes: see https://x.test" in reply.body
    assert '<a href="https://x.test"' in reply.alternatives[0][0]


def test_no_email_while_staff_are_online(django_capture_on_commit_callbacks):
    staff = ChatStaffFactory()
    live.mark_online(staff.pk)
    conversation = services.start_conversation(customer=None, session=None, body="Hi", email="now@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        services.post_message(conversation=conversation, author="staff", user=staff, body="Hello!")
    assert mail.outbox == []
    live.mark_offline(staff.pk)


def test_only_the_shoppers_own_order_can_be_attached(client):
    customer = UserFactory()
    mine, not_mine = OrderFactory(customer=customer), OrderFactory(customer=UserFactory())
    conversation = ConversationFactory(customer=customer)
    with pytest.raises(services.NotAllowed):
        services.attach_order(conversation=conversation, customer=customer, order_id=not_mine.pk)
    with pytest.raises(services.NotAllowed):
        services.attach_order(conversation=conversation, customer=None, order_id=mine.pk)
    client.force_login(customer)
    client.post("/chat/attach/", {"order": not_mine.pk})
    assert Conversation.objects.get().order is None
    client.post("/chat/attach/", {"order": mine.pk})
    assert Conversation.objects.get().order == mine


def test_daily_stats_count_starts_first_response_and_resolution_times():
    now = timezone.now()
    answered = ConversationFactory()
    Conversation.objects.filter(pk=answered.pk).update(
        created_at=now - timedelta(hours=2), first_response_at=now - timedelta(hours=2) + timedelta(seconds=90),
        closed_at=now - timedelta(hours=1), status="closed")
    ConversationFactory()  # not answered yet
    today = timezone.localdate()
    rows = selectors.daily_stats(today - timedelta(days=1), today)
    assert sum(row["started"] for row in rows) == 2
    assert any(row["first_response"] == 90 for row in rows)
    assert any(row["resolution"] == 3600 for row in rows)


def test_analytics_dashboard_shows_support_chat_per_day(client):
    conversation = ConversationFactory()
    Conversation.objects.filter(pk=conversation.pk).update(first_response_at=conversation.created_at + timedelta(seconds=75))
    client.force_login(AnalystFactory())
    page = client.get("/staff/analytics/?range=7").content.decode()
    assert "Support chat" in page and "1 min" in page


def test_side_panel_reads_a_guests_cart_from_their_session(client):
    from catalog.tests.factories import VariantFactory
    from orders.carts import SESSION_CART_KEY
    from orders.tests.factories import CartFactory, CartLineFactory

    client.post("/chat/", {"email": "cart@example.com", "body": "Is this in stock?"})
    cart = CartFactory()
    CartLineFactory(cart=cart, variant=VariantFactory(), quantity=2)
    session = client.session
    session[SESSION_CART_KEY] = cart.pk
    session.save()
    panel = selectors.side_panel(Conversation.objects.get())
    assert [line.quantity for line in panel["cart_lines"]] == [2]
    assert panel["recently_viewed"] == []


def test_a_message_after_closing_starts_a_new_conversation_with_the_same_address(client):
    client.post("/chat/", {"email": "back@example.com", "body": "First"})
    first = Conversation.objects.get()
    services.close(conversation=first)
    assert b'name="email"' not in client.get("/chat/").content
    client.post("/chat/", {"body": "Second question"})
    second = Conversation.objects.exclude(pk=first.pk).get()
    assert (second.email, second.is_open, client.session[services.SESSION_KEY]) == ("back@example.com", True, second.pk)
    client.force_login(ChatStaffFactory())
    client.post(f"/staff/chat/{first.pk}/reopen/")
    assert Conversation.objects.get(pk=first.pk).is_open


def test_inbox_costs_the_same_queries_for_one_or_many_conversations(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    staff = ChatStaffFactory()
    client.force_login(staff)
    MessageFactory()
    client.get("/staff/chat/")  # warm: the header's category tree, the site settings
    with CaptureQueriesContext(connection) as one:
        assert client.get("/staff/chat/").status_code == 200
    for _ in range(5):
        MessageFactory(conversation=ConversationFactory(assigned_to=staff))
    with CaptureQueriesContext(connection) as many:
        assert client.get("/staff/chat/").status_code == 200
    assert len(many) == len(one)


def test_support_agents_role_answers_chat(client):
    from django.contrib.auth.models import Group

    agent = UserFactory(is_staff=True)
    agent.groups.add(Group.objects.get(name="Support agents"))
    client.force_login(agent)
    assert client.get("/staff/chat/").status_code == 200
    assert client.get("/admin/chat/cannedreply/").status_code == 200
    assert [user.pk for user in live.chat_staff()] == [agent.pk]
