"""Chat URLs: the shopper's /chat/ pages and the staff's /staff/chat/ (shop/urls.py mounts both)."""
from django.urls import path

from . import staff_views, views

app_name = "chat"

urlpatterns = [
    path("", views.contact, name="contact"),
    path("attach/", views.attach_order, name="attach_order"),
    path("history/", views.history, name="history"),
    path("history/<int:pk>/", views.transcript, name="transcript"),
]

staff_urlpatterns = ([
    path("", staff_views.inbox, name="inbox"),
    path("<int:pk>/", staff_views.conversation_view, name="conversation"),
    path("<int:pk>/reply/", staff_views.reply, name="reply"),
    path("<int:pk>/assign/", staff_views.assign_to_me, name="assign"),
    path("<int:pk>/transfer/", staff_views.transfer, name="transfer"),
    path("<int:pk>/close/", staff_views.close, name="close"),
    path("<int:pk>/reopen/", staff_views.reopen, name="reopen"),
], "chat_staff")
