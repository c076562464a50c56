"""Staff chat pages under /staff/chat/ (accounts.handle_chat): the inbox, a conversation with the
shopper's cart, orders and recently viewed products beside it, and assign / transfer / close /
reopen / reply (the reply form is the no-JS path; the page's script sends over /ws/staff/chat/)."""
from functools import wraps

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import live, selectors, services
from .forms import CloseForm, MessageForm, TransferForm
from .models import Message


def chat_staff_required(view):
    """Staff with accounts.handle_chat only (others: the admin login, or 403)."""
    @staff_member_required
    @permission_required("accounts.handle_chat", raise_exception=True)
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        return view(request, *args, **kwargs)
    return wrapped


@chat_staff_required
def inbox(request: HttpRequest) -> HttpResponse:
    """/staff/chat/?tab=open|mine|closed: conversations with unread counts, and who is online."""
    tab = request.GET.get("tab", "open")
    if tab not in selectors.TABS:
        tab = "open"
    return render(request, "chat/staff_inbox.html", {
        "tab": tab, "conversations": selectors.inbox(tab=tab, staff=request.user)[:100],
        "counts": selectors.inbox_counts(staff=request.user), "online": live.online_staff()})


def _conversation(pk: int):
    conversation = selectors.conversation_for_staff(pk)
    if conversation is None:
        raise Http404("No such conversation")
    return conversation


@chat_staff_required
def conversation_view(request: HttpRequest, pk: int) -> HttpResponse:
    """/staff/chat/<id>/: the transcript (marked read), reply form, canned replies, actions, side panel."""
    conversation = _conversation(pk)
    chat_messages = selectors.messages_since(conversation)
    if chat_messages:
        services.mark_read(conversation=conversation, author=Message.Author.STAFF, up_to=chat_messages[-1].pk)
    return render(request, "chat/staff_conversation.html", {
        "conversation": conversation, "chat_messages": chat_messages, "form": MessageForm(),
        "transfer_form": TransferForm(), "close_form": CloseForm(), "canned": selectors.canned_replies(),
        "online": live.online_staff(), **selectors.side_panel(conversation)})


def _run(request: HttpRequest, pk: int, action, success: str) -> HttpResponse:
    conversation = _conversation(pk)
    try:
        action(conversation)
    except services.ChatError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success)
    return redirect("chat_staff:conversation", pk=pk)


@require_POST
@chat_staff_required
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    """POST /staff/chat/<id>/reply/: send a staff message (the form's path, without JS)."""
    form = MessageForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("body", ["Write a message first."])))
        return redirect("chat_staff:conversation", pk=pk)
    return _run(request, pk, lambda c: services.post_message(
        conversation=c, author=Message.Author.STAFF, user=request.user, body=form.cleaned_data["body"]), "Sent.")


@require_POST
@chat_staff_required
def assign_to_me(request: HttpRequest, pk: int) -> HttpResponse:
    """POST /staff/chat/<id>/assign/: take the conversation."""
    return _run(request, pk, lambda c: services.assign(conversation=c, staff=request.user), "Assigned to you.")


@require_POST
@chat_staff_required
def transfer(request: HttpRequest, pk: int) -> HttpResponse:
    """POST /staff/chat/<id>/transfer/: hand the conversation to another chat staff member."""
    form = TransferForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a member of the chat staff.")
        return redirect("chat_staff:conversation", pk=pk)
    staff = form.cleaned_data["staff"]
    return _run(request, pk, lambda c: services.assign(conversation=c, staff=staff), f"Transferred to {staff}.")


@require_POST
@chat_staff_required
def close(request: HttpRequest, pk: int) -> HttpResponse:
    """POST /staff/chat/<id>/close/: close it, optionally emailing the transcript."""
    form = CloseForm(request.POST)
    send = form.is_valid() and form.cleaned_data["email_transcript"]
    return _run(request, pk, lambda c: services.close(conversation=c, email_transcript=send),
                "Closed; the transcript is on its way." if send else "Closed.")


@require_POST
@chat_staff_required
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    """POST /staff/chat/<id>/reopen/: open a closed conversation again."""
    return _run(request, pk, lambda c: services.reopen(conversation=c), "Reopened.")
