"""What the shopper types at checkout (orders.services.place_order takes it)."""
from dataclasses import dataclass, field

from .addresses import format_lines


@dataclass(frozen=True)
class CheckoutDetails:
    """What the shopper types at checkout: contact, shipping address and shipping method code, and
    a billing address ({"name", "line1", "line2", "city", "postcode", "country", "phone"}) when it
    is not the shipping address."""

    email: str
    shipping_name: str
    shipping_line1: str
    shipping_city: str
    shipping_postcode: str
    shipping_country: str
    shipping_method: str
    shipping_line2: str = ""
    shipping_region: str = ""
    phone: str = ""
    billing_address: dict = field(default_factory=dict)

    @property
    def shipping_address_lines(self) -> list[str]:
        """The shipping address as its country writes it, one string per line (orders.addresses)."""
        return format_lines(name=self.shipping_name, line1=self.shipping_line1, line2=self.shipping_line2,
                            city=self.shipping_city, postcode=self.shipping_postcode, region=self.shipping_region,
                            country=self.shipping_country)
