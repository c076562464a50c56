"""factory_boy factories and helpers for carts and checkout."""
import factory

from orders.models import Cart, CartLine
from orders.services import CheckoutDetails


class CartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cart


class CartLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CartLine

    cart = factory.SubFactory(CartFactory)
    quantity = 1


def checkout_details(**overrides) -> CheckoutDetails:
    """Valid checkout details for a US address with standard shipping."""
    values = dict(email="guest@example.com", shipping_name="Gale Guest", shipping_line1="1 Main Street",
                  shipping_city="Springfield", shipping_postcode="12345", shipping_country="US",
                  shipping_method="standard")
    return CheckoutDetails(**{**values, **overrides})


def cart_with(*variant_quantities, customer=None) -> Cart:
    """A cart holding the given (variant, quantity) pairs."""
    cart = Cart.objects.create(customer=customer)
    for variant, quantity in variant_quantities:
        CartLine.objects.create(cart=cart, variant=variant, quantity=quantity)
    return cart
