"""Account URLs: Django's auth views (login, logout, password change and reset) plus sign-up,
email verification, profile, address book, wishlist and reviews."""
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views
from .forms import ShopPasswordResetForm

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/done/", views.signup_done, name="signup_done"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/link/<str:code>/", views.LoginView.as_view(), name="login_link"),
    path("verify/resend/", views.resend_verification, name="resend_verification"),
    path("verify/<str:token>/", views.verify_email, name="verify_email"),
    path("profile/", views.account, name="account"),
    path("addresses/", views.address_list, name="address_list"),
    path("addresses/new/", views.address_edit, name="address_new"),
    path("addresses/<int:pk>/", views.address_edit, name="address_edit"),
    path("addresses/<int:pk>/delete/", views.address_delete, name="address_delete"),
    path("wishlist/", views.wishlist, name="wishlist"),
    path("wishlist/add/", views.wishlist_add, name="wishlist_add"),
    path("wishlist/remove/", views.wishlist_remove, name="wishlist_remove"),
    path("wishlist/to-cart/", views.wishlist_to_cart, name="wishlist_to_cart"),
    path("reviews/<slug:slug>/", views.review_create, name="review_create"),
    path("password_reset/", auth_views.PasswordResetView.as_view(form_class=ShopPasswordResetForm),
         name="password_reset"),
    path("", include("django.contrib.auth.urls")),
]
