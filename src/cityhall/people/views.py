"""Residents' account pages: sign-up, e-mail verification, login, logout, password reset."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cityhall.core.furigana import COOKIE as FURIGANA_COOKIE
from cityhall.core.http import TEXTSIZE_COOKIE
from cityhall.core.ratelimit import ratelimit
from cityhall.people.forms import (
    AccessiblePasswordResetForm,
    AccessibleSetPasswordForm,
    LoginForm,
    ResendVerificationForm,
    SignupForm,
)
from cityhall.people.models import User
from cityhall.people.services import accounts


def apply_preferences(response: HttpResponse, user: Any) -> HttpResponse:
    """After login, the resident's saved language and display settings follow them."""
    profile = getattr(user, "profile", None)
    if profile is None:
        return response
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        profile.preferred_language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
        secure=settings.LANGUAGE_COOKIE_SECURE,
    )
    if profile.furigana:
        response.set_cookie(
            FURIGANA_COOKIE, "1", max_age=settings.LANGUAGE_COOKIE_AGE, samesite="Lax"
        )
    if profile.large_text:
        response.set_cookie(
            TEXTSIZE_COOKIE, "large", max_age=settings.LANGUAGE_COOKIE_AGE, samesite="Lax"
        )
    return response


@ratelimit("signup", "SIGNUP_RATE")
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and not request.user.is_staff:
        return redirect("portal:mypage")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        accounts.sign_up(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password"],
            language=request.LANGUAGE_CODE,
            request=request,
        )
        request.session["signup_email"] = form.cleaned_data["email"]
        return redirect("people:signup_sent")
    return render(request, "people/signup.html", {"form": form}, status=422 if form.errors else 200)


def signup_sent(request: HttpRequest) -> HttpResponse:
    return render(
        request, "people/signup_sent.html", {"email": request.session.get("signup_email", "")}
    )


def verify(request: HttpRequest, token: str) -> HttpResponse:
    try:
        accounts.verify_email(token, request=request)
    except accounts.VerificationError as exc:
        return render(
            request, "people/verify_failed.html", {"expired": str(exc) == "expired"}, status=400
        )
    messages.success(request, _("Thank you. Your e-mail address is confirmed. Please log in."))
    return redirect("people:login")


@ratelimit("resend", "SIGNUP_RATE")
def resend_verification(request: HttpRequest) -> HttpResponse:
    form = ResendVerificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = User.objects.filter(email__iexact=form.cleaned_data["email"], is_staff=False).first()
        if user is not None and not user.email_verified:
            accounts.send_verification(user)
        request.session["signup_email"] = form.cleaned_data["email"]
        return redirect("people:signup_sent")
    return render(request, "people/resend.html", {"form": form}, status=422 if form.errors else 200)


class UnprocessableOnErrorMixin:
    """Forms answer 422 when they show errors, so clients and tests can tell."""

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)  # type: ignore[misc]
        response.status_code = 422
        return response


@method_decorator(ratelimit("login", "LOGIN_RATE"), name="dispatch")
class LoginView(UnprocessableOnErrorMixin, auth_views.LoginView):
    form_class = LoginForm
    template_name = "people/login.html"
    redirect_authenticated_user = False

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        return apply_preferences(response, form.get_user())


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    staff = request.user.is_authenticated and request.user.is_staff
    auth_logout(request)
    messages.info(request, _("You are logged out."))
    return redirect("staff:login" if staff else "portal:home")


def lockout(
    request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """django-axes calls this when an account is locked after repeated failures."""
    from cityhall.core.problems import problem_response, wants_problem

    minutes = int(settings.AXES_COOLOFF_TIME * 60)
    if wants_problem(request):
        return problem_response("rate-limited", request, detail=_("Too many failed logins."))
    return render(request, "people/locked.html", {"minutes": minutes}, status=429)


class PasswordResetView(UnprocessableOnErrorMixin, auth_views.PasswordResetView):
    form_class = AccessiblePasswordResetForm
    template_name = "people/password_reset.html"
    email_template_name = "people/email/password_reset.txt"
    subject_template_name = "people/email/password_reset_subject.txt"
    success_url = reverse_lazy("people:password_reset_done")

    def get_extra_email_context(self) -> dict[str, Any]:
        return {"site_url": settings.SITE_URL}

    def form_valid(self, form: Any) -> HttpResponse:
        self.extra_email_context = self.get_extra_email_context()
        return super().form_valid(form)


password_reset = ratelimit("reset", "SIGNUP_RATE")(PasswordResetView.as_view())


class PasswordResetConfirmView(UnprocessableOnErrorMixin, auth_views.PasswordResetConfirmView):
    form_class = AccessibleSetPasswordForm
    template_name = "people/password_reset_confirm.html"
    success_url = reverse_lazy("people:password_reset_complete")
