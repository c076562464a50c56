"""Sign-up, log-in and account forms."""
from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm, PasswordResetForm

from orders.addresses import postcode_help, region_help
from orders.forms import COUNTRIES, AddressFormMixin

from .models import Address, User


class SignUpForm(BaseUserCreationForm):
    """A new customer account: email, names and a password checked by Django's validators.

    Whether the email is taken is not the form's business: the HTML sign-up answers the same either
    way (accounts.services.sign_up), and the API says so (RegisterSerializer)."""

    class Meta:
        model = User
        fields = ("email", "first_name", "last_name")

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def validate_unique(self) -> None:
        """No "already exists" error from the model form (see the class docstring)."""


class LoginGuardMixin:
    """Adds the login guard (accounts.login_guard) to an AuthenticationForm: once the password is
    right, a guarded account also needs the emailed login code, else the form fails saying that a
    link was emailed. The code comes in the hidden `login_code` field (the link's page fills it)."""

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        from .login_guard import LoginLinkRequired, check_login

        request = self.request
        next_url = (request.POST.get("next") or request.GET.get("next") or "") if request is not None else ""
        try:
            check_login(user=user, code=self.cleaned_data.get("login_code", ""), next_url=next_url)
        except LoginLinkRequired as error:
            raise forms.ValidationError(str(error), code="login_link_required") from None


class LoginForm(LoginGuardMixin, AuthenticationForm):
    """The shop's log-in form: email and password (and, from a login link, its code). A failed
    log-in says how a customer of the shop's imported history gets in (their account has no
    password until they set one through a reset link); the same words for everyone, so it tells
    nobody whether an account exists."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Please enter a correct email and password. Bought from us before our web shop "
                         "opened? Your account has no password yet: set one with “Forgot your password?”.",
    }

    login_code = forms.CharField(required=False, max_length=1000, widget=forms.HiddenInput)


class AdminLoginForm(LoginGuardMixin, AdminAuthenticationForm):
    """The admin's log-in form (AdminSite.login_form). It takes no code: a guarded account's link
    leads to the shop's log-in page, going on to the admin."""


class ProfileForm(forms.Form):
    """Name and email. A new email is changed only once its verification link is opened."""

    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(help_text="A new address is used once you open the link we send to it.")


class AddressForm(AddressFormMixin, forms.ModelForm):
    """One address of the address book, checked against its country's rules as at checkout."""

    country = forms.ChoiceField(choices=COUNTRIES)

    class Meta:
        model = Address
        fields = ["name", "country", "line1", "line2", "city", "region", "postcode", "phone", "is_default_shipping",
                  "is_default_billing"]
        help_texts = {"region": region_help(), "postcode": postcode_help()}


class ReviewForm(forms.Form):
    """A customer's review: 1-5 stars, a title and a body."""

    rating = forms.TypedChoiceField(choices=[(n, f"{n} star{'s' if n > 1 else ''}") for n in range(5, 0, -1)],
                                    coerce=int, widget=forms.RadioSelect)
    title = forms.CharField(max_length=120)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), max_length=5000)


class WishlistForm(forms.Form):
    """A product and, optionally, a variant chosen directly or by size and colour."""

    product = forms.IntegerField(widget=forms.HiddenInput)
    variant = forms.IntegerField(required=False, widget=forms.HiddenInput)
    size = forms.CharField(required=False, max_length=32)
    colour = forms.CharField(required=False, max_length=32)


class ShopPasswordResetForm(PasswordResetForm):
    """Django's reset form, but the email is an outbox message, sent after commit (no request Host
    header in the link: it is built on SHOP_BASE_URL). Unknown emails get no email and the same
    answer, as in Django."""

    def save(self, *args, **kwargs) -> None:
        from outbox import services as outbox

        for user in self.get_users(self.cleaned_data["email"]):
            outbox.enqueue(kind="accounts.password_reset_email", payload={"user_id": user.pk})

    def get_users(self, email: str):
        """The active accounts of `email` that may get a reset link (accounts.services.may_reset_password:
        imported customers too, though they have no usable password yet)."""
        from .services import may_reset_password

        return (user for user in User.objects.filter(email__iexact=email, is_active=True)
                if may_reset_password(user) and user.email.casefold() == email.casefold())
