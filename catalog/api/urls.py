from django.urls import path

from . import views
from .proxy import ImageProxyView

urlpatterns = [
    path("inventory/", views.InventorySnapshotView.as_view(), name="inventory-snapshot"),
    path("variants/<int:pk>/stock/", views.VariantStockView.as_view(), name="variant-stock"),
    path("images/proxy", ImageProxyView.as_view(), name="image-proxy"),
    path("products/<int:pk>/images/", views.ProductImageUploadView.as_view(), name="product-image-upload"),
]
