"""Account API input and output. Sign-up rules (Django's password validators) live in
accounts.forms.SignUpForm; the register serializer runs that form, it does not repeat it."""
from django.contrib.auth.models import update_last_login
from django.core.exceptions import ObjectDoesNotExist
from rest_framework import exceptions, serializers
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.serializers import TokenObtainSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.forms import SignUpForm
from accounts.login_guard import LoginLinkRequired, check_login
from accounts.models import User
from shop.api_base import StrictJSONSerializer

TAKEN_EMAIL = "An account with this email already exists. Log in or reset your password."


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
        if User.objects.filter(email__iexact=form.cleaned_data["email"]).exists():
            raise serializers.ValidationError({"email": [TAKEN_EMAIL]})
        return {**attrs, "email": form.cleaned_data["email"]}


class UserSerializer(serializers.ModelSerializer):
    """The logged-in user as the API shows them. Nothing here can be written through the API."""

    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "is_staff", "date_joined"]
        read_only_fields = fields


class LogoutSerializer(StrictJSONSerializer):
    refresh = serializers.CharField(help_text="The refresh token to revoke.")


class LoginLinkRequiredError(exceptions.PermissionDenied):
    """403: the password was right, but the account needs its emailed login code too."""

    default_code = "login_link_required"


class TokenPairSerializer(TokenObtainSerializer):
    """Email and password (and, for a guarded account, the emailed `login_code`) for an access
    and a refresh token. simplejwt's pair serializer, with accounts.login_guard.check_login between
    the password check and the tokens."""

    token_class = RefreshToken
    login_code = serializers.CharField(
        required=False, allow_blank=True, write_only=True, max_length=1000,
        help_text="Only after a 403 login_link_required: the code from the login email, sent with the password.")
    refresh = serializers.CharField(read_only=True)
    access = serializers.CharField(read_only=True)

    def validate(self, attrs: dict) -> dict:
        data = super().validate(attrs)  # authenticates (and counts failures): self.user
        try:
            check_login(user=self.user, code=attrs.get("login_code", ""))
        except LoginLinkRequired as error:
            raise LoginLinkRequiredError(str(error)) from None
        refresh = self.get_token(self.user)
        data.update(refresh=str(refresh), access=str(refresh.access_token))
        if api_settings.UPDATE_LAST_LOGIN:
            update_last_login(None, self.user)  # also ends the login code's single use
        return data


class RefreshSerializer(TokenRefreshSerializer):
    """simplejwt's refresh, where a token whose account was deleted is a 401 like any other
    invalid token (simplejwt looks the user up with .get() and would raise)."""

    def validate(self, attrs: dict) -> dict:
        try:
            return super().validate(attrs)
        except ObjectDoesNotExist:
            raise InvalidToken("The account of this token no longer exists.") from None
