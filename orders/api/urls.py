from django.urls import path
from rest_framework.routers import SimpleRouter

from payments.api import StaffRefundView

from . import views

router = SimpleRouter()
router.register("orders", views.OrderViewSet, basename="api-order")
router.register("admin/orders", views.StaffOrderViewSet, basename="api-admin-order")
router.register("admin/customers", views.StaffCustomerViewSet, basename="api-admin-customer")

urlpatterns = [
    path("admin/orders/<str:number>/status", views.StaffOrderStatusView.as_view(), name="api-admin-order-status"),
    path("admin/orders/<str:number>/refund", StaffRefundView.as_view(), name="api-admin-order-refund"),
    *router.urls,
]
