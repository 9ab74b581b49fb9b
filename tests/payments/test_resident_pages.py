"""My payments for residents: only their own charges, what is due and overdue, what is
paid and how, each slip with its eL-QR (read back by zxing-cpp), the eL番号, the ways to
pay and the PDF; every other notice number is the same 404."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import dateformat, timezone

from cityhall.payments.models import Channel, Installment, PaymentNotice
from cityhall.payments.services import ledger, notices
from tests.conftest import login_staff, make_resident
from tests.e2e.helpers import HTML_LANG, LANGUAGES
from tests.payments.factories import make_charge, make_kind, notice_of
from tests.payments.test_resident_support import World, build_world, rasterise, svg_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db: Any) -> World:
    return build_world()


@pytest.fixture
def hanako(client: Client, world: World) -> Client:
    client.force_login(world.resident)
    client.cookies["cityhall_lang"] = "en"  # the words below are the English msgids
    return client


def page(client: Client, name: str, *args: Any, status: int = 200) -> str:
    response = client.get(reverse(name, args=args))
    assert response.status_code == status, response.content[:500]
    return response.content.decode()


def text(html: str) -> str:
    """The page's words, tags removed and spaces folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- who may see what ---------------------------------------------------------------------


def test_visitors_are_sent_to_the_login_page(client: Client, world: World) -> None:
    number = world.due_notice.notice_number
    for url in (
        reverse("payments:mine"),
        reverse("payments:notice", args=[number]),
        reverse("payments:notice_pdf", args=[number]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("people:login"))
        assert "next=" in response["Location"]


def test_staff_accounts_go_to_the_staff_console(client: Client, world: World) -> None:
    login_staff(client, world.staff)
    response = client.get(reverse("payments:mine"))
    assert response.status_code == 302 and response["Location"] == reverse("staff:home")


def test_a_resident_sees_only_their_own_charges(hanako: Client, world: World) -> None:
    html = page(hanako, "payments:mine")
    words = text(html)
    assert "Kojin Juminzei" in words and "Shomei Tesuryo" in words
    assert "Suido Ryokin" not in words and "4,321" not in words
    assert world.others_notice.notice_number not in html
    assert world.due_notice.notice_number in html and world.fee_notice.notice_number in html


def test_another_residents_slip_is_not_found_everywhere(hanako: Client, world: World) -> None:
    theirs = world.others_notice.notice_number
    missing = "9" * 20
    bodies = []
    for number in (theirs, missing, "123", "abc" * 7):
        for name in ("payments:notice", "payments:notice_pdf"):
            response = hanako.get(reverse(name, args=[number]))
            assert response.status_code == 404, (name, number)
            body = response.content.replace(number.encode(), b"N")
            bodies.append(re.sub(rb'name="csrfmiddlewaretoken" value="\w+"', b"", body))
    # an existing number of someone else reads exactly like one that does not exist
    # (the page repeats its own address, so the number itself is set aside)
    assert bodies[0] == bodies[2] and bodies[1] == bodies[3]


def test_the_owner_of_the_other_charge_does_see_it(client: Client, world: World) -> None:
    client.force_login(world.other)
    html = page(client, "payments:notice", world.others_notice.notice_number)
    assert "水道料金" in html
    html = page(client, "payments:notice", world.due_notice.notice_number, status=404)


# --- My payments ----------------------------------------------------------------------------


def test_amounts_due_dates_and_overdue_are_shown_in_words(hanako: Client, world: World) -> None:
    words = text(page(hanako, "payments:mine"))
    assert "¥123,400" in words and "¥98,700" in words and "¥900" in words
    assert "¥45,600" in words
    # totals: everything open
    assert "You have 4 payments to make: ¥268,600 in all." in words
    # overdue is said in words, not only by colour (the first tax installment)
    assert words.count("Overdue: please pay as soon as you can") == 1
    assert "1 payment is past its due date" in words
    assert "Instalment 1 of 2" in words and "第1期" in words and "Instalment 2 of 2" in words
    year = timezone.localdate().year
    assert f"Fiscal year {year}" in words and "令和" in words
    due = world.overdue_notice.due_date
    hanako.cookies["cityhall_lang"] = "ja"
    assert f"{due.year}年{due.month}月{due.day}日" in text(page(hanako, "payments:mine"))


def test_payments_are_grouped_by_fiscal_year_newest_first(hanako: Client, world: World) -> None:
    make_charge(
        kind=make_kind(),
        resident=world.resident,
        amounts=(5_000,),
        first_due=timezone.localdate() + dt.timedelta(days=10),
        fiscal_year=world.tax.fiscal_year - 1,
        reference="9000000001",
    )
    words = text(page(hanako, "payments:mine"))
    this, last = world.tax.fiscal_year, world.tax.fiscal_year - 1
    assert words.index(f"Fiscal year {this}") < words.index(f"Fiscal year {last}")
    assert words.index("¥5,000") > words.index(f"Fiscal year {last}")


def test_paid_shows_date_and_channel_and_provisional_is_being_confirmed(
    hanako: Client, world: World
) -> None:
    today = timezone.localdate()
    provisional = world.due_notice
    ledger.record_payment(
        notice=world.fee_notice,
        amount_yen=900,
        channel=Channel.ONLINE,
        state="final",
        paid_on=today,
    )
    ledger.record_payment(
        notice=provisional,
        amount_yen=123_400,
        channel=Channel.CVS,
        state="provisional",
        paid_on=today,
    )
    html = page(hanako, "payments:mine")
    words = text(html)
    paid = words[words.index("Paid Fiscal year") :]
    assert "Shomei Tesuryo" in paid and "Card or wallet online" in paid
    assert dateformat.format(today, "N j, Y") in paid
    assert "Paid at a store, being confirmed" in words
    assert "You do not need to pay this again." in words
    # the second tax installment and the overdue premium are left to pay
    assert "You have 2 payments to make: ¥144,300 in all." in words
    # a provisional or paid installment offers no slip to pay
    assert reverse("payments:notice", args=[provisional.notice_number]) not in html


def test_an_empty_page_explains_how_charges_appear(client: Client, world: World) -> None:
    client.force_login(make_resident("newcomer@example.jp"))
    client.cookies["cityhall_lang"] = "en"
    words = text(page(client, "payments:mine"))
    assert "There is nothing here yet." in words
    assert "宛名番号" in words and "収納課" in words


# --- one slip -------------------------------------------------------------------------------


def test_the_slip_page_shows_qr_el_number_and_ways_to_pay(hanako: Client, world: World) -> None:
    import zxingcpp

    notice = world.due_notice
    html = page(hanako, "payments:notice", notice.notice_number)
    words = text(html)
    assert "¥123,400" in words and "Kojin Juminzei" in words
    assert world.tax.reference in words
    # the eL番号, as four labelled items (the notice number grouped by four)
    assert re.search(r'id="el-institution">24216<', html)
    grouped = "".join(f"<span>{notice.notice_number[i : i + 4]}</span>" for i in range(0, 20, 4))
    assert f'id="el-notice">{grouped}<' in html
    assert f'id="el-check">{notice.check_number}<' in html
    assert 'id="el-tax">011<' in html
    # the convenience-store digits as text, with the advice to print the slip
    assert notice.cvs_barcode and f'id="cvs-digits">{notice.cvs_barcode}<' in html
    assert "A barcode shown on a phone screen is usually not accepted" in words
    # the PDF, and no online payment for a tax over the online limit
    assert reverse("payments:notice_pdf", args=[notice.notice_number]) in html
    assert 'id="pay-online"' not in html
    # the eL-QR: large enough on screen, with a name, and read back by a real reader
    svg = svg_of(html)
    assert 'role="img"' in svg and "aria-label=" in svg
    width = int(re.search(r'width="(\d+)"', svg).group(1))  # type: ignore[union-attr]
    assert width >= 250
    results = zxingcpp.read_barcodes(rasterise(svg))
    assert len(results) == 1
    assert results[0].format == zxingcpp.BarcodeFormat.QRCode
    assert results[0].text == notice.elqr_payload and len(results[0].text) == 255
    assert results[0].symbology_identifier == "]Q1"
    assert results[0].ec_level == "M"


def test_overdue_slip_says_so(hanako: Client, world: World) -> None:
    words = text(page(hanako, "payments:notice", world.overdue_notice.notice_number))
    assert "Overdue" in words and "the due date has passed" in words


def test_a_small_fee_can_be_paid_online_by_a_post_form(hanako: Client, world: World) -> None:
    notice = world.fee_notice
    html = page(hanako, "payments:notice", notice.notice_number)
    form = re.search(
        r'<form method="post" action="([^"]+)" class="pay-online">(.*?)</form>', html, re.S
    )
    assert form and form.group(1) == reverse("payments:pay", args=[notice.notice_number])
    assert "csrfmiddlewaretoken" in form.group(2) and "¥900" in form.group(2)


def test_no_online_payment_over_the_limit(hanako: Client, world: World, settings: Any) -> None:
    settings.PAYMENT_ONLINE_LIMIT_YEN = 800
    html = page(hanako, "payments:notice", world.fee_notice.notice_number)
    assert 'id="pay-online"' not in html


def test_no_store_barcode_over_the_agents_limit(hanako: Client, world: World) -> None:
    big = make_charge(
        kind=make_kind(), resident=world.resident, amounts=(450_000,), reference="9000000002"
    )
    notice = notice_of(big)
    assert notice.cvs_barcode == ""
    words = text(page(hanako, "payments:notice", notice.notice_number))
    assert "cannot be paid at a convenience store" in words
    assert 'id="cvs-digits"' not in words


def test_a_replaced_slip_links_to_its_replacement(hanako: Client, world: World) -> None:
    old = world.due_notice
    first = notices.reissue(
        old.installment, due_date=timezone.localdate() + dt.timedelta(days=30), actor=world.staff
    )
    newest = notices.reissue(
        old.installment, due_date=timezone.localdate() + dt.timedelta(days=60), actor=world.staff
    )
    html = page(hanako, "payments:notice", old.notice_number)
    words = text(html)
    assert "This slip was replaced by a new one." in words
    # straight to the newest slip, not the one in between
    assert reverse("payments:notice", args=[newest.notice_number]) in html
    assert reverse("payments:notice", args=[first.notice_number]) not in html
    # nothing on it to pay with
    assert 'id="elqr"' not in html and old.elqr_payload not in html
    assert reverse("payments:notice_pdf", args=[old.notice_number]) not in html
    response = hanako.get(reverse("payments:notice_pdf", args=[old.notice_number]))
    assert response.status_code == 302
    assert response["Location"] == reverse("payments:notice", args=[old.notice_number])
    # My payments links to the valid slip
    mine = page(hanako, "payments:mine")
    assert newest.notice_number in mine and old.notice_number not in mine


def test_a_paid_slip_says_paid(hanako: Client, world: World) -> None:
    notice = world.fee_notice
    ledger.record_payment(
        notice=notice,
        amount_yen=900,
        channel=Channel.COUNTER,
        state="final",
        paid_on=timezone.localdate(),
    )
    assert Installment.objects.get(pk=notice.installment_id).status == "paid"
    html = page(hanako, "payments:notice", notice.notice_number)
    words = text(html)
    assert "Paid. Thank you." in words and "At the city hall counter" in words
    assert 'id="elqr"' not in html and 'id="pay-online"' not in html


# --- the PDF --------------------------------------------------------------------------------


def test_the_pdf_is_a_private_attachment(hanako: Client, world: World) -> None:
    notice = world.due_notice
    response = hanako.get(reverse("payments:notice_pdf", args=[notice.notice_number]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"] == (
        f'attachment; filename="payment-slip-{notice.notice_number}.pdf"'
    )
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


# --- languages ------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_works_in_every_language(
    hanako: Client, world: World, language: str, settings: Any
) -> None:
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "OPTIONS": {**settings.TEMPLATES[0]["OPTIONS"]}}
    ]
    settings.TEMPLATES[0]["OPTIONS"]["string_if_invalid"] = "!!MISSING %s!!"
    hanako.cookies["cityhall_lang"] = language
    for name, args in (
        ("payments:mine", []),
        ("payments:notice", [world.due_notice.notice_number]),
        ("payments:notice", [world.fee_notice.notice_number]),
    ):
        html = page(hanako, name, *args)
        assert f'<html lang="{HTML_LANG[language]}"' in html
        assert "!!MISSING" not in html, re.findall(r"!!MISSING [^!]*!!", html)[:5]


def test_kind_names_follow_the_language(hanako: Client, world: World) -> None:
    hanako.cookies["cityhall_lang"] = "en"
    words = text(page(hanako, "payments:mine"))
    assert "Kojin Juminzei" in words  # the factory's English name
    assert PaymentNotice.objects.filter(installment__charge=world.tax).count() == 2
