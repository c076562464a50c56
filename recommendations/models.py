"""Recommendations as served: computed by recommendations.services.build (Celery, or
`manage.py build_recommendations`) and stored, so that a page or the API reads them with one
indexed query."""
from django.db import models

from catalog.models import Product


class Recommendation(models.Model):
    """`recommended` shown beside `product` for one `kind` of reason, at `rank` (0 first), with the
    algorithm's `score` (cosine over customers for also-bought, over TF-IDF texts for similar), a `reason` a person
    can read and a `confidence` in [0, 1]."""

    class Kind(models.TextChoices):
        ALSO_BOUGHT = "also_bought", "Customers also bought"
        SIMILAR = "similar", "Similar products"

    product = models.ForeignKey(Product, related_name="+", on_delete=models.CASCADE)
    recommended = models.ForeignKey(Product, related_name="+", on_delete=models.CASCADE)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    rank = models.PositiveSmallIntegerField()
    score = models.FloatField()
    confidence = models.FloatField()
    reason = models.CharField(max_length=255)

    class Meta:
        ordering = ["product", "kind", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["product", "kind", "recommended"], name="recommendation_unique"),
            models.CheckConstraint(condition=~models.Q(product=models.F("recommended")),
                                   name="recommendation_not_itself"),
        ]
        indexes = [models.Index(fields=["product", "kind", "rank"], name="recommendation_served")]

    def __str__(self) -> str:
        return f"{self.product_id} -> {self.recommended_id} ({self.kind} #{self.rank})"


class Rule(models.Model):
    """Staff merchandising for one product's recommendations: `pin` shows `recommended` first beside
    `product` (hand-picked, in the order pinned), `block` never shows it there."""

    class Action(models.TextChoices):
        PIN = "pin", "Pin (show first)"
        BLOCK = "block", "Block (never show)"

    product = models.ForeignKey(Product, related_name="+", on_delete=models.CASCADE)
    recommended = models.ForeignKey(Product, related_name="+", on_delete=models.CASCADE)
    action = models.CharField(max_length=8, choices=Action.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["product", "created_at", "pk"]
        verbose_name = "merchandising rule"
        constraints = [
            models.UniqueConstraint(fields=["product", "recommended"], name="recommendation_rule_unique"),
            models.CheckConstraint(condition=~models.Q(product=models.F("recommended")),
                                   name="recommendation_rule_not_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.recommended} beside {self.product}"
