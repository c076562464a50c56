"""Shopper chat pages: /chat/ (the contact form, which the "Chat with us" panel also loads as a
fragment), attaching an order, and a customer's past conversations."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import live, selectors, services
from .forms import AttachOrderForm, ContactForm


def _panel_context(request: HttpRequest, conversation, form=None) -> dict:
    customer = request.user if request.user.is_authenticated else None
    needs_email = customer is None and not (conversation is not None and conversation.email)
    orders = selectors.customer_orders_for_chat(customer)
    return {
        "conversation": conversation, "form": form or ContactForm(needs_email=needs_email),
        "chat_messages": selectors.messages_since(conversation) if conversation is not None else [],
        "staff_online": live.online_count(),
        "attach_form": AttachOrderForm(orders=orders, initial={"order": conversation.order_id if conversation else None})
        if customer is not None and conversation is not None and conversation.is_open else None,
    }


def contact(request: HttpRequest) -> HttpResponse:
    """/chat/: GET shows the shopper's conversation and the form; POST sends a message (starting a
    conversation when there is none open), then redirects back. With htmx (the chat panel's
    script sends HX-Request) the answer is the panel fragment, 400 when the form has errors."""
    conversation = selectors.shopper_conversation(customer=request.user, session=request.session)
    needs_email = not request.user.is_authenticated and not (conversation is not None and conversation.email)
    form = ContactForm(request.POST or None, needs_email=needs_email)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                sent = services.shopper_message(conversation=conversation, customer=request.user,
                                                session=request.session, body=form.cleaned_data["body"],
                                                email=form.cleaned_data.get("email", ""))
            except services.ChatError as error:
                form.add_error("body", str(error))
            else:
                if not request.htmx:
                    messages.success(request, "Message sent. We will answer here, and by email while no one is online.")
                    return redirect("chat:contact")
                conversation, form = sent.conversation, None
        status = 400 if form is not None and form.errors else 200
    template = "chat/_panel.html" if request.htmx else "chat/contact.html"
    return render(request, template, _panel_context(request, conversation, form), status=status)


@require_POST
@login_required
def attach_order(request: HttpRequest) -> HttpResponse:
    """POST /chat/attach/: attach one of the customer's orders to their open conversation."""
    conversation = selectors.shopper_conversation(customer=request.user, session=request.session)
    form = AttachOrderForm(request.POST, orders=selectors.customer_orders_for_chat(request.user))
    if conversation is None or not form.is_valid():
        messages.error(request, "Choose one of your orders.")
        return redirect("chat:contact")
    try:
        services.attach_order(conversation=conversation, customer=request.user, order_id=form.cleaned_data["order"].pk)
    except services.ChatError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Order {form.cleaned_data['order'].number} attached.")
    return redirect("chat:contact")


@login_required
def history(request: HttpRequest) -> HttpResponse:
    """/chat/history/: the customer's conversations, newest first."""
    return render(request, "chat/history.html", {"conversations": selectors.customer_conversations(request.user)})


@login_required
def transcript(request: HttpRequest, pk: int) -> HttpResponse:
    """/chat/history/<id>/: one of the customer's conversations (404 for anyone else's)."""
    conversation = selectors.customer_conversations(request.user).filter(pk=pk).first()
    if conversation is None:
        raise Http404("No such conversation")
    return render(request, "chat/transcript.html", {"conversation": conversation,
                                                    "chat_messages": selectors.messages_since(conversation)})
