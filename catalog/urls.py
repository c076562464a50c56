from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("c/<path:path>/", views.CategoryView.as_view(), name="category"),
    path("p/<slug:slug>/", views.ProductDetailView.as_view(), name="product"),
    path("search/", views.SearchView.as_view(), name="search"),
]
