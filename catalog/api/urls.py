from django.urls import path
from rest_framework.routers import SimpleRouter

from catalog.images.proxy import ImageProxyView

from . import catalogue, views

router = SimpleRouter()
router.register("products", catalogue.ProductViewSet, basename="api-product")
router.register("variants", catalogue.VariantViewSet, basename="api-variant")
router.register("categories", catalogue.CategoryViewSet, basename="api-category")

urlpatterns = [
    path("inventory/", views.InventorySnapshotView.as_view(), name="inventory-snapshot"),
    path("variants/<int:pk>/stock/", views.VariantStockView.as_view(), name="variant-stock"),
    path("images/proxy", ImageProxyView.as_view(), name="image-proxy"),
    path("products/<int:pk>/images/", views.ProductImageUploadView.as_view(), name="product-image-upload"),
    *router.urls,
]
