"""services/segments.py: every facet, consent (latest row wins), who is never in a segment,
topics, validation, the masked sample and its audit entry, reachable channels, saving."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from cityhall.core.models import AuditEvent
from cityhall.notices.models import DeliveryPreferences, Segment
from cityhall.notices.services import segments
from cityhall.notices.services.segments import Filters, SegmentError
from tests.notices.segments_support import (
    TODAY,
    YEAR,
    City,
    build_city,
    consent,
    koho_clerk,
    link_line,
    person,
    subscribe_push,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(db: Any) -> City:
    return build_city()


def ids(filters: dict[str, Any], **kwargs: Any) -> list[int]:
    kwargs.setdefault("today", TODAY)
    return segments.resolve(Filters.from_dict(filters), **kwargs)


def test_district_and_area(city: City) -> None:
    tobu = person(district=city.ueno_tobu)
    seibu = person(district=city.ueno_seibu)
    hokubu = person(district=city.aoyama_hokubu)
    nowhere = person()
    assert ids({"districts": ["ueno-tobu"]}) == [tobu.pk]
    assert ids({"areas": ["ueno"]}) == [tobu.pk, seibu.pk]
    # districts and areas together: anyone in either
    assert ids({"areas": ["aoyama"], "districts": ["ueno-seibu"]}) == [seibu.pk, hokubu.pk]
    assert ids({}) == [tobu.pk, seibu.pk, hokubu.pk, nowhere.pk]


def test_age_band_counts_from_birth_year(city: City) -> None:
    aged = {age: person(birth_year=YEAR - age) for age in (64, 65, 70, 74, 75)}
    unknown = person()
    assert ids({"age_min": 65, "age_max": 74}) == [aged[65].pk, aged[70].pk, aged[74].pk]
    assert ids({"age_min": 75}) == [aged[75].pk]
    assert ids({"age_max": 64}) == [aged[64].pk]
    assert unknown.pk not in ids({"age_max": 120})
    # another day, another year: the 64-year-old is now 65
    later = TODAY.replace(year=YEAR + 1)
    assert aged[64].pk in ids({"age_min": 65, "age_max": 74}, today=later)


def test_children_ages(city: City) -> None:
    baby = person(children_birth_years=[YEAR])
    five_and_twelve = person(children_birth_years=[YEAR - 12, YEAR - 5])
    teen = person(children_birth_years=[YEAR - 15])
    person(children_birth_years=[])
    assert ids({"child_age_min": 0, "child_age_max": 6}) == [baby.pk, five_and_twelve.pk]
    assert ids({"child_age_min": 10}) == [five_and_twelve.pk, teen.pk]
    assert ids({"child_age_max": 0}) == [baby.pk]


def test_care_foreign_and_language(city: City) -> None:
    carer = person(care_in_household=True)
    foreign_pt = person(nationality_foreign=True, preferred_language="pt-br")
    foreign_vi = person(nationality_foreign=True, preferred_language="vi")
    japanese = person(preferred_language="ja")
    assert ids({"care": True}) == [carer.pk]
    assert ids({"care": False}) == [foreign_pt.pk, foreign_vi.pk, japanese.pk]
    assert ids({"foreign": True}) == [foreign_pt.pk, foreign_vi.pk]
    assert ids({"foreign": "no"}) == [carer.pk, japanese.pk]
    assert ids({"foreign": True, "languages": ["pt-br"]}) == [foreign_pt.pk]
    assert ids({"languages": ["vi", "ja"]}) == [carer.pk, foreign_vi.pk, japanese.pk]


def test_interests_and_channels_any_of(city: City) -> None:
    elderly = person(interests=["elderly", "health"], channels=["line"])
    garbage = person(interests=["garbage"], channels=["email", "push"])
    both = person(interests=["garbage", "childcare"], channels=["inbox"])
    person(interests=[], channels=[])
    assert ids({"interests": ["elderly"]}) == [elderly.pk]
    assert ids({"interests": ["elderly", "childcare"]}) == [elderly.pk, both.pk]
    assert ids({"channels": ["push", "inbox"]}) == [garbage.pk, both.pk]
    assert ids({"interests": ["garbage"], "channels": ["email"]}) == [garbage.pk]


def test_facets_combine(city: City) -> None:
    match = person(
        district=city.ueno_tobu,
        birth_year=YEAR - 70,
        care_in_household=True,
        interests=["elderly"],
    )
    person(district=city.ueno_tobu, birth_year=YEAR - 70, care_in_household=False)
    person(district=city.aoyama_hokubu, birth_year=YEAR - 70, care_in_household=True)
    chosen = {"areas": ["ueno"], "age_min": 65, "care": "yes", "interests": ["elderly"]}
    assert ids(chosen) == [match.pk]
    assert segments.count(Filters.from_dict(chosen), today=TODAY) == 1


def test_latest_consent_row_wins(city: City) -> None:
    withdrew = person()
    consent(withdrew, "notify", False, days_ago=1)
    came_back = person()
    consent(came_back, "notify", False, days_ago=5)
    consent(came_back, "notify", True, days_ago=1)
    never = person(consents=())
    only_emergency = person(consents=("emergency",))
    steady = person()
    assert ids({}) == [came_back.pk, steady.pk]
    assert ids({}, purpose="emergency") == [only_emergency.pk]
    # no consent filter: the count staff see
    assert ids({}, purpose=None) == sorted(
        u.pk for u in (withdrew, came_back, never, only_emergency, steady)
    )
    # withdrawing another purpose does not touch this one
    consent(steady, "statistics", False)
    assert steady.pk in ids({})


def test_staff_inactive_and_accounts_without_profile_are_never_included(city: City) -> None:
    from cityhall.people.models import User

    resident = person()
    inactive = person()
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    staff = koho_clerk()
    from cityhall.people.models import ResidentProfile

    ResidentProfile.objects.create(user=staff)
    consent(staff, "notify", True)
    bare = User.objects.create_user(email="bare@example.jp", password="x-long-password-1")
    consent(bare, "notify", True)
    assert ids({}) == [resident.pk]
    assert ids({}, purpose=None) == [resident.pk]


def test_topic_interest_and_personal(city: City) -> None:
    likes_events = person(interests=["events"])
    likes_tax = person(interests=["tax"])
    muted = person(interests=["tax"])
    DeliveryPreferences.objects.create(user=muted, muted_topics=["personal"])
    DeliveryPreferences.objects.create(user=likes_tax, muted_topics=["events"])
    assert ids({}, topic="events") == [likes_events.pk]
    assert ids({}, topic="personal") == [likes_events.pk, likes_tax.pk]
    assert ids({}, topic="emergency") == [likes_events.pk, likes_tax.pk, muted.pk]
    assert ids({"interests": ["tax"]}, topic="events") == []


def test_from_dict_refuses_bad_input_with_field_errors(city: City) -> None:
    with translation.override("en"), pytest.raises(SegmentError) as caught:
        Filters.from_dict(
            {
                "districts": ["ueno-tobu", "atlantis"],
                "areas": ["nowhere"],
                "age_min": 80,
                "age_max": 70,
                "child_age_min": "x",
                "languages": ["klingon"],
                "interests": ["knitting"],
                "channels": ["pigeon"],
                "care": "maybe",
                "colour": "blue",
            }
        )
    errors = caught.value.errors
    assert errors["districts"] == ["Unknown district: atlantis."]
    assert errors["areas"] == ["Unknown area: nowhere."]
    assert "highest age" in errors["age_max"][0]
    assert errors["child_age_min"] == ["Enter a whole number of years."]
    assert set(errors) >= {"languages", "interests", "channels", "care", "__all__"}
    with pytest.raises(SegmentError) as caught:
        Filters.from_dict({"age_min": 200})
    assert "age_min" in caught.value.errors


def test_to_dict_round_trip_and_describe(city: City) -> None:
    chosen = Filters.from_dict(
        {
            "districts": ["ueno-tobu"],
            "age_min": "65",
            "age_max": 74,
            "child_age_min": 0,
            "child_age_max": 6,
            "care": "yes",
            "languages": ["pt-br"],
            "interests": ["elderly"],
            "channels": ["line"],
            "foreign": False,
        }
    )
    stored = chosen.to_dict()
    assert stored["age_min"] == 65 and stored["care"] is True and stored["foreign"] is False
    assert Filters.from_dict(stored) == chosen
    assert Filters().to_dict() == {}
    with translation.override("en"):
        lines = chosen.describe()
        assert Filters().describe() == ["Every resident"]
    assert lines == [
        "Districts: Ueno East",
        "Aged 65 to 74",
        "With a child aged 0 to 6",
        "Care in the household",
        "Language: Português",
        "Interested in any of: Elderly care and health",
        "Chose any of the channels: LINE",
        "Japanese residents",
    ]


def test_sample_is_masked_and_its_showing_is_audited(city: City) -> None:
    people = [
        person(
            f"yamada{n}@example.jp",
            display_name="山田 花子" if n == 0 else "",
            district=city.ueno_tobu,
            birth_year=YEAR - 67,
            channels=["email", "line"],
        )
        for n in range(7)
    ]
    clerk = koho_clerk()
    with translation.override("en"):
        rows = segments.sample(Filters(), 5, today=TODAY, actor=clerk, seed=1)
    assert len(rows) == 5
    for row in rows:
        assert set(row) == {"initials", "age_band", "district", "language", "channels"}
        assert row["age_band"] == "60–69"
        assert row["district"] == "Ueno East"
        assert row["channels"] == ["E-mail", "LINE"]
        assert "@" not in repr(row) and "example" not in repr(row)
    event = AuditEvent.objects.get(action="notices.segment_sample")
    assert event.actor_id == clerk.pk
    assert len(event.details["users"]) == 5
    assert set(event.details["users"]) <= {p.pk for p in people}
    # without an actor (a service asking for itself) nothing is written
    segments.sample(Filters(), 2, today=TODAY)
    assert AuditEvent.objects.filter(action="notices.segment_sample").count() == 1


def test_sample_initials(city: City) -> None:
    person("k@example.jp", display_name="Maria Silva")
    with translation.override("en"):
        (row,) = segments.sample(Filters(), 5)
    assert row["initials"] == "M. S."
    assert row["age_band"] == "Age not given"


# --- reachable --------------------------------------------------------------------------


def test_reachable_per_channel(city: City) -> None:
    every = person(
        "every@example.jp",
        channels=["email", "line", "push", "inbox"],
        preferred_language="pt-br",
    )
    link_line(every)
    subscribe_push(every, 0)
    subscribe_push(every, 1)  # two browsers: still one push entry
    blocked = person("blocked@example.jp", channels=["line", "inbox"])
    link_line(blocked, blocked=True)
    unlinked = person("unlinked@example.jp", channels=["line", "push"])
    placeholder = person("counter-0001@resident.example.invalid", channels=["email"])
    result = segments.reachable([every.pk, blocked.pk, unlinked.pk, placeholder.pk])
    assert result == [
        (every.pk, "email", "pt-br"),
        (every.pk, "line", "pt-br"),
        (every.pk, "push", "pt-br"),
        (every.pk, "inbox", "pt-br"),
        (blocked.pk, "inbox", "ja"),
    ]
    with_placeholder = segments.reachable([placeholder.pk], include_placeholder_addresses=True)
    assert with_placeholder == [(placeholder.pk, "email", "ja")]
    assert segments.reachable([every.pk], channels=["line", "inbox"]) == [
        (every.pk, "line", "pt-br"),
        (every.pk, "inbox", "pt-br"),
    ]
    assert segments.reachable([]) == []


def test_reachable_only_chosen_channels_except_in_an_emergency(city: City) -> None:
    inbox_only = person("quiet@example.jp", channels=["inbox"])
    link_line(inbox_only)
    subscribe_push(inbox_only)
    assert segments.reachable([inbox_only.pk]) == [(inbox_only.pk, "inbox", "ja")]
    assert segments.reachable([inbox_only.pk], emergency=True) == [
        (inbox_only.pk, "email", "ja"),
        (inbox_only.pk, "line", "ja"),
        (inbox_only.pk, "push", "ja"),
        (inbox_only.pk, "inbox", "ja"),
    ]
    blocked = person("blocked@example.jp", channels=["inbox"])
    link_line(blocked, blocked=True)
    assert [c for _u, c, _l in segments.reachable([blocked.pk], emergency=True)] == [
        "email",
        "inbox",
    ]


def test_reachable_large_lists_read_whole_tables(
    city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the small-list limit the link tables and profiles are scanned once; the
    answer is the same."""
    people = [person(channels=["line", "push", "email"]) for _ in range(6)]
    for user in people[:3]:
        link_line(user)
    subscribe_push(people[4])
    outsider = person(channels=["line"])
    link_line(outsider)
    wanted = [u.pk for u in people]
    small = segments.reachable(wanted)
    monkeypatch.setattr(segments, "_SMALL", 1)
    assert segments.reachable(wanted) == small
    assert all(u != outsider.pk for u, _c, _l in small)
    assert sum(1 for _u, c, _l in small if c == "line") == 3


