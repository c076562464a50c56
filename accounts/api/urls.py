from django.urls import path

from . import views

urlpatterns = [
    path("auth/register", views.RegisterView.as_view(), name="api-register"),
    path("auth/token", views.TokenView.as_view(), name="api-token"),
    path("auth/token/refresh", views.TokenRefreshView.as_view(), name="api-token-refresh"),
    path("auth/logout", views.LogoutView.as_view(), name="api-logout"),
    path("auth/me", views.MeView.as_view(), name="api-me"),
]
