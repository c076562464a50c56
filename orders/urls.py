from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("cart/", views.cart_detail, name="cart"),
    path("cart/mini/", views.mini_cart, name="mini_cart"),
    path("cart/add/", views.cart_add, name="cart_add"),
    path("cart/update/", views.cart_update, name="cart_update"),
    path("cart/voucher/", views.cart_voucher, name="cart_voucher"),
    path("cart/gift-card/", views.cart_gift_card, name="cart_gift_card"),
    path("checkout/", views.checkout_details, name="checkout"),
    path("checkout/review/", views.checkout_review, name="checkout_review"),
    path("checkout/confirmation/<str:number>/", views.checkout_confirmation, name="confirmation"),
    path("checkout/reopen/<str:number>/", views.reopen_order, name="reopen"),
    path("account/orders/", views.OrderListView.as_view(), name="order_list"),
    path("account/orders/<str:number>/", views.OrderDetailView.as_view(), name="order_detail"),
    path("orders/track/<str:token>/", views.guest_order, name="guest_order"),
]
