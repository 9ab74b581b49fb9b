from __future__ import annotations

from ninja import Schema
from pydantic import Field


class ProfileOut(Schema):
    email: str
    email_verified: bool
    display_name: str
    district: str | None = Field(None, description="District code (住民自治協議会)")
    birth_year: int | None
    household_size: int | None
    children_birth_years: list[int]
    care_in_household: bool
    preferred_language: str
    interests: list[str]
    channels: list[str]
    phone: str
    postal_code: str
    address: str
    furigana: bool
    large_text: bool
    consents: dict[str, bool]
    assurance: str = Field(description="`email` or `card` (verified with the My Number card)")


class ProfilePatch(Schema):
    """Only the fields sent are changed."""

    display_name: str | None = Field(None, max_length=100)
    district: str | None = None
    birth_year: int | None = Field(None, ge=1900, le=2100)
    household_size: int | None = Field(None, ge=1, le=20)
    children_birth_years: list[int] | None = Field(None, max_length=20)
    care_in_household: bool | None = None
    preferred_language: str | None = None
    interests: list[str] | None = None
    channels: list[str] | None = None
    phone: str | None = Field(None, max_length=20)
    postal_code: str | None = Field(None, max_length=8)
    address: str | None = Field(None, max_length=200)
    furigana: bool | None = None
    large_text: bool | None = None


class ConsentsIn(Schema):
    granted: list[str] = Field(
        description="Purposes the resident allows; all others are withdrawn."
    )
