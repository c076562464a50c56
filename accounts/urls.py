"""Account URLs: Django's auth views (login, logout, password change and reset) plus sign-up."""
from django.urls import include, path

from . import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("", include("django.contrib.auth.urls")),
]
