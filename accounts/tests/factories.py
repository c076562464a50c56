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
