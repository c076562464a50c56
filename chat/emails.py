"""Chat emails, sent once after commit by the outbox:

- "chat.reply_email" {"message_id"}: a staff reply to a shopper who wrote while no staff was online;
- "chat.transcript_email" {"conversation_id"}: the whole conversation, when staff close it with
  "email the transcript".

Templates: templates/emails/chat_reply*.{txt,html} and chat_transcript*.
"""
from django.urls import reverse

from outbox.registry import handles
from shop.mail import absolute_url, send_templated_email

from .models import Conversation, Message


@handles("chat.reply_email")
def reply_email(*, message_id: int) -> None:
    """Outbox handler: email staff message `message_id` to its conversation's shopper (nothing when
    the message or the address is gone)."""
    message = Message.objects.select_related("conversation__customer", "author_user").filter(pk=message_id).first()
    if message is None or not message.conversation.reply_to:
        return
    send_templated_email(to=message.conversation.reply_to, template="chat_reply", context={
        "message": message, "conversation": message.conversation, "link": absolute_url(reverse("chat:contact"))})


@handles("chat.transcript_email")
def transcript_email(*, conversation_id: int) -> None:
    """Outbox handler: email conversation `conversation_id`'s transcript to its shopper."""
    conversation = Conversation.objects.select_related("customer").filter(pk=conversation_id).first()
    if conversation is None or not conversation.reply_to:
        return
    send_templated_email(to=conversation.reply_to, template="chat_transcript", context={
        "conversation": conversation, "messages": list(conversation.messages.select_related("author_user"))})
