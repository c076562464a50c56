"""Staff API shapes of shipping zones (/api/v1/shipping-zones/): a zone with its methods nested,
each with its weight bands and the products it cannot take. Writes go through
promotions.services.save_shipping_zone; a zone's `methods`, when sent, is its whole list (methods
matched by `code`; one left out is removed). Money is a decimal string in the shop's currency,
weights kg, countries ISO 3166-1 alpha-2 codes."""
from decimal import Decimal

from rest_framework import serializers

from catalog.models import Product
from promotions.models import ShippingMethod, ShippingZone, WeightBand
from promotions.services import InvalidShippingZone, save_shipping_zone, zone_errors
from shop.api_base import StrictJSONModelSerializer

MONEY = {"max_digits": 10, "decimal_places": 2, "min_value": Decimal("0")}


class WeightBandSerializer(StrictJSONModelSerializer):
    """Goods weighing up to `up_to` kg ship for `price`."""

    up_to = serializers.DecimalField(max_digits=8, decimal_places=3, min_value=Decimal("0"))
    price = serializers.DecimalField(**MONEY)

    class Meta:
        model = WeightBand
        fields = ["up_to", "price"]
        validators: list = []  # the method's bands are checked together (ShippingMethodSerializer)


class ShippingMethodSerializer(StrictJSONModelSerializer):
    """A method of the zone: flat `price`, or by `bands` when it has any; free from `free_above`
    (null: never); `excluded_products` (ids) are never offered it."""

    code = serializers.SlugField(max_length=32)
    price = serializers.DecimalField(**MONEY, required=False, default=Decimal("0"))
    free_above = serializers.DecimalField(**MONEY, allow_null=True, required=False, default=None)
    bands = WeightBandSerializer(many=True, required=False, default=list)
    excluded_products = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all(), many=True, required=False,
                                                           default=list)

    class Meta:
        model = ShippingMethod
        fields = ["id", "code", "name", "price", "free_above", "is_active", "position", "bands", "excluded_products"]
        read_only_fields = ["id"]

    def validate_bands(self, bands: list[dict]) -> list[dict]:
        limits = [band["up_to"] for band in bands]
        repeated = sorted({limit for limit in limits if limits.count(limit) > 1})
        if repeated:
            raise serializers.ValidationError(
                f"Weight bands overlap: more than one ends at {', '.join(f'{kg.normalize():f}' for kg in repeated)} "
                "kg. Each band covers the weights above the band before it, up to its own limit.")
        return sorted(bands, key=lambda band: band["up_to"])


class ShippingZoneSerializer(StrictJSONModelSerializer):
    """A shipping zone: `countries` (empty: worldwide), narrowed to `postcode_prefixes` (prefixes
    "BT" or ranges "BT1-BT99", "10000-19999") when given, and its `methods`."""

    countries = serializers.ListField(child=serializers.CharField(max_length=64), required=False, default=list,
                                      help_text='ISO 3166-1 alpha-2 codes, e.g. ["GB", "IE"]; empty for worldwide.')
    postcode_prefixes = serializers.ListField(child=serializers.CharField(max_length=32), required=False,
                                              default=list)
    methods = ShippingMethodSerializer(many=True, required=False)

    class Meta:
        model = ShippingZone
        fields = ["id", "name", "countries", "postcode_prefixes", "position", "methods"]
        read_only_fields = ["id"]

    def validate_countries(self, countries: list[str]) -> list[str]:
        countries = [code.upper() for code in countries]
        if message := zone_errors(countries=countries, postcode_prefixes=[]).get("countries"):
            raise serializers.ValidationError(message)
        return countries

    def validate_postcode_prefixes(self, rules: list[str]) -> list[str]:
        if message := zone_errors(countries=[], postcode_prefixes=rules).get("postcode_prefixes"):
            raise serializers.ValidationError(message)
        return [rule.replace(" ", "").upper() for rule in rules]

    def validate_methods(self, methods: list[dict]) -> list[dict]:
        # The list is the zone's whole list, even in a PATCH (which would not require these).
        missing = {f"{index}.{name}": ["This field is required."] for index, method in enumerate(methods)
                   for name in ("code", "name") if name not in method}
        if missing:
            raise serializers.ValidationError(missing)
        codes = [method["code"] for method in methods]
        if repeated := sorted({code for code in codes if codes.count(code) > 1}):
            raise serializers.ValidationError(f"Each method's code is used once in a zone: {', '.join(repeated)}.")
        return methods

    def create(self, validated_data: dict) -> ShippingZone:
        return self._save(None, validated_data)

    def update(self, instance: ShippingZone, validated_data: dict) -> ShippingZone:
        return self._save(instance, validated_data)

    def _save(self, zone: ShippingZone | None, data: dict) -> ShippingZone:
        try:
            zone = save_shipping_zone(zone=zone, **data)
        except InvalidShippingZone as problem:
            raise serializers.ValidationError({field: [message] for field, message in problem.errors.items()})
        return ShippingZone.objects.prefetch_related("methods__bands", "methods__excluded_products").get(pk=zone.pk)
