from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("vouchers", views.VoucherViewSet, basename="api-voucher")

urlpatterns = router.urls
