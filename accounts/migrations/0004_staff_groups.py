"""Staff roles as Django groups, with their model permissions:

- "Catalogue managers": categories, products, variants (stock), images and reviews;
- "Order managers": orders (with lines, timeline, carts) and customers (users, addresses, wishlists);
- "Analysts": the staff dashboard only (accounts.view_dashboard).

A staff member gets a role by being `is_staff` and in the group; the admin and the staff pages
check these permissions. Re-running is harmless (the groups are set to exactly these permissions).
"""
from django.contrib.auth.management import create_permissions
from django.db import migrations

ALL = ("add", "change", "delete", "view")

ROLES = {
    "Catalogue managers": {
        ("catalog", "category"): ALL, ("catalog", "product"): ALL, ("catalog", "variant"): ALL,
        ("catalog", "productimage"): ALL, ("catalog", "rendition"): ("view",), ("catalog", "review"): ALL,
    },
    "Order managers": {
        ("orders", "order"): ("view", "change"), ("orders", "orderline"): ("view",),
        ("orders", "orderstatuschange"): ("view",), ("orders", "cart"): ("view",), ("orders", "cartline"): ("view",),
        ("accounts", "user"): ("view", "change"), ("accounts", "address"): ALL, ("accounts", "wishlistitem"): ("view",),
    },
    "Analysts": {},
}
EXTRA = {"Analysts": [("accounts", "view_dashboard")]}


def create_roles(apps, schema_editor):
    # Permissions are normally made after all migrations (post_migrate); make them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, models in ROLES.items():
        codenames = [(app, f"{action}_{model}") for (app, model), actions in models.items() for action in actions]
        codenames += EXTRA.get(name, [])
        permissions = [Permission.objects.get(content_type__app_label=app, codename=codename)
                       for app, codename in codenames]
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLES)).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0003_customer_features"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("catalog", "0004_review_featured_verified"),
        ("orders", "0002_order_lifecycle"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
