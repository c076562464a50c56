from django.urls import path

from . import views

urlpatterns = [
    path("overview", views.OverviewView.as_view(), name="analytics-overview"),
    path("revenue", views.RevenueView.as_view(), name="analytics-revenue"),
    path("orders", views.OrdersView.as_view(), name="analytics-orders"),
    path("users", views.UsersView.as_view(), name="analytics-users"),
    path("products", views.ProductsView.as_view(), name="analytics-products"),
    path("query", views.QueryView.as_view(), name="analytics-query"),
]
