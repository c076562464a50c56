from django.urls import path

from . import views

urlpatterns = [
    path("inventory/", views.InventorySnapshotView.as_view(), name="inventory-snapshot"),
    path("variants/<int:pk>/stock/", views.VariantStockView.as_view(), name="variant-stock"),
]
