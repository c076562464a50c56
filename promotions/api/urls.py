from rest_framework.routers import SimpleRouter

from . import catalogue, views

router = SimpleRouter()
router.register("vouchers", views.VoucherViewSet, basename="api-voucher")
router.register("tax-rates", views.TaxRateViewSet, basename="api-tax-rate")
router.register("promotions", catalogue.PromotionViewSet, basename="api-promotion")
router.register("shipping-zones", views.ShippingZoneViewSet, basename="api-shipping-zone")

urlpatterns = router.urls
