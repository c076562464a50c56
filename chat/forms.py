"""Chat forms: validation only (chat.services does the work)."""
from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator

from orders.models import Order

from . import live


class MessageForm(forms.Form):
    """A message: plain text up to settings.CHAT_MAX_MESSAGE_LENGTH characters."""

    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].validators.append(MaxLengthValidator(settings.CHAT_MAX_MESSAGE_LENGTH))
        self.fields["body"].widget.attrs["maxlength"] = settings.CHAT_MAX_MESSAGE_LENGTH


class ContactForm(MessageForm):
    """The shopper's message; a guest starting a conversation also gives their email address, where
    replies go while no one is online."""

    email = forms.EmailField(label="Your email", required=False)

    field_order = ["email", "body"]

    def __init__(self, *args, needs_email: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if needs_email:
            self.fields["email"].required = True
        else:
            del self.fields["email"]


class AttachOrderForm(forms.Form):
    """One of the customer's own orders (others are not offered, and refused by the service)."""

    order = forms.ModelChoiceField(queryset=Order.objects.none(), label="Order", empty_label=None)

    def __init__(self, *args, orders=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["order"].queryset = orders


class StaffChoiceField(forms.ModelChoiceField):
    """Staff shown by name."""

    def label_from_instance(self, obj) -> str:
        """The member's full name, else their email."""
        return obj.display_name


class TransferForm(forms.Form):
    """Another member of the chat staff to hand the conversation to."""

    staff = StaffChoiceField(queryset=None, label="Transfer to", empty_label=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = live.chat_staff()


class CloseForm(forms.Form):
    """Close a conversation, optionally emailing its transcript to the shopper."""

    email_transcript = forms.BooleanField(label="Email the transcript to the shopper", required=False)
