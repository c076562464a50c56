"""Sign-up form: email, name and a password checked by Django's validators."""
from django import forms
from django.contrib.auth.forms import BaseUserCreationForm, PasswordResetForm

from orders.forms import COUNTRIES

from .models import Address, User


class SignUpForm(BaseUserCreationForm):
    """Create a customer account. The email must not be taken (case-insensitive)."""

    class Meta:
        model = User
        fields = ("email", "first_name", "last_name")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email already exists. Log in or reset your password.")
        return email


class ProfileForm(forms.Form):
    """Name and email. A new email is changed only once its verification link is opened."""

    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(help_text="A new address is used once you open the link we send to it.")


class AddressForm(forms.ModelForm):
    """One address of the address book."""

    country = forms.ChoiceField(choices=COUNTRIES)

    class Meta:
        model = Address
        fields = ["name", "line1", "line2", "city", "postcode", "country", "phone", "is_default_shipping",
                  "is_default_billing"]


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
