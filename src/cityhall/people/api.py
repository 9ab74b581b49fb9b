"""JSON API for the logged-in resident's own profile and consents."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja import Router
from ninja.errors import HttpError
from ninja.security import SessionAuth

from cityhall.core.forms_api import form_errors_to_problem
from cityhall.people.forms import ProfileForm, years_to_text
from cityhall.people.models import User
from cityhall.people.schemas import ConsentsIn, ProfileOut, ProfilePatch
from cityhall.people.services import accounts


class ResidentAuth(SessionAuth):
    """A logged-in resident's session (CSRF checked on unsafe methods)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is not None and user.is_staff:
            raise HttpError(403, "staff accounts have no resident profile")
        return user


router = Router(tags=["me"], auth=ResidentAuth())


def _out(request: HttpRequest, user: User) -> ProfileOut:
    profile = accounts.profile_of(user)
    return ProfileOut(
        email=user.email,
        email_verified=user.email_verified,
        display_name=user.display_name,
        district=profile.district.code if profile.district else None,
        birth_year=profile.birth_year,
        household_size=profile.household_size,
        children_birth_years=profile.children_birth_years,
        care_in_household=profile.care_in_household,
        preferred_language=profile.preferred_language,
        interests=profile.interests,
        channels=profile.channels,
        phone=profile.phone,
        postal_code=profile.postal_code,
        address=profile.address,
        furigana=profile.furigana,
        large_text=profile.large_text,
        consents=accounts.consents(user),
        assurance=request.session.get("assurance", "email"),
    )


@router.get("/me", response=ProfileOut, summary="My profile")
def me(request: HttpRequest) -> ProfileOut:
    return _out(request, request.auth)  # type: ignore[attr-defined]


@router.patch("/me", response=ProfileOut, summary="Change my profile")
def patch_me(request: HttpRequest, payload: ProfilePatch) -> Any:
    """Validated by the same rules as the profile form; nothing is saved if any field is wrong."""
    user: User = request.auth  # type: ignore[attr-defined]
    current = _out(request, user).dict()
    sent = payload.dict(exclude_unset=True)
    merged = {**current, **sent}
    from cityhall.core.models import District

    district = (
        District.objects.filter(code=merged.get("district")).first()
        if merged.get("district")
        else None
    )
    if merged.get("district") and district is None:
        return form_errors_to_problem(request, {"district": ["Unknown district code."]})
    data: MultiValueDict[str, Any] = MultiValueDict()
    for key in (
        "display_name",
        "birth_year",
        "household_size",
        "preferred_language",
        "phone",
        "postal_code",
        "address",
    ):
        value = merged.get(key)
        data[key] = "" if value is None else str(value)
    data["district"] = str(district.pk) if district else ""
    data["children_birth_years"] = years_to_text(merged.get("children_birth_years") or [])
    for flag in ("care_in_household", "furigana", "large_text"):
        if merged.get(flag):
            data[flag] = "on"
    data.setlist("interests", merged.get("interests") or [])
    data.setlist("channels", merged.get("channels") or [])
    data.setlist("consents", [p for p, granted in current["consents"].items() if granted])
    form = ProfileForm(data)
    if not form.is_valid():
        errors = {
            name: errs for name, errs in form.errors.items() if name in sent or name == "__all__"
        }
        return form_errors_to_problem(request, errors or form.errors)
    cleaned = dict(form.cleaned_data)
    display_name = cleaned.pop("display_name")
    cleaned.pop("consents")
    accounts.update_profile(user, cleaned, display_name=display_name, request=request)
    return _out(request, user)


@router.put("/me/consents", response=dict[str, bool], summary="Set my consents")
def put_consents(request: HttpRequest, payload: ConsentsIn) -> Any:
    try:
        return accounts.set_consents(request.auth, payload.granted, request=request)  # type: ignore[attr-defined]
    except ValueError as exc:
        return form_errors_to_problem(request, {"granted": [str(exc)]})
