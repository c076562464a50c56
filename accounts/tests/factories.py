"""factory_boy factories for users."""
import factory

from accounts.models import User


class UserFactory(factory.django.DjangoModelFactory):
    """A customer with the password "correct-horse-battery"."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    first_name = "Ann"
    last_name = "Buyer"
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class AnalystFactory(UserFactory):
    """A member of staff who may see the staff and analytics dashboards (accounts.view_dashboard),
    as the "Analysts" group grants; nothing else."""

    email = factory.Sequence(lambda n: f"analyst{n}@example.com")
    is_staff = True

    @factory.post_generation
    def dashboard_permission(obj, create, extracted, **kwargs):
        if create:
            from django.contrib.auth.models import Permission

            obj.user_permissions.add(Permission.objects.get(content_type__app_label="accounts",
                                                            codename="view_dashboard"))
