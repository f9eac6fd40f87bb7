"""The public site: landing page, "find your workspace" and merchant signup."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from tenants.forms import FindWorkspaceForm, SignupForm
from tenants.hosts import host_url
from tenants.services.signup import tenant_signup

log = logging.getLogger(__name__)

# (requests, seconds) per client address. Each signup attempt costs password hashing and, when it
# succeeds, a schema; ten an hour is more than a person fixing typos needs.
SIGNUP_RATE = (10, 3600)
SLUG_CHECK_RATE = (120, 60)

_PASSWORD_CODES = {
    "password_too_short",
    "password_too_common",
    "password_entirely_numeric",
    "password_too_similar",
}
_SLUG_CODES = {"taken", "reserved", "invalid"}


def _rate_exceeded(request: HttpRequest, *, action: str, rate: tuple[int, int]) -> bool:
    """Fixed-window counter in the shared cache, so every web process counts together."""
    limit, window = rate
    address = request.META.get("REMOTE_ADDR", "unknown")
    key = f"ratelimit:{action}:{address}:{int(time.time() // window)}"
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count > limit


def workspace_login_url(request: HttpRequest, *, domain: str, created: bool = False) -> str:
    path = reverse("account_login", urlconf=settings.ROOT_URLCONF)
    return host_url(request, domain, path + ("?created=1" if created else ""))


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "public/home.html", {"find_form": FindWorkspaceForm()})


@require_GET
def find_workspace(request: HttpRequest) -> HttpResponse:
    if "address" not in request.GET:
        return redirect("public_home")
    form = FindWorkspaceForm(request.GET)
    if form.is_valid():
        return HttpResponseRedirect(workspace_login_url(request, domain=form.domain))
    return render(request, "public/home.html", {"find_form": form, "find_failed": True})


@never_cache
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    status = 200
    if request.method == "GET":
        language = translation.get_language_from_request(request)
        form = SignupForm(initial={"language": language, "timezone": "UTC"})
        return _signup_page(request, form, guess_timezone=True)

    page_error = ""
    if _rate_exceeded(request, action="signup", rate=SIGNUP_RATE):
        page_error = (
            "Too many signup attempts from your network. Please wait an hour and try again."
        )
        status = 429
    elif request.POST.get("website"):
        page_error = (
            "Your browser filled in a field meant to stay empty (“Leave this field empty”). "
            "Clear it and try again."
        )
    if page_error:
        # Unbound, so nothing is validated (or looked up) for a refused request; what was typed
        # stays on the page, except the password.
        typed = {k: v for k, v in request.POST.items() if k in SignupForm.base_fields}
        typed.pop("password", None)
        typed.pop("website", None)
        form = SignupForm(initial=typed)
        return _signup_page(request, form, status=status, page_error=page_error)

    form = SignupForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            result = tenant_signup(
                company_name=data["company_name"],
                slug=data["slug"],
                owner_name=data["owner_name"],
                owner_email=data["email"],
                owner_password=data["password"],
                timezone=data["timezone"],
                language=data["language"],
            )
        except ValidationError as error:
            for item in error.error_list:
                if item.code in _PASSWORD_CODES:
                    form.add_error("password", item)
                elif item.code in _SLUG_CODES:
                    form.add_error("slug", item)
                else:
                    form.add_error(None, item)
        except DatabaseError:
            log.exception("Signup for %s failed; the transaction was rolled back", data["slug"])
            form.add_error(
                None,
                "We couldn't create your workspace just now. Nothing was saved. "
                "Please try again in a moment.",
            )
            status = 503
        else:
            response = HttpResponseRedirect(
                workspace_login_url(request, domain=result.domain, created=True)
            )
            response.status_code = 303
            return response
    return _signup_page(request, form, status=status)


def _signup_page(
    request: HttpRequest,
    form: SignupForm,
    *,
    status: int = 200,
    page_error: str = "",
    guess_timezone: bool = False,
) -> HttpResponse:
    context = {
        "form": form,
        "page_error": page_error,
        "guess_timezone": guess_timezone,
        # signup.js shows the address being typed as the link the team will use.
        "workspace_url_template": host_url(request, "{slug}." + settings.BASE_DOMAIN),
    }
    return render(request, "public/signup.html", context, status=status)


@never_cache
@require_GET
def signup_slug_check(request: HttpRequest) -> HttpResponse:
    """htmx: whether a workspace address can be had, while the merchant types it."""
    slug = request.GET.get("slug", "").strip().lower()
    state, message = "available", "Available"
    if not slug:
        state, message = "empty", ""
    elif _rate_exceeded(request, action="slug_check", rate=SLUG_CHECK_RATE):
        state, message = "throttled", "Checking paused: too many checks. It is checked on submit."
    else:
        from tenants.services.signup import slug_check_available

        try:
            slug_check_available(slug=slug)
        except ValidationError as error:
            state, message = error.code or "invalid", error.messages[0]
    return render(
        request,
        "public/_slug_status.html",
        {"state": state, "message": message, "slug": slug},
    )
