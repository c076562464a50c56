from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("gift-cards", views.GiftCardViewSet, basename="api-gift-card")

urlpatterns = router.urls
