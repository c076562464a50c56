"""Today's flat rates (settings.SHOP_SHIPPING_RATES, "code:label:price,...") become the methods of
a default worldwide zone, so that a shop migrated from flat rates ships and charges as before."""
from django.conf import settings
from django.db import migrations


def seed_worldwide_zone(apps, schema_editor):
    ShippingZone = apps.get_model("promotions", "ShippingZone")
    ShippingMethod = apps.get_model("promotions", "ShippingMethod")
    if ShippingZone.objects.exists():
        return
    zone = ShippingZone.objects.create(name="Worldwide", countries=[], postcode_prefixes=[], position=100)
    for position, (code, (name, price)) in enumerate(settings.SHOP_SHIPPING_RATES.items()):
        ShippingMethod.objects.create(zone=zone, code=code, name=name, price=price, position=position)


def remove_worldwide_zone(apps, schema_editor):
    apps.get_model("promotions", "ShippingZone").objects.filter(name="Worldwide", countries=[]).delete()


class Migration(migrations.Migration):
    dependencies = [("promotions", "0001_initial")]

    operations = [migrations.RunPython(seed_worldwide_zone, remove_worldwide_zone)]
