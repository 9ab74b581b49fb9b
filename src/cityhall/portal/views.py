"""The resident's front door: home, my page, profile, display and language settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cityhall.core import i18n
from cityhall.core.furigana import COOKIE as FURIGANA_COOKIE
from cityhall.core.http import TEXTSIZE_COOKIE, safe_next
from cityhall.inquiries.services import bookings, tickets
from cityhall.notices.services import feed as notices_feed
from cityhall.payments.services import overview as payments_overview
from cityhall.people.forms import ProfileForm, years_to_text
from cityhall.people.models import Consent
from cityhall.people.services import accounts, directory
from cityhall.portal import frontdoor
from cityhall.portal.forms import DisplayForm
from cityhall.procedures.services import applications, catalogue, guide

COOKIE_AGE = 365 * 24 * 3600
HOME_FEED_SIZE = 5
MYPAGE_FEED_SIZE = 10


def resident_required(view: Any) -> Any:
    """Logged-in residents only; staff accounts are sent to the staff console."""

    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_staff:
            return redirect("staff:home")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _language() -> str:
    return (translation.get_language() or settings.LANGUAGE_CODE).lower()


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    personal = user.is_authenticated and not user.is_staff
    news = (
        notices_feed.personal_feed(user, _language(), limit=HOME_FEED_SIZE)
        if personal
        else notices_feed.public_feed(_language(), limit=HOME_FEED_SIZE)
    )
    return render(
        request,
        "portal/home.html",
        {
            "life_events": frontdoor.LIFE_EVENTS,
            "city_hall": directory.city_hall(),
            "feed": news,
            "personal_feed": personal,
        },
    )


def life_event(request: HttpRequest, slug: str) -> HttpResponse:
    event = frontdoor.by_slug(slug)
    if event is None:
        raise Http404
    return render(
        request,
        "portal/life_event.html",
        {
            "event": event,
            "departments": directory.departments(event.departments),
            "procedures": catalogue.by_life_event(slug),
            "has_guide": guide.get_guide(slug) is not None,
        },
    )


@resident_required
def mypage(request: HttpRequest) -> HttpResponse:
    user = request.user
    profile = accounts.profile_of(user)  # type: ignore[arg-type]
    return render(
        request,
        "portal/mypage.html",
        {
            "profile": profile,
            "consents": [
                (Consent.Purpose(purpose).label, granted)
                for purpose, granted in accounts.consents(user).items()  # type: ignore[arg-type]
            ],
            "identity": getattr(user, "verified_identity", None),
            "assurance": request.session.get("assurance", "email"),
            "applications": applications.overview(user),  # type: ignore[arg-type]
            "payments": payments_overview.overview(user),
            "checklists": [
                (saved.pk, guide.life_event_title(saved.life_event))
                for saved in guide.saved_for(user)[:5]  # type: ignore[arg-type]
            ],
            "feed": notices_feed.personal_feed(user, _language(), limit=MYPAGE_FEED_SIZE),
            "inquiries": {
                "tickets": tickets.mypage_overview(user),
                "bookings": bookings.mypage_overview(user),
            },
        },
    )


@resident_required
def profile_edit(request: HttpRequest) -> HttpResponse:
    user = request.user
    profile = accounts.profile_of(user)  # type: ignore[arg-type]
    current_consents = accounts.consents(user)  # type: ignore[arg-type]
    initial = {
        "display_name": user.display_name,  # type: ignore[union-attr]
        "district": str(profile.district_id or ""),
        "birth_year": profile.birth_year,
        "household_size": profile.household_size,
        "children_birth_years": years_to_text(profile.children_birth_years),
        "care_in_household": profile.care_in_household,
        "preferred_language": profile.preferred_language,
        "interests": profile.interests,
        "channels": profile.channels,
        "phone": profile.phone,
        "postal_code": profile.postal_code,
        "address": profile.address,
        "furigana": profile.furigana,
        "large_text": profile.large_text,
        "consents": [purpose for purpose, granted in current_consents.items() if granted],
    }
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        display_name = data.pop("display_name")
        granted = data.pop("consents")
        accounts.update_profile(user, data, display_name=display_name, request=request)  # type: ignore[arg-type]
        accounts.set_consents(user, granted, request=request)  # type: ignore[arg-type]
        messages.success(request, _("Your profile is saved."))
        response = redirect("portal:mypage")
        for cookie, value in (
            (settings.LANGUAGE_COOKIE_NAME, data["preferred_language"]),
            (FURIGANA_COOKIE, "1" if data["furigana"] else "0"),
            (TEXTSIZE_COOKIE, "large" if data["large_text"] else "normal"),
        ):
            response.set_cookie(
                cookie,
                value,
                max_age=COOKIE_AGE,
                samesite="Lax",
                secure=settings.LANGUAGE_COOKIE_SECURE,
            )
        return response
    return render(
        request, "portal/profile_edit.html", {"form": form}, status=422 if form.errors else 200
    )


def language(request: HttpRequest, code: str) -> HttpResponse:
    """Switch the UI language by a plain link (works without JavaScript)."""
    if code not in i18n.codes():
        raise Http404
    response = redirect(safe_next(request, "/"))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=COOKIE_AGE,
        samesite="Lax",
        secure=settings.LANGUAGE_COOKIE_SECURE,
    )
    translation.activate(code)
    return response


@require_GET
def display(request: HttpRequest) -> HttpResponse:
    """Furigana and text size for this browser (cookies only, so pages stay cacheable).

    Residents keep them on their profile through the profile form; they apply at login.
    """
    form = DisplayForm(request.GET)
    response = redirect(safe_next(request, "/"))
    if form.is_valid():
        for cookie, value in (
            (FURIGANA_COOKIE, form.cleaned_data.get("furigana")),
            (TEXTSIZE_COOKIE, form.cleaned_data.get("textsize")),
        ):
            if value:
                response.set_cookie(cookie, value, max_age=COOKIE_AGE, samesite="Lax")
    return response


def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/accessibility.html")


def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/privacy.html")
