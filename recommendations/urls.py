from django.urls import path

from . import views

app_name = "recommendations"
urlpatterns = [
    path("recommendations/product/<int:product_id>/", views.product_rails, name="product_rails"),
    path("recommendations/cart/", views.cart_rail, name="cart"),
    path("recommendations/for-you/", views.for_you, name="for_you"),
]
