"""A sale price must be below the price (issue 22: one selling-price rule).

Rows that break it (a "sale" at or above the price, e.g. Magento's special_price equal to the
price) never sold at that sale price: Variant.unit_price already ignored it. Their sale price is
cleared, so what the shopper pays does not change, then the database refuses new ones."""
from django.db import migrations, models
from django.db.models import F, Q


def clear_sale_prices_not_below_price(apps, schema_editor):
    Variant = apps.get_model("catalog", "Variant")
    Variant.objects.filter(sale_price__gte=F("price")).update(sale_price=None)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_listing_indexes")]

    operations = [
        migrations.RunPython(clear_sale_prices_not_below_price, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="variant",
            constraint=models.CheckConstraint(condition=Q(sale_price__isnull=True) | Q(sale_price__lt=F("price")),
                                              name="variant_sale_below_price"),
        ),
    ]
