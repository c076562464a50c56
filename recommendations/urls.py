from django.urls import path

from . import views

app_name = "recommendations"
urlpatterns = [
    path("recommendations/product/<int:product_id>/", views.product_rails, name="product_rails"),
]
