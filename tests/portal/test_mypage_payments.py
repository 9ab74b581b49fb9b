"""My page tells a resident what they still have to pay, and nothing about anyone else."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import translation

from cityhall.core.templatetags.money import format_yen
from cityhall.payments.models import Installment
from cityhall.payments.services.overview import overview
from tests.payments.factories import make_charge


def test_overview_counts_only_open_installments_of_the_resident(
    db: Any, resident: Any, other_resident: Any
) -> None:
    charge = make_charge(resident=resident, amounts=(10_000, 20_000, 30_000), issue=False)
    make_charge(resident=other_resident, amounts=(99_999,), issue=False)
    first, second, _third = charge.installment_set.order_by("period")
    Installment.objects.filter(pk=first.pk).update(status=Installment.Status.PAID)
    Installment.objects.filter(pk=second.pk).update(status=Installment.Status.PROVISIONAL)

    summary = overview(resident, today=dt.date(2026, 12, 1))

    assert summary.open_count == 1
    assert summary.open_yen == 30_000
    assert summary.next_due is not None and summary.next_due.period == 3
    assert summary.overdue_count == 1  # period 3 was due on 2026-08-28


def test_mypage_shows_open_payments_and_links_to_them(resident_client: Any, resident: Any) -> None:
    make_charge(resident=resident, amounts=(12_345,), issue=False)
    response = resident_client.get(reverse("portal:mypage"))
    body = response.content.decode()
    assert response.status_code == 200
    assert reverse("payments:mine") in body
    assert "12,345円" in body


def test_mypage_says_nothing_to_pay(resident_client: Any) -> None:
    with translation.override("en"):
        response = resident_client.get(reverse("portal:mypage"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert reverse("payments:mine") in response.content.decode()


def test_yen_is_written_the_way_each_language_reads_it() -> None:
    assert format_yen(1234567, "ja") == "1,234,567円"
    assert format_yen(300, "ja-easy") == "300円"
    assert format_yen(300, "pt-br") == "¥300"
    assert format_yen(-50, "en") == "-¥50"
    assert format_yen(None) == ""
