"""JSON API of the shared kernel: health, languages, districts."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema, Status

from cityhall.core import i18n
from cityhall.core.health import check
from cityhall.core.models import District

router = Router(tags=["core"])


class HealthOut(Schema):
    status: str
    database: str
    version: str


class LanguageOut(Schema):
    code: str
    name: str
    lang: str


class DistrictOut(Schema):
    code: str
    name: str
    kana: str
    area_code: str
    area_name: str
    name_confirmed: bool


@router.get("/health", response={200: HealthOut, 503: HealthOut}, auth=None, summary="Health check")
def health(request: HttpRequest) -> Status:
    """200 when the process and the database answer; 503 when the database does not."""
    ok, body = check()
    return Status(200 if ok else 503, HealthOut(**body))


@router.get("/languages", response=list[LanguageOut], auth=None, summary="UI languages")
def languages(request: HttpRequest) -> list[dict[str, str]]:
    return i18n.choices()


@router.get(
    "/districts", response=list[DistrictOut], auth=None, summary="Districts (住民自治協議会)"
)
def districts(request: HttpRequest) -> list[DistrictOut]:
    return [
        DistrictOut(
            code=d.code,
            name=d.localized_name(),
            kana=d.kana,
            area_code=d.area.code,
            area_name=d.area.localized_name(),
            name_confirmed=d.name_confirmed,
        )
        for d in District.objects.select_related("area")
    ]
