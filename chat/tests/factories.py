"""factory_boy factories for chat."""
import factory

from accounts.tests.factories import UserFactory
from chat.models import Conversation, Message


class ChatStaffFactory(UserFactory):
    """A member of staff who may answer chat (accounts.handle_chat), nothing else."""

    email = factory.Sequence(lambda n: f"support{n}@example.com")
    first_name = "Sam"
    is_staff = True

    @factory.post_generation
    def chat_permission(obj, create, extracted, **kwargs):
        if create:
            from django.contrib.auth.models import Permission

            obj.user_permissions.add(Permission.objects.get(content_type__app_label="accounts",
                                                            codename="handle_chat"))


class ConversationFactory(factory.django.DjangoModelFactory):
    """An open guest conversation (no customer) with an email address."""

    class Meta:
        model = Conversation

    email = factory.Sequence(lambda n: f"guest{n}@example.com")


class MessageFactory(factory.django.DjangoModelFactory):
    """A shopper's message."""

    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    author = Message.Author.SHOPPER
    body = "Hello, where is my parcel?"
