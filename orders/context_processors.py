"""The header's cart badge."""
from django.http import HttpRequest

from . import selectors


def cart(request: HttpRequest) -> dict:
    """`cart_item_count`: total units in the shopper's cart, computed only when a template asks."""
    return {"cart_item_count": lambda: selectors.cart_item_count(request)}
