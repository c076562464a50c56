"""Account API input and output. Sign-up rules (email not taken, Django's password validators)
live in accounts.forms.SignUpForm; the register serializer runs that form, it does not repeat it."""
from rest_framework import serializers

from accounts.forms import SignUpForm
from accounts.models import User
from shop.api_base import StrictJSONSerializer


class RegisterSerializer(StrictJSONSerializer):
    """A new customer: email (the login), password, optional names."""

    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"},
                                     help_text="Checked by the shop's password rules (length, not common, ...).")
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict) -> dict:
        form = SignUpForm(data={"email": attrs["email"], "first_name": attrs["first_name"],
                                "last_name": attrs["last_name"], "password1": attrs["password"],
                                "password2": attrs["password"]})
        if not form.is_valid():
            errors = {("password" if name in ("password1", "password2") else name): list(messages)
                      for name, messages in form.errors.items()}
            raise serializers.ValidationError(errors)
        return {**attrs, "email": form.cleaned_data["email"]}


class UserSerializer(serializers.ModelSerializer):
    """The logged-in user as the API shows them. Nothing here can be written through the API."""

    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "is_staff", "date_joined"]
        read_only_fields = fields


class LogoutSerializer(StrictJSONSerializer):
    refresh = serializers.CharField(help_text="The refresh token to revoke.")
