from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("", views.staff_dashboard, name="staff_dashboard"),
    path("analytics/", views.analytics_dashboard, name="dashboard"),
    path("analytics/export/<slug:table>.csv", views.analytics_export, name="export"),
]
