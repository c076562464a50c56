from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("webhooks", views.EndpointViewSet, basename="api-webhook")

urlpatterns = router.urls
