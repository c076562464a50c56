from django.urls import path

from . import views

app_name = "payments"

urlpatterns = [
    path("payments/stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
    path("payments/test/<str:session_id>/", views.test_page, name="test_page"),
    path("payments/retry/<str:number>/", views.retry, name="retry"),
]
