from django.apps import AppConfig


class PromotionsConfig(AppConfig):
    """Commerce rules priced by orders.pricing: tax rates, shipping zones and methods, vouchers,
    and catalogue promotions (promotions.sales)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "promotions"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from catalog.models import Variant

        from . import sales
        from .models import Promotion

        # A promotion saved, deleted or given other targets (the admin, the API, the shell): every
        # variant's winner again, after commit.
        def promotions_changed(sender, **kwargs):
            sales.apply_promotions_on_commit()

        post_save.connect(promotions_changed, sender=Promotion, dispatch_uid="promotion-saved")
        post_delete.connect(promotions_changed, sender=Promotion, dispatch_uid="promotion-deleted")
        for field in ("variants", "products", "categories"):
            m2m_changed.connect(promotions_changed, sender=getattr(Promotion, field).through,
                                dispatch_uid=f"promotion-{field}")

        # A variant saved with its price (or created): its promoted price is worked out again.
        def variant_saved(sender, instance, update_fields=None, **kwargs):
            if update_fields is None or "price" in update_fields:
                sales.apply_promotions_on_commit(variant_ids=[instance.pk])

        post_save.connect(variant_saved, sender=Variant, dispatch_uid="promotion-variant-saved")
