"""Product events from Django's model signals. Products have no write service: the admin saves
them through ModelAdmin, the API through its serializer, the importer with Product.objects.create
and save(); each does so inside a transaction (the admin's change view, the API's atomic block,
the importer's), and post_save and pre_delete run inside it, so a rolled-back write sends nothing,
as `publish` requires. Variants are published by catalog.services.broadcast_stock (stock.changed)."""
from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver

from catalog.models import Product

from . import events, services


@receiver(post_save, sender=Product, dispatch_uid="webhooks.product_saved")
def product_saved(sender, instance: Product, created: bool, raw: bool = False, **kwargs) -> None:
    """product.created or product.updated, written with the save (not for fixtures loaded raw)."""
    if not raw:
        events.product_event(product=instance, event_type="product.created" if created else "product.updated")


@receiver(pre_delete, sender=Product, dispatch_uid="webhooks.product_deleted")
def product_deleted(sender, instance: Product, **kwargs) -> None:
    """product.deleted with the product as it was, written in the deleting transaction (Django's
    delete runs pre_delete inside its own atomic block, after the PROTECT checks passed)."""
    services.publish(event_type="product.deleted", data=lambda: events.product_data(instance))
