from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("c/<path:path>/", views.category_page, name="category"),
    path("p/<slug:slug>/", views.product_page, name="product"),
    path("search/", views.SearchView.as_view(), name="search"),
]
