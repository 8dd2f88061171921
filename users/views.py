"""HTML views for accounts: validate, call one service or selector, render."""

import logging

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from users import selectors, services
from users.authentication import AuthenticatedHttpRequest
from users.forms import ApiTokenCreateForm, ProfileForm, SignupForm

logger = logging.getLogger(__name__)

HOME = "csv_processor:home"


@login_not_required
@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(HOME)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Welcome! Your account is ready.")
            return redirect(HOME)
    return render(request, "users/signup.html", {"form": form})


def _profile_page(
    request: AuthenticatedHttpRequest, *, profile_form: ProfileForm, token_form: ApiTokenCreateForm
) -> HttpResponse:
    context = {
        "profile_form": profile_form,
        "token_form": token_form,
        "tokens": selectors.api_token_list(user=request.user),
    }
    return render(request, "users/profile.html", context)


@require_http_methods(["GET", "POST"])
def profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, initial={"email": request.user.email})
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(user=request.user, email=form.cleaned_data["email"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Your profile was updated.")
            return redirect("users:profile")
    return _profile_page(request, profile_form=form, token_form=ApiTokenCreateForm())


@never_cache
@require_http_methods(["GET", "POST"])
def api_token_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ApiTokenCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, raw_token = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            # Render rather than redirect: the raw value then lives only in this one response (never
            # cached, never in the session). Re-posting is rejected because the name is taken.
            return render(request, "users/api_token_created.html", {"token": token, "raw_token": raw_token})
    return render(request, "users/api_token_create.html", {"form": form})


@require_http_methods(["GET", "POST"])
def api_token_revoke(request: AuthenticatedHttpRequest, token_id: int) -> HttpResponse:
    if request.method == "POST":
        token = services.api_token_revoke(user=request.user, token_id=token_id)
        messages.success(request, f"Token “{token.name}” was revoked.")
        return redirect("users:profile")
    token = selectors.api_token_get_for_user(user=request.user, token_id=token_id)
    return render(request, "users/api_token_revoke.html", {"token": token})
