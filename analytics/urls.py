from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("", views.staff_dashboard, name="staff_dashboard"),
]
