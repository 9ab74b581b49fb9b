"""Staff pages for templates and messages: who may, the compose flow end to end (with the
errors shown in the summary), the delivery board and its JSON, cancelling, demo data."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from cityhall.core.models import AuditEvent
from cityhall.notices.models import Delivery, Message, MessageTemplate, Segment
from tests.notices.staffmsg_support import (
    make_bosai,
    make_koho,
    make_other,
    make_town,
    staff_client,
)

pytestmark = pytest.mark.django_db

VALUES = {"value_event": "忍者まつり", "value_date": "4月1日"}


def _summary(response: Any) -> str:
    html = response.content.decode()
    match = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert match, "no error summary on the page"
    return match.group(0)


@pytest.fixture
def town(geography: dict[str, Any]) -> dict[str, Any]:
    return make_town(geography)


def _step2(template: Any, segment: Any, **extra: Any) -> dict[str, Any]:
    data = {
        "step": "2",
        "template": template.pk,
        "segment": segment.pk,
        "channels": ["email", "inbox"],
        "when": "now",
        **VALUES,
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


# --- permissions ------------------------------------------------------------------------


def test_koho_composes_but_does_not_alert(client: Any, news_template: Any) -> None:
    staff_client(client, make_koho())
    assert client.get(reverse("noticestaff:messages")).status_code == 200
    assert client.get(reverse("noticestaff:message_new")).status_code == 200
    assert client.get(reverse("noticestaff:templates")).status_code == 200
    assert client.get(reverse("noticestaff:template_new")).status_code == 200
    assert client.get(reverse("noticestaff:template", args=[news_template.pk])).status_code == 200
    assert client.get(reverse("noticestaff:alert_new")).status_code == 403


def test_bosai_alerts_but_does_not_compose_news(
    client: Any, news_template: Any, alert_template: Any
) -> None:
    staff_client(client, make_bosai())
    assert client.get(reverse("noticestaff:alert_new")).status_code == 200
    assert client.get(reverse("noticestaff:messages")).status_code == 200
    assert client.get(reverse("noticestaff:message_new")).status_code == 403
    # emergency templates are theirs, news templates are not
    assert client.get(reverse("noticestaff:template", args=[alert_template.pk])).status_code == 200
    assert client.get(reverse("noticestaff:template", args=[news_template.pk])).status_code == 403


def test_other_department_gets_403(client: Any, news_template: Any) -> None:
    staff_client(client, make_other())
    message = Message.objects.create(topic="events", template=news_template)
    for name, args in (
        ("noticestaff:messages", []),
        ("noticestaff:message_new", []),
        ("noticestaff:templates", []),
        ("noticestaff:template_new", []),
        ("noticestaff:template", [news_template.pk]),
        ("noticestaff:message", [message.pk]),
        ("noticestaff:alert_new", []),
    ):
        assert client.get(reverse(name, args=args)).status_code == 403, name
    response = client.get(reverse("noticestaff:message_board", args=[message.pk]))
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert client.post(reverse("noticestaff:message_cancel", args=[message.pk])).status_code == 403


def test_residents_and_anonymous_are_kept_out(client: Any, resident: Any) -> None:
    response = client.get(reverse("noticestaff:message_new"))
    assert response.status_code in (302, 403)
    client.force_login(resident)
    response = client.get(reverse("noticestaff:alert_new"))
    assert response.status_code in (302, 403)


# --- templates pages --------------------------------------------------------------------


def test_template_new_shows_every_language_with_lang_and_errors(client: Any) -> None:
    koho = make_koho()
    staff_client(client, koho)
    page = client.get(reverse("noticestaff:template_new")).content.decode()
    # やさしい日本語 first, each input with its lang
    assert page.index('id="lang-ja-easy"') < page.index('id="lang-ja"') < page.index('id="lang-es"')
    assert 'name="subject_pt_br"' in page and 'lang="pt-BR"' in page
    assert 'name="body_zh_hans"' in page and 'lang="zh-Hans"' in page
    # emergency kind is not offered to the public-relations clerk
    assert 'value="emergency"' not in page.split('name="kind"')[1].split("</select>")[0]

    response = client.post(
        reverse("noticestaff:template_new"),
        {
            "name": "ごみ",
            "kind": "news",
            "topic": "garbage",
            "is_active": "on",
            "subject_en": "Garbage ((date))",
            "body_en": "Dear ((name))",
            "subject_ja": "ごみ ((date))",
            "body_ja": "((name))様 ((date))から ((shleter))",
        },
    )
    assert response.status_code == 400
    summary = _summary(response)
    assert "English (en) lacks ((shleter))" in summary
    assert 'href="#id_body_en"' in summary
    assert "((shleter))" in response.content.decode().split("Placeholders found")[1]
    assert MessageTemplate.objects.count() == 0

    response = client.post(
        reverse("noticestaff:template_new"),
        {
            "name": "ごみ",
            "code": "garbage-day",
            "kind": "news",
            "topic": "garbage",
            "is_active": "on",
            "subject_ja": "ごみ ((date))",
            "body_ja": "((name))様 ((date))から",
            "subject_en": "Garbage ((date))",
            "body_en": "Dear ((name)), from ((date))",
        },
    )
    template = MessageTemplate.objects.get(code="garbage-day")
    assert response.status_code == 302
    assert response["Location"] == reverse("noticestaff:template", args=[template.pk])
    assert AuditEvent.objects.filter(action="notices.template_created").exists()


def test_template_edit_refuses_a_translation_without_a_placeholder(
    client: Any, alert_template: Any
) -> None:
    staff_client(client, make_bosai())
    url = reverse("noticestaff:template", args=[alert_template.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = {
        "name": alert_template.name,
        "kind": "emergency",
        "topic": "emergency",
        "is_active": "on",
    }
    for code, parts in alert_template.content.items():
        key = code.replace("-", "_")
        data[f"subject_{key}"] = parts["subject"]
        data[f"body_{key}"] = parts["body"]
    data["body_vi"] = "Hãy đi sơ tán ngay."  # dropped ((name)) and ((shelter))
    data["subject_es"] = ""
    data["body_es"] = ""
    response = client.post(url, data)
    assert response.status_code == 400
    summary = _summary(response)
    assert "Tiếng Việt (vi) lacks ((name)), ((shelter))" in summary
    assert "Español (es) is missing" in summary
    data["body_vi"] = "((name)): đi đến ((shelter))."
    data["subject_es"] = "Evacúen ((area))"
    data["body_es"] = "((name)): vayan a ((shelter))."
    response = client.post(url, data)
    assert response.status_code == 302
    alert_template.refresh_from_db()
    assert alert_template.content["es"]["subject"] == "Evacúen ((area))"


def test_template_list_shows_languages_and_placeholders(
    client: Any, news_template: Any, alert_template: Any
) -> None:
    staff_client(client, make_koho())
    page = client.get(reverse("noticestaff:templates")).content.decode()
    assert news_template.name in page and "((event))" in page
    # koho may not edit the emergency template: no link
    assert reverse("noticestaff:template", args=[alert_template.pk]) not in page
    assert reverse("noticestaff:template", args=[news_template.pk]) in page


# --- compose ----------------------------------------------------------------------------


def test_compose_step_one_requires_template_and_segment(client: Any, town: Any) -> None:
    staff_client(client, make_koho())
    response = client.post(reverse("noticestaff:message_new"), {"step": "1"})
    assert response.status_code == 400
    summary = _summary(response)
    assert 'href="#id_template"' in summary and 'href="#id_segment"' in summary


def test_compose_end_to_end(client: Any, town: Any, news_template: Any) -> None:
    koho = make_koho()
    staff_client(client, koho)
    url = reverse("noticestaff:message_new")
    step2 = client.post(
        url, {"step": "1", "template": news_template.pk, "segment": town["segment"].pk}
    )
    assert step2.status_code == 200
    page = step2.content.decode()
    assert 'name="value_event"' in page and 'name="value_date"' in page
    assert 'name="value_name"' not in page  # filled per resident
    assert 'type="datetime-local"' in page
    assert 'lang="vi"' in page  # preview per language

    # "Change" goes back to step 1 with both answers chosen
    change = client.get(f"{url}?template={news_template.pk}&segment={town['segment'].pk}")
    back = change.content.decode()
    assert 'name="step" value="1"' in back
    assert f'value="{news_template.pk}" selected' in back
    assert f'value="{town["segment"].pk}" selected' in back

    # review: the confirm step with residents, channels, languages
    review = client.post(url, _step2(news_template, town["segment"], action="review"))
    assert review.status_code == 200
    text = review.content.decode()
    assert "2 residents will receive this message." in text
    assert "Tiếng Việt" in text and "E-mail: 1" in text and "Inbox on this site: 2" in text
    assert "[ja] 忍者まつり on 4月1日" in text
    assert 'value="send"' in text
    assert Message.objects.count() == 0  # nothing yet

    sent = client.post(url, _step2(news_template, town["segment"], action="send"))
    message = Message.objects.get()
    assert sent.status_code == 302
    assert sent["Location"] == reverse("noticestaff:message", args=[message.pk])
    assert message.created_by == koho and message.segment == town["segment"]
    assert message.values == {"event": "忍者まつり", "date": "4月1日"}
    assert set(message.channels) == {"email", "inbox"}
    emails = set(Delivery.objects.filter(message=message).values_list("user__email", "channel"))
    assert emails == {
        ("hanako@example.jp", "email"),
        ("hanako@example.jp", "inbox"),
        ("lan@example.jp", "inbox"),
    }


def test_compose_schedule_later(client: Any, town: Any, news_template: Any) -> None:
    staff_client(client, make_koho())
    later = timezone.localtime() + dt.timedelta(days=2)
    response = client.post(
        reverse("noticestaff:message_new"),
        _step2(
            news_template,
            town["segment"],
            action="send",
            when="later",
            scheduled_at=later.strftime("%Y-%m-%dT%H:%M"),
        ),
    )
    message = Message.objects.get()
    assert response.status_code == 302
    assert message.state == Message.State.SCHEDULED
    assert message.scheduled_at is not None
    assert not Delivery.objects.filter(message=message).exists()


def test_compose_refuses_a_past_schedule(client: Any, town: Any, news_template: Any) -> None:
    staff_client(client, make_koho())
    past = timezone.localtime() - dt.timedelta(hours=1)
    for action in ("review", "send"):
        response = client.post(
            reverse("noticestaff:message_new"),
            _step2(
                news_template,
                town["segment"],
                action=action,
                when="later",
                scheduled_at=past.strftime("%Y-%m-%dT%H:%M"),
            ),
        )
        assert response.status_code == 400
        summary = _summary(response)
        assert "must be in the future" in summary
        assert 'href="#id_scheduled_at"' in summary
    assert Message.objects.count() == 0


def test_compose_refuses_a_missing_placeholder_value(
    client: Any, town: Any, news_template: Any
) -> None:
    staff_client(client, make_koho())
    response = client.post(
        reverse("noticestaff:message_new"),
        _step2(news_template, town["segment"], action="send", value_date=""),
    )
    assert response.status_code == 400
    summary = _summary(response)
    assert "Enter a value for ((date))." in summary
    assert 'href="#id_value_date"' in summary
    assert Message.objects.count() == 0


def test_compose_refuses_an_unknown_placeholder_from_the_engine(
    client: Any, town: Any, news_template: Any
) -> None:
    """A template changed between the steps: the engine names the placeholder."""
    staff_client(client, make_koho())
    data = _step2(news_template, town["segment"], action="send")
    content = dict(news_template.content)
    for code in content:
        content[code] = {**content[code], "body": content[code]["body"] + " ((venue))"}
    MessageTemplate.objects.filter(pk=news_template.pk).update(content=content)
    response = client.post(reverse("noticestaff:message_new"), data)
    assert response.status_code == 400
    assert "((venue))" in _summary(response)
    assert Message.objects.count() == 0


def test_compose_refuses_an_empty_segment(client: Any, town: Any, news_template: Any) -> None:
    staff_client(client, make_koho())
    for action in ("review", "send"):
        response = client.post(
            reverse("noticestaff:message_new"),
            _step2(news_template, town["empty_segment"], action=action),
        )
        assert response.status_code == 400
        assert "Nobody in this segment can receive the message" in _summary(response)
    assert Message.objects.count() == 0


def test_compose_offers_only_available_channels(
    client: Any, town: Any, news_template: Any, settings: Any
) -> None:
    settings.LINE_CHANNEL_ACCESS_TOKEN = ""
    staff_client(client, make_koho())
    page = client.post(
        reverse("noticestaff:message_new"),
        {"step": "1", "template": news_template.pk, "segment": town["segment"].pk},
    ).content.decode()
    assert 'value="email"' in page and 'value="inbox"' in page
    assert 'name="channels" value="line"' not in page


def test_emergency_templates_are_not_composed_as_news(
    client: Any, town: Any, alert_template: Any
) -> None:
    staff_client(client, make_koho())
    response = client.post(
        reverse("noticestaff:message_new"),
        {"step": "1", "template": alert_template.pk, "segment": town["segment"].pk},
    )
    assert response.status_code == 400
    assert 'href="#id_template"' in _summary(response)


# --- the board --------------------------------------------------------------------------


def _sent_message(client: Any, town: Any, template: Any) -> Message:
    client.post(
        reverse("noticestaff:message_new"), _step2(template, town["segment"], action="send")
    )
    return Message.objects.get()


def test_board_page_and_json(client: Any, town: Any, news_template: Any) -> None:
    staff_client(client, make_koho())
    message = _sent_message(client, town, news_template)
    page = client.get(reverse("noticestaff:message", args=[message.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-cell="inbox.queued">2<' in html
    assert 'data-cell="total.total">3<' in html
    assert "notices/board.js" in html
    assert "Refresh to see the progress" in html  # without JavaScript

    board_url = reverse("noticestaff:message_board", args=[message.pk])
    data = client.get(board_url).json()
    assert data["total"] == 3 and data["done"] is False
    assert data["cells"]["email.queued"] == 1 and data["cells"]["inbox.queued"] == 2
    assert data["progress"]["processed"] == 0

    # two delivered, one failed: the numbers move
    deliveries = list(Delivery.objects.filter(message=message).order_by("id"))
    Delivery.objects.filter(pk=deliveries[0].pk).update(state="sent")
    Delivery.objects.filter(pk=deliveries[1].pk).update(state="failed")
    Delivery.objects.filter(pk=deliveries[2].pk).update(state="opened")
    Message.objects.filter(pk=message.pk).update(state=Message.State.DONE)
    data = client.get(board_url).json()
    assert data["done"] is True
    assert data["progress"]["processed"] == 3 and data["progress"]["percent"] == 100
    assert data["cells"]["total.sent"] + data["cells"]["total.failed"] == 2
    assert data["cells"]["total.opened"] == 1
    assert "Finished" in data["progress"]["text"]
    html = client.get(reverse("noticestaff:message", args=[message.pk])).content.decode()
    assert 'data-poll=""' in html and "Refresh to see the progress" not in html


def test_board_json_problem_for_unknown_message(client: Any) -> None:
    staff_client(client, make_koho())
    response = client.get(reverse("noticestaff:message_board", args=[999]))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_cancel_needs_a_confirmation(client: Any, town: Any, news_template: Any) -> None:
    koho = make_koho()
    staff_client(client, koho)
    message = _sent_message(client, town, news_template)
    url = reverse("noticestaff:message_cancel", args=[message.pk])
    assert client.get(url).status_code == 405
    confirm = client.post(url)
    assert confirm.status_code == 200
    assert "3 deliveries not yet sent will be skipped" in confirm.content.decode()
    message.refresh_from_db()
    assert message.state == Message.State.SENDING
    done = client.post(url, {"confirm": "yes"})
    assert done.status_code == 302
    message.refresh_from_db()
    assert message.state == Message.State.CANCELLED
    assert set(Delivery.objects.filter(message=message).values_list("state", flat=True)) == {
        "skipped"
    }
    assert AuditEvent.objects.filter(action="notices.message_cancelled").exists()
    # finished: no button, and a second try is refused politely
    page = client.get(reverse("noticestaff:message", args=[message.pk])).content.decode()
    assert url not in page
    again = client.post(url, {"confirm": "yes"}, follow=True)
    assert "cannot be cancelled" in again.content.decode()


def test_message_list_links(client: Any, town: Any, news_template: Any) -> None:
    staff_client(client, make_koho())
    message = _sent_message(client, town, news_template)
    page = client.get(reverse("noticestaff:messages")).content.decode()
    assert reverse("noticestaff:message", args=[message.pk]) in page
    assert reverse("noticestaff:segments") in page
    assert reverse("noticestaff:templates") in page
    assert town["segment"].name in page


# --- demo -------------------------------------------------------------------------------


def test_demo_seeds_templates_articles_segments_and_sends_nothing(
    geography: dict[str, Any],
) -> None:
    from cityhall.notices.demo import seed_demo_notices

    first = seed_demo_notices()
    assert first["templates"] == MessageTemplate.objects.count() > 0
    assert set(Segment.objects.values_list("name", flat=True)) == {
        "子育て世帯（上野）",
        "65歳以上・介護",
    }
    assert Message.objects.count() == 0
    again = seed_demo_notices()
    assert again == {"templates": 0, "articles": 0, "segments": 0}


# --- admin ------------------------------------------------------------------------------


def test_admin_is_read_mostly(client: Any, town: Any, news_template: Any) -> None:
    from tests.conftest import make_staff

    admin_user = make_staff("admin@city.iga.example", "admin", "dx")
    staff_client(client, admin_user)
    message = Message.objects.create(topic="events", template=news_template)
    Delivery.objects.create(message=message, user=town["hanako"], channel="email")
    base = "/staff/admin/notices/"
    for path in ("article/", "messagetemplate/", "segment/", "message/", "delivery/"):
        assert client.get(base + path).status_code == 200, path
        assert client.get(base + path + "add/").status_code == 403, path
    assert (
        client.get(base + "delivery/?state__exact=queued&channel__exact=email").status_code == 200
    )
    delivery = Delivery.objects.get()
    # a delivery names a resident: there is no change page to open, nor a form to post
    page = client.get(f"{base}delivery/{delivery.pk}/change/")
    assert page.status_code in (200, 302)
    if page.status_code == 200:
        assert 'type="submit" value="Save"' not in page.content.decode()
    assert client.post(f"{base}delivery/{delivery.pk}/delete/").status_code == 403
    # templates: the name and the switch may change here, the texts only in the console
    url = f"{base}messagetemplate/{news_template.pk}/change/"
    response = client.post(url, {"name": "改名", "is_active": "on"})
    assert response.status_code == 302
    news_template.refresh_from_db()
    assert news_template.name == "改名"
    assert AuditEvent.objects.filter(action="admin.change").exists()
    # a clerk sees nothing
    client.logout()
    staff_client(client, make_koho())
    assert client.get(base + "delivery/").status_code == 403
