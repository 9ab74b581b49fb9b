"""The in-app inbox: items added once, listed urgent and newest first, each resident's own."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cityhall.notices.models import InboxItem
from cityhall.notices.services import preferences
from tests.notices.prefs_support import english, resident

pytestmark = pytest.mark.django_db


def test_an_item_is_added_once_per_source_key() -> None:
    user = resident()
    kwargs: dict[str, Any] = {
        "kind": "message",
        "source_key": "delivery:1",
        "title": "ごみ収集日の変更",
    }
    assert preferences.add_inbox_item(user.pk, **kwargs) is True
    assert preferences.add_inbox_item(user.pk, **kwargs) is False
    assert InboxItem.objects.filter(user=user).count() == 1
    other = resident("taro@example.jp")
    assert preferences.add_inbox_item(other.pk, **kwargs) is True  # per resident


@pytest.mark.django_db(transaction=True)
def test_two_workers_adding_the_same_item_make_one() -> None:
    from django.db import connection

    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        # The in-memory test database shares one cache between threads, where SQLite
        # answers "table is locked" at once instead of waiting (the file database of a
        # real installation waits, busy_timeout). CI runs this on PostgreSQL.
        pytest.skip("concurrent writers need a file or server database")
    user = resident()
    results: list[bool] = []
    barrier = threading.Barrier(2)

    def add() -> None:
        from django.db import connections

        barrier.wait()
        try:
            results.append(
                preferences.add_inbox_item(
                    user.pk, kind="message", source_key="delivery:7", title="t"
                )
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=add) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True]
    assert InboxItem.objects.filter(user=user, source_key="delivery:7").count() == 1


def test_the_inbox_lists_urgent_and_newest_first_with_unread_in_words(client: Client) -> None:
    user = resident()
    now = timezone.now()
    old = InboxItem.objects.create(
        user=user,
        kind="message",
        source_key="a",
        title="Old news",
        created_at=now - dt.timedelta(days=2),
    )
    InboxItem.objects.create(
        user=user, kind="message", source_key="b", title="New news", created_at=now, read_at=now
    )
    InboxItem.objects.create(
        user=user,
        kind="alert",
        source_key="c",
        title="Evacuate now",
        urgent=True,
        created_at=now - dt.timedelta(days=3),
    )
    client.force_login(user)
    html = english(client).get(reverse("notices:inbox")).content.decode()
    assert html.index("Evacuate now") < html.index("New news") < html.index("Old news")
    assert "You have 2 unread messages." in html
    assert html.count(">Unread<") == 2
    assert reverse("notices:inbox_item", args=[old.pk]) in html
    assert preferences.unread_count(user) == 2


def test_the_inbox_is_paged(client: Client) -> None:
    user = resident()
    InboxItem.objects.bulk_create(
        [
            InboxItem(user=user, kind="message", source_key=f"k{i}", title=f"Item {i:02d}")
            for i in range(25)
        ]
    )
    client.force_login(user)
    english(client)
    first = client.get(reverse("notices:inbox")).content.decode()
    assert "Page 1 of 2" in first and "?page=2" in first
    second = client.get(reverse("notices:inbox") + "?page=2").content.decode()
    assert second.count('<li class="card') == 5


def test_opening_an_item_marks_it_read(client: Client) -> None:
    user = resident()
    item = InboxItem.objects.create(
        user=user,
        kind="payment",
        source_key="x",
        title="Payment received",
        body="Thank you.\nSee the slip.",
        url="/payments/",
    )
    client.force_login(user)
    response = english(client).get(reverse("notices:inbox_item", args=[item.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Payment received" in html and 'href="/payments/"' in html
    item.refresh_from_db()
    assert item.read_at is not None
    assert preferences.unread_count(user) == 0


def test_another_residents_item_is_404_and_stays_unread(client: Client) -> None:
    hanako = resident()
    taro = resident("taro@example.jp")
    item = InboxItem.objects.create(user=taro, kind="message", source_key="x", title="Taro's")
    client.force_login(hanako)
    assert client.get(reverse("notices:inbox_item", args=[item.pk])).status_code == 404
    assert client.get(reverse("notices:inbox_item", args=[item.pk + 1000])).status_code == 404
    assert "Taro's" not in client.get(reverse("notices:inbox")).content.decode()
    item.refresh_from_db()
    assert item.read_at is None
    assert preferences.mark_read(hanako, item) is False


def test_the_inbox_needs_a_login(client: Client) -> None:
    response = client.get(reverse("notices:inbox"))
    assert response.status_code == 302 and "/login" in response["Location"]
