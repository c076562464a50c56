"""Sign-up. Log in, log out, password change and reset are Django's auth views with our templates."""
from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from . import services
from .forms import SignUpForm


def signup(request: HttpRequest) -> HttpResponse:
    """Create an account and log the new customer in (their guest cart comes along)."""
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.register_customer(
            email=form.cleaned_data["email"], password=form.cleaned_data["password1"],
            first_name=form.cleaned_data["first_name"], last_name=form.cleaned_data["last_name"], request=request)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome! Your account is ready.")
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form})