# --- saved segments ---------------------------------------------------------------------


def test_save_change_and_delete_a_segment(city: City) -> None:
    clerk = koho_clerk()
    person(district=city.ueno_tobu)
    person(district=city.ueno_tobu, consents=())
    segment = segments.save_segment(
        " Ueno East ", "for the festival", {"districts": ["ueno-tobu"]}, actor=clerk
    )
    assert segment.name == "Ueno East"
    assert segment.filters == {"districts": ["ueno-tobu"]}
    assert segment.last_count == 1
    assert segment.last_counted_at is not None
    assert segment.created_by == clerk
    changed = segments.save_segment(
        "Ueno East", "", Filters(areas=["ueno"]), actor=clerk, segment=segment
    )
    assert changed.pk == segment.pk and changed.filters == {"areas": ["ueno"]}
    actions = list(
        AuditEvent.objects.filter(target_type="notices.segment")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["notices.segment_created", "notices.segment_changed"]
    segments.delete_segment(changed, actor=clerk)
    assert not Segment.objects.exists()
    assert AuditEvent.objects.filter(action="notices.segment_deleted").count() == 1


def test_save_refuses_bad_segments(city: City) -> None:
    clerk = koho_clerk()
    segments.save_segment("Taken", "", {}, actor=clerk)
    with translation.override("en"), pytest.raises(SegmentError) as caught:
        segments.save_segment("Taken", "", {"age_min": 9, "age_max": 3}, actor=clerk)
    assert caught.value.errors["name"] == ["Another segment already has this name."]
    assert "age_max" in caught.value.errors
    with pytest.raises(SegmentError) as caught:
        segments.save_segment("  ", "", {}, actor=clerk)
    assert "name" in caught.value.errors
    assert Segment.objects.count() == 1
    assert AuditEvent.objects.filter(action="notices.segment_created").count() == 1
