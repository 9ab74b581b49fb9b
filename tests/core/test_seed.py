"""Iga's geography and facilities load from core/data/iga.json, completely and idempotently."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest

from cityhall.core.models import Area, District, Facility
from cityhall.core.seed import IGA_FILE, district_shares, load_geography

pytestmark = pytest.mark.django_db

LANGUAGES = {"en", "pt-br", "es", "vi", "zh-hans"}
KNOWN_DISTRICTS = (  # the names the spec gives (iga-city.md)
    "上野東部",
    "上野西部",
    "上野南部",
    "小田",
    "久米",
    "花之木",
    "長田",
    "新居",
    "三田",
    "諏訪",
    "府中",
    "中瀬",
    "友生",
    "猪田",
    "依那古",
    "比自岐",
    "きじが台",
    "神戸",
    "古山",
    "花垣",
    "ゆめが丘",
    "柘植",
    "西柘植",
)


def _snapshot() -> list[tuple[Any, ...]]:
    return [
        *Area.objects.order_by("code").values_list("code", "name", "kana", "names", "order"),
        *District.objects.order_by("code").values_list(
            "code",
            "name",
            "kana",
            "names",
            "area__code",
            "order",
            "population_share",
            "name_confirmed",
        ),
        *Facility.objects.order_by("code").values_list(
            "code",
            "name",
            "kana",
            "names",
            "kind",
            "district__code",
            "postal_code",
            "address",
            "phone",
            "opening_hours",
            "services",
            "name_confirmed",
        ),
    ]


def test_six_former_municipalities_with_readings_and_romanised_names() -> None:
    load_geography()
    areas = {a.code: a for a in Area.objects.all()}
    assert [a.name for a in Area.objects.order_by("order")] == [
        "上野",
        "伊賀",
        "島ヶ原",
        "阿山",
        "大山田",
        "青山",
    ]
    assert areas["ueno"].kana == "うえの"
    assert areas["ueno"].names["en"] == "Ueno" and areas["ueno"].names["pt-br"] == "Ueno"
    assert areas["ueno"].names["zh-hans"] == "上野"
    assert areas["oyamada"].localized_name("vi") == "Oyamada"
    assert areas["shimagahara"].localized_name("ja") == "島ヶ原"


def test_thirty_nine_districts_split_22_3_4_3_6_1() -> None:
    load_geography()
    assert District.objects.count() == 39
    per_area = Counter(District.objects.values_list("area__name", flat=True))
    assert per_area == {"上野": 22, "伊賀": 3, "阿山": 4, "大山田": 3, "青山": 6, "島ヶ原": 1}
    names = set(District.objects.values_list("name", flat=True))
    assert set(KNOWN_DISTRICTS) <= names
    # The names the spec lists are confirmed; every other one waits for the city.
    for district in District.objects.all():
        assert district.name_confirmed == (district.name in KNOWN_DISTRICTS), district.name
        assert district.kana and set(district.names) >= LANGUAGES, district.code


def test_population_shares_are_positive_sum_to_one_and_central_ueno_is_larger() -> None:
    load_geography()
    shares = dict(District.objects.values_list("code", "population_share"))
    assert all(share > 0 for share in shares.values())
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-9)
    rural_median = sorted(shares.values())[len(shares) // 2]
    for code in ("ueno-tobu", "ueno-seibu", "ueno-nanbu"):
        assert shares[code] > rural_median
    ueno = sum(d.population_share for d in District.objects.filter(area__code="ueno"))
    assert 0.6 < ueno < 0.75
    assert sum(share for _, share in district_shares()) == pytest.approx(1.0)


def test_thirty_eight_community_centres_each_in_its_district() -> None:
    load_geography()
    centres = Facility.objects.filter(kind=Facility.Kind.COMMUNITY_CENTER).select_related(
        "district"
    )
    assert centres.count() == 38
    assert all(c.district is not None for c in centres)
    assert len({c.district_id for c in centres}) == 38
    for centre in centres:
        assert centre.district is not None
        assert centre.name == f"{centre.district.name}地区市民センター"
        if not centre.district.name_confirmed:
            assert not centre.name_confirmed
    assert centres.get(code="center-ueno-tobu").name_confirmed


def test_city_hall_branches_and_named_facilities() -> None:
    load_geography()
    hall = Facility.objects.get(kind=Facility.Kind.CITY_HALL)
    assert hall.name == "伊賀市役所"
    assert hall.postal_code == "518-8501"
    assert hall.address.endswith("四十九町3184")
    assert hall.phone == "0595-22-2500"
    assert "8:30" in hall.opening_hours and "17:15" in hall.opening_hours
    branches = set(
        Facility.objects.filter(kind=Facility.Kind.BRANCH).values_list("name", flat=True)
    )
    assert branches == {"伊賀支所", "島ヶ原支所", "阿山支所", "大山田支所", "青山支所"}
    kinds = dict(Facility.objects.values_list("name", "kind"))
    assert kinds["伊賀上野武道館"] == Facility.Kind.SHELTER
    assert kinds["伊賀市多文化共生センター"] == Facility.Kind.MULTICULTURAL
    assert kinds["伊賀市総合福祉会館"] == Facility.Kind.WELFARE
    assert kinds["しらさぎ運動公園"] == Facility.Kind.SPORTS
    assert "ハイトピア伊賀" in kinds
    for facility in Facility.objects.all():
        assert set(facility.names) >= LANGUAGES, facility.code
        if facility.phone:
            assert re.fullmatch(r"0595-\d{2}-\d{4}", facility.phone)


def test_loading_twice_changes_nothing() -> None:
    first = load_geography()
    assert {k: v.created for k, v in first.items()} == {
        "areas": 6,
        "districts": 39,
        "facilities": len(json.loads(IGA_FILE.read_text(encoding="utf-8"))["facilities"]),
    }
    before = _snapshot()
    second = load_geography()
    assert all(counts.changed == 0 for counts in second.values())
    assert _snapshot() == before


def test_loading_again_restores_a_changed_row_and_keeps_others() -> None:
    load_geography()
    District.objects.filter(code="kume").update(name="久米（変更）", population_share=0.5)
    extra = Area.objects.create(code="elsewhere", name="よそ", order=99)
    result = load_geography()
    assert result["districts"].updated == 1
    assert result["districts"].unchanged == 38
    kume = District.objects.get(code="kume")
    assert kume.name == "久米" and kume.population_share < 0.1
    assert Area.objects.filter(pk=extra.pk).exists()  # rows not in the file are left alone


def test_data_file_codes_are_unique_and_references_resolve() -> None:
    data = json.loads(IGA_FILE.read_text(encoding="utf-8"))
    for section in ("areas", "districts", "facilities"):
        codes = [item["code"] for item in data[section]]
        assert len(codes) == len(set(codes)), section
    areas = {a["code"] for a in data["areas"]}
    districts = {d["code"] for d in data["districts"]}
    assert {d["area"] for d in data["districts"]} <= areas
    assert {f["district"] for f in data["facilities"] if f["district"]} <= districts
