"""Sign-up, email verification, profile, address book, wishlist and review writing.

Log in, log out, password change and reset are Django's auth views with our templates (the
reset email goes through a Celery task: ShopPasswordResetForm). Each POST validates a form, calls
one service and redirects with a message.
"""
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from catalog.models import Product
from catalog.selectors import VariantChoiceError, choose_variant
from catalog.services import ReviewError, submit_review
from orders import services as orders
from orders.selectors import has_delivered_line

from . import selectors, services
from .forms import AddressForm, LoginForm, ProfileForm, ReviewForm, SignUpForm, WishlistForm
from .models import Address

SIGNUP_SESSION_KEY = "signup_email"  # the address this browser signed up with, until its link is opened


class LoginView(auth_views.LoginView):
    """/accounts/login/ (email and password) and /accounts/login/link/<code>/, the page an emailed
    login link opens (accounts.login_guard): the same form, with the link's code sent along."""

    authentication_form = LoginForm

    def get_form_kwargs(self) -> dict:
        kwargs = super().get_form_kwargs()
        if "code" in self.kwargs and "data" in kwargs:
            kwargs["data"] = kwargs["data"].copy()
            kwargs["data"]["login_code"] = self.kwargs["code"]
        return kwargs

    def get_context_data(self, **kwargs) -> dict:
        return {**super().get_context_data(**kwargs), "login_link": "code" in self.kwargs}


def signup(request: HttpRequest) -> HttpResponse:
    """Sign up. The answer is the same whether or not the email already has an account
    (services.sign_up): "check your inbox". A new account's link verifies the address and, opened
    in this browser, logs the customer in (their guest cart and wishlist come along)."""
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.sign_up(email=form.cleaned_data["email"], password=form.cleaned_data["password1"],
                         first_name=form.cleaned_data["first_name"], last_name=form.cleaned_data["last_name"],
                         request=request)
        request.session[SIGNUP_SESSION_KEY] = form.cleaned_data["email"]
        return redirect("signup_done")
    return render(request, "registration/signup.html", {"form": form})


def signup_done(request: HttpRequest) -> HttpResponse:
    """"Check your inbox", after any sign-up."""
    return render(request, "registration/signup_done.html", {"email": request.session.get(SIGNUP_SESSION_KEY, "")})


def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    """The link from a verification email: marks the address verified (or completes an email
    change). Opened in the browser that signed up, by an account that never logged in, it also
    logs the new customer in."""
    try:
        user = services.verify_email(token=token)
    except services.AccountError as error:
        messages.error(request, str(error))
        return redirect("account" if request.user.is_authenticated else "login")
    if (not request.user.is_authenticated and user.last_login is None
            and request.session.get(SIGNUP_SESSION_KEY) == user.email):
        del request.session[SIGNUP_SESSION_KEY]
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome! {user.email} is verified and your account is ready.")
        return redirect("home")
    messages.success(request, f"Thank you: {user.email} is verified.")
    return redirect("account" if request.user.is_authenticated else "login")


@login_required
@require_POST
def resend_verification(request: HttpRequest) -> HttpResponse:
    """Send the verification link again to the account's email."""
    if request.user.email_verified:
        messages.info(request, "Your email is already verified.")
    else:
        services.send_verification(user=request.user)
        messages.success(request, f"We sent a new verification link to {request.user.email}.")
    return redirect("account")


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """/accounts/profile/: name and email (a new email is verified before it is used)."""
    user = request.user
    form = ProfileForm(request.POST or None,
                       initial={"first_name": user.first_name, "last_name": user.last_name, "email": user.email})
    if request.method == "POST" and form.is_valid():
        try:
            sent = services.update_profile(user=user, **form.cleaned_data)
        except services.AccountError as error:
            form.add_error("email", str(error))
        else:
            messages.success(request, "Your profile is saved." + (
                f" Open the link we sent to {form.cleaned_data['email'].lower()} to start using it." if sent else ""))
            return redirect("account")
    return render(request, "accounts/profile.html", {"form": form})


@login_required
def address_list(request: HttpRequest) -> HttpResponse:
    """The address book."""
    return render(request, "accounts/address_list.html", {"addresses": request.user.addresses.all()})


