"""The emergency alert page: the fast path end to end, the confirm step with the reach,
errors in the summary, and who may."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from cityhall.core.models import AuditEvent
from cityhall.notices.models import Article, Delivery, Message, MessageTemplate
from cityhall.notices.services import templates
from tests.notices.conftest import make_notice_resident
from tests.notices.staffmsg_support import make_bosai, make_koho, make_town, staff_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def town(geography: dict[str, Any]) -> dict[str, Any]:
    templates.seed_templates()
    town = make_town(geography)
    # emergency consent only, no chosen channel: alerts still reach the inbox
    town["emergency_only"] = make_notice_resident(
        "emergencyonly@example.jp", district=town["d1"], consents=["emergency"], channels=[]
    )
    return town


def _summary(response: Any) -> str:
    match = re.search(r'<div class="error-summary".*?</div>', response.content.decode(), re.S)
    assert match, "no error summary"
    return match.group(0)


def _level4() -> MessageTemplate:
    return MessageTemplate.objects.get(code="alert-level4")


def test_page_lists_presets_with_easy_japanese_and_districts_by_area(
    client: Any, town: Any
) -> None:
    staff_client(client, make_bosai())
    page = client.get(reverse("noticestaff:alert_new")).content.decode()
    assert "警戒レベル4 避難指示" in page and "熊の出没" in page
    assert "【レベル4】すぐに にげてください（((area))）" in page
    assert 'lang="ja"' in page
    assert "上野" in page and "青山" in page  # area legends
    assert 'value="ueno-tobu"' in page and 'name="whole_city"' in page
    assert "上野東小学校" in page  # shelter list
    assert re.search(r'name="value_time"[^>]*value="\d\d:\d\d"', page)
    assert 'name="value_water_point"' in page  # the water outage preset's own value


def test_alert_end_to_end(client: Any, town: Any) -> None:
    bosai = make_bosai()
    staff_client(client, bosai)
    url = reverse("noticestaff:alert_new")
    data = {
        "template": _level4().pk,
        "districts": ["ueno-tobu"],
        "shelter_facility": "ueno-tobu-shelter",
        "value_time": "14:30",
        "action": "review",
    }
    review = client.post(url, data)
    assert review.status_code == 200
    html = review.content.decode()
    # hanako, lan, emergency_only (no_consent has no emergency consent; aoyama elsewhere)
    assert "3 residents who agreed to emergency alerts will be reached" in html
    assert "14:30に 上野東部に「レベル4」が でました。" in html
    assert "上野東小学校" in html
    assert 'id="confirm-send"' in html and "autofocus" in html
    assert Message.objects.count() == 0

    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    assert hidden["template"] == str(_level4().pk) and hidden["districts"] == "ueno-tobu"
    sent = client.post(url, {**data, "action": "send"})
    message = Message.objects.get()
    assert sent.status_code == 302
    assert sent["Location"] == reverse("noticestaff:message", args=[message.pk])
    assert message.kind == "emergency" and message.level == "level4"
    assert message.filters == {"districts": ["ueno-tobu"]}
    assert message.values == {"area": "上野東部", "shelter": "上野東小学校", "time": "14:30"}
    users = set(Delivery.objects.filter(message=message).values_list("user__email", flat=True))
    assert users == {"hanako@example.jp", "lan@example.jp", "emergencyonly@example.jp"}
    assert Article.objects.filter(urgent=True).exists()
    assert AuditEvent.objects.filter(action="notices.alert_sent").exists()

    board = client.get(sent["Location"])
    assert board.status_code == 200
    assert "data-cell=" in board.content.decode()
    assert "上野東部" in board.content.decode()  # the district by name


def test_whole_city_and_free_text_shelter(client: Any, town: Any) -> None:
    staff_client(client, make_bosai())
    data = {
        "template": _level4().pk,
        "whole_city": "on",
        "shelter_facility": "ueno-tobu-shelter",
        "value_shelter": "市民体育館",
        "value_time": "9:00",
        "level": "level5",
        "action": "send",
    }
    response = client.post(reverse("noticestaff:alert_new"), data)
    assert response.status_code == 302
    message = Message.objects.get()
    assert message.filters == {"districts": []}
    assert message.level == "level5"  # chosen over the preset's
    assert message.values["area"] == "伊賀市全域"
    assert message.values["shelter"] == "市民体育館"
    assert message.recipients == 4  # aoyama too


def test_alert_errors_in_the_summary(client: Any, town: Any) -> None:
    staff_client(client, make_bosai())
    url = reverse("noticestaff:alert_new")
    response = client.post(url, {"action": "review", "value_time": ""})
    assert response.status_code == 400
    summary = _summary(response)
    assert 'href="#id_template_0"' in summary
    assert "Choose the districts, or the whole city." in summary
    assert 'href="#id_districts_0"' in summary

    response = client.post(
        url,
        {
            "template": _level4().pk,
            "whole_city": "on",
            "districts": ["ueno-tobu"],
            "value_time": "",
            "action": "review",
        },
    )
    summary = _summary(response)
    assert "not both" in summary
    assert "Choose the shelter, or write its name." in summary
    assert "Enter a value for ((time))." in summary

    water = MessageTemplate.objects.get(code="alert-water-outage")
    response = client.post(
        url,
        {"template": water.pk, "districts": ["ueno-tobu"], "value_time": "8:00", "action": "send"},
    )
    assert "Enter a value for ((water_point))." in _summary(response)
    assert Message.objects.count() == 0


def test_nobody_to_reach(client: Any, town: Any, geography: dict[str, Any]) -> None:
    from cityhall.core.models import District

    District.objects.create(code="empty", name="無人地区", area=geography["ueno"], order=9)
    staff_client(client, make_bosai())
    for action in ("review", "send"):
        response = client.post(
            reverse("noticestaff:alert_new"),
            {
                "template": MessageTemplate.objects.get(code="alert-bear").pk,
                "districts": ["empty"],
                "value_time": "7:00",
                "action": action,
            },
        )
        assert response.status_code == 400
        assert "Nobody in these districts" in _summary(response)
    assert Message.objects.count() == 0


def test_only_alert_staff(client: Any, town: Any) -> None:
    staff_client(client, make_koho())
    response = client.post(
        reverse("noticestaff:alert_new"),
        {"template": _level4().pk, "whole_city": "on", "action": "send"},
    )
    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_bosai_cancels_an_alert_and_sees_the_board(client: Any, town: Any) -> None:
    staff_client(client, make_bosai())
    client.post(
        reverse("noticestaff:alert_new"),
        {
            "template": MessageTemplate.objects.get(code="alert-bear").pk,
            "districts": ["aoyama-hokubu"],
            "value_time": "6:00",
            "action": "send",
        },
    )
    message = Message.objects.get()
    data = client.get(reverse("noticestaff:message_board", args=[message.pk])).json()
    # an alert goes on every linked channel, chosen or not: e-mail and inbox
    assert data["total"] == 2
    assert data["cells"]["inbox.queued"] == 1 and data["cells"]["email.queued"] == 1
    response = client.post(
        reverse("noticestaff:message_cancel", args=[message.pk]), {"confirm": "yes"}
    )
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.state == Message.State.CANCELLED
