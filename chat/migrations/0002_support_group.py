"""The "Support agents" staff role (issue 29): answer chat (accounts.handle_chat) and look at
conversations and canned replies in the admin, and edit the canned replies. A staff member gets
the role by being `is_staff` and in the group, as with the roles of accounts 0004. Re-running is
harmless (the group is set to exactly these permissions)."""
from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Support agents"
PERMISSIONS = [("accounts", "handle_chat"), ("chat", "view_conversation"), ("chat", "view_message"),
               ("chat", "view_cannedreply"), ("chat", "add_cannedreply"), ("chat", "change_cannedreply"),
               ("chat", "delete_cannedreply")]


def create_group(apps, schema_editor):
    # Permissions are normally made after all migrations (post_migrate); make them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.set([Permission.objects.get(content_type__app_label=app, codename=codename)
                           for app, codename in PERMISSIONS])


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("chat", "0001_initial"),
        ("accounts", "0007_handle_chat_permission"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