@login_required
def address_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Add an address, or edit one of the customer's own (anyone else's is a 404)."""
    address = get_object_or_404(Address, pk=pk, user=request.user) if pk else None
    form = AddressForm(request.POST or None, instance=address)
    if request.method == "POST" and form.is_valid():
        services.save_address(user=request.user, data=form.cleaned_data, address=address)
        messages.success(request, "Address saved.")
        return redirect("address_list")
    return render(request, "accounts/address_form.html", {"form": form, "address": address})


@login_required
@require_POST
def address_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete one of the customer's addresses (anyone else's is a 404)."""
    try:
        services.delete_address(user=request.user, address_id=pk)
    except services.AccountError as error:
        raise Http404(str(error)) from None
    messages.success(request, "Address deleted.")
    return redirect("address_list")


def wishlist(request: HttpRequest) -> HttpResponse:
    """/accounts/wishlist/: the shopper's wishlist as cards (a guest's is kept in the session)."""
    entries = selectors.wishlist_entries(user=request.user, session=request.session)
    return render(request, "accounts/wishlist.html", {"entries": entries})


def _wishlist_target(request: HttpRequest) -> tuple[int, int | None] | None:
    form = WishlistForm(request.POST)
    if not form.is_valid():
        return None
    data = form.cleaned_data
    if data["variant"] or data["size"] or data["colour"]:
        try:
            variant = choose_variant(product_id=data["product"], variant_id=data["variant"], size=data["size"],
                                     colour=data["colour"])
        except VariantChoiceError:
            return data["product"], None  # not a full choice: the product itself
        return data["product"], variant.pk
    return data["product"], None


@require_POST
def wishlist_add(request: HttpRequest) -> HttpResponse:
    """Add the product (and the chosen size/colour, if any) to the wishlist."""
    target = _wishlist_target(request)
    if target is None:
        messages.error(request, "That product could not be added to your wishlist.")
        return redirect("wishlist")
    try:
        added = services.add_to_wishlist(user=request.user, session=request.session, product_id=target[0],
                                         variant_id=target[1])
    except services.AccountError as error:
        messages.error(request, str(error))
        return redirect("wishlist")
    messages.success(request, "Added to your wishlist." if added else "It is already on your wishlist.")
    return redirect("wishlist")


@require_POST
def wishlist_remove(request: HttpRequest) -> HttpResponse:
    """Take a product (or one variant of it) off the wishlist."""
    form = WishlistForm(request.POST)
    if form.is_valid():
        services.remove_from_wishlist(user=request.user, session=request.session,
                                      product_id=form.cleaned_data["product"], variant_id=form.cleaned_data["variant"])
        messages.success(request, "Removed from your wishlist.")
    return redirect("wishlist")


@require_POST
def wishlist_to_cart(request: HttpRequest) -> HttpResponse:
    """Move a wishlist item to the cart (one unit)."""
    form = WishlistForm(request.POST)
    if not form.is_valid():
        return redirect("wishlist")
    product_id, variant_id = form.cleaned_data["product"], form.cleaned_data["variant"]
    try:
        variant = services.move_wishlist_item_to_cart(user=request.user, session=request.session,
                                                      product_id=product_id, variant_id=variant_id)
    except services.AccountError as error:
        messages.error(request, str(error))
        product = Product.objects.filter(pk=product_id).first()
        return redirect(product.get_absolute_url() if product else "wishlist")
    except orders.SHOPPER_ERRORS as error:
        messages.error(request, str(error))
        return redirect("wishlist")
    messages.success(request, f"Moved {variant.product.name} to your cart.")
    return redirect("orders:cart")


@login_required
@require_POST
def review_create(request: HttpRequest, slug: str) -> HttpResponse:
    """Post a review of a product; it appears once staff approve it."""
    product = get_object_or_404(Product.objects.visible(), slug=slug)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field.title()}: {' '.join(errors)}")
        return redirect(product.get_absolute_url() + "#write-review")
    try:
        submit_review(product=product, user=request.user, **form.cleaned_data,
                      verified_buyer=has_delivered_line(customer=request.user, product_id=product.pk))
    except ReviewError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Thank you! Your review will appear once it is approved.")
    return redirect(product.get_absolute_url() + "#reviews")
