"""E-mail in: Japanese mail (ISO-2022-JP) becomes an inquiry, read once; a reply to our
acknowledgement joins its thread; auto-replies are ignored; ``receive-inquiry`` reads a
pipe; ``fetch-inquiries`` reads a real IMAP server on loopback and marks mail read only
after filing it."""

from __future__ import annotations

import io
from email.header import Header
from email.message import EmailMessage
from typing import Any

import pytest
from django.core.management import call_command

from cityhall.inquiries.models import Ticket, TicketMessage, TicketStatus
from cityhall.inquiries.services import mail_in, tickets
from tests.inquiries.imap_server import Mailbox, imap_server

pytestmark = pytest.mark.django_db


def iso2022jp_mail(
    subject: str = "粗大ごみの出し方について",
    body: str = "ソファを捨てたいのですが、どうすればよいですか。\n\n伊賀 花子",
    *,
    sender: str = "伊賀 花子 <hanako@example.jp>",
    message_id: str = "<m1@example.jp>",
    extra: str = "",
) -> bytes:
    head = (
        f"From: {Header(sender.split(' <')[0], 'iso-2022-jp').encode()} <{sender.split('<')[1]}\r\n"
        "To: toiawase@city.iga.example\r\n"
        f"Subject: {Header(subject, 'iso-2022-jp').encode()}\r\n"
        f"Message-ID: {message_id}\r\n"
        "Date: Mon, 02 Jun 2025 10:00:00 +0900\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=ISO-2022-JP\r\n"
        "Content-Transfer-Encoding: 7bit\r\n"
        f"{extra}"
        "\r\n"
    )
    return head.encode("ascii") + body.replace("\n", "\r\n").encode("iso-2022-jp")


def utf8_mail(subject: str, body: str, *, sender: str, message_id: str, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "toiawase@city.iga.example"
    message["Subject"] = subject
    message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def test_iso_2022_jp_mail_opens_a_ticket(
    django_capture_on_commit_callbacks: Any, smtp_server: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        ticket = mail_in.receive(iso2022jp_mail())
    assert ticket is not None
    assert ticket.subject == "粗大ごみの出し方について"
    assert ticket.channel == "email" and ticket.language == "ja"
    assert ticket.email == "hanako@example.jp" and ticket.name == "伊賀 花子"
    first = ticket.messages.get(kind="resident")
    assert first.body.startswith("ソファを捨てたい")
    assert first.email_message_id == "<m1@example.jp>"
    ack = smtp_server.last_to("hanako@example.jp")
    assert f"[{ticket.reference}]" in str(ack["Subject"])


def test_the_same_mail_twice_adds_nothing() -> None:
    first = mail_in.receive(iso2022jp_mail())
    again = mail_in.receive(iso2022jp_mail())
    assert first is not None and again is not None and again.pk == first.pk
    assert Ticket.objects.count() == 1
    assert TicketMessage.objects.filter(kind="resident").count() == 1


def test_html_only_mail_is_stripped_and_quotes_dropped() -> None:
    message = EmailMessage()
    message["From"] = "Ana <ana@example.jp>"
    message["Subject"] = "Garbage days"
    message["Message-ID"] = "<h1@example.jp>"
    message.set_content(
        "<p>When is <b>garbage</b> collected?</p><script>x()</script>", subtype="html"
    )
    ticket = mail_in.receive(message.as_bytes())
    assert ticket is not None
    body = ticket.messages.get(kind="resident").body
    assert "When is garbage collected?" in body and "<" not in body and "x()" not in body
    text = "Thanks!\n\nOn Mon, 2 Jun 2025, City wrote:\n> old text\n> more"
    assert mail_in.strip_quotes(text) == "Thanks!"
    assert mail_in.strip_quotes("新しい質問\n-- \n署名") == "新しい質問"


def test_a_reply_to_the_acknowledgement_joins_the_thread() -> None:
    ticket = mail_in.receive(iso2022jp_mail())
    assert ticket is not None
    Ticket.objects.filter(pk=ticket.pk).update(status=TicketStatus.ANSWERED)
    reply = iso2022jp_mail(
        subject=f"Re: [{ticket.reference}] 問い合わせを受け付けました",
        body="追加です。3人掛けのソファです。\n\n> 以前の本文",
        message_id="<m2@example.jp>",
    )
    joined = mail_in.receive(reply)
    assert joined is not None and joined.pk == ticket.pk
    assert Ticket.objects.count() == 1
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    bodies = list(ticket.messages.filter(kind="resident").values_list("body", flat=True))
    assert bodies[-1] == "追加です。3人掛けのソファです。"


def test_in_reply_to_threads_too_but_only_for_the_same_sender() -> None:
    ticket = mail_in.receive(iso2022jp_mail())
    assert ticket is not None
    same = utf8_mail(
        "Re: ソファ",
        "もう一つ質問です",
        sender="hanako@example.jp",
        message_id="<m3@example.jp>",
        In_Reply_To="<m1@example.jp>",
    )
    assert mail_in.receive(same).pk == ticket.pk  # type: ignore[union-attr]
    stranger = utf8_mail(
        f"Re: [{ticket.reference}]",
        "I want to read this",
        sender="evil@example.com",
        message_id="<m4@example.com>",
    )
    other = mail_in.receive(stranger)
    assert other is not None and other.pk != ticket.pk
    assert not ticket.messages.filter(body__contains="I want to read").exists()


def test_auto_replies_and_bounces_are_ignored() -> None:
    auto = utf8_mail(
        "Out of office",
        "I am away",
        sender="x@example.jp",
        message_id="<a1@x>",
        Auto_Submitted="auto-replied",
    )
    bounce = utf8_mail(
        "Undelivered", "failure", sender="MAILER-DAEMON@example.jp", message_id="<a2@x>"
    )
    bulk = utf8_mail("News", "news", sender="n@example.jp", message_id="<a3@x>", Precedence="bulk")
    assert mail_in.receive(auto) is None
    assert mail_in.receive(bounce) is None
    assert mail_in.receive(bulk) is None
    assert mail_in.receive(b"x" * (mail_in.MAX_BYTES + 1)) is None
    assert Ticket.objects.count() == 0


def test_receive_inquiry_command_reads_stdin() -> None:
    out = io.StringIO()
    call_command("receive_inquiry", stdin=io.BytesIO(iso2022jp_mail()), stdout=out)
    ticket = Ticket.objects.get()
    assert out.getvalue().strip() == ticket.reference
    call_command("receive_inquiry", stdin=io.BytesIO(iso2022jp_mail()), stdout=io.StringIO())
    assert Ticket.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_fetch_inquiries_over_a_real_imap_server(settings: Any) -> None:
    box = Mailbox()
    box.add(iso2022jp_mail())
    box.add(
        utf8_mail(
            "Question about tax",
            "How much is resident tax?",
            sender="Ana <ana@example.jp>",
            message_id="<u1@example.jp>",
        )
    )
    box.add(
        utf8_mail(
            "Auto",
            "away",
            sender="z@example.jp",
            message_id="<u2@x>",
            Auto_Submitted="auto-replied",
        )
    )
    with imap_server(box) as (host, port):
        settings.INQUIRIES_IMAP_URL = f"imap://inquiries:secret%20pass@{host}:{port}/INBOX"
        out = io.StringIO()
        call_command("fetch_inquiries", stdout=out)
        assert "filed: 2; ignored: 1; failed: 0" in out.getvalue()
        assert Ticket.objects.count() == 2
        assert all(mail.seen for mail in box.mails)
        assert {"LOGIN", "SELECT", "SEARCH", "FETCH", "STORE", "LOGOUT"} <= set(box.commands)
        # Nothing unseen: a second run files nothing; the same mail again adds nothing.
        box.add(iso2022jp_mail())
        call_command("fetch_inquiries", stdout=io.StringIO())
        assert Ticket.objects.count() == 2
        assert box.mails[-1].seen


@pytest.mark.django_db(transaction=True)
def test_fetch_leaves_a_failing_message_unseen(settings: Any, monkeypatch: Any) -> None:
    box = Mailbox()
    box.add(iso2022jp_mail())

    def broken(raw: bytes) -> None:
        raise RuntimeError("database down")

    monkeypatch.setattr(mail_in, "receive", broken)
    with imap_server(box) as (host, port):
        settings.INQUIRIES_IMAP_URL = f"imap://inquiries:secret%20pass@{host}:{port}/INBOX"
        out = io.StringIO()
        call_command("fetch_inquiries", stdout=out)
    assert "failed: 1" in out.getvalue()
    assert not box.mails[0].seen


def test_answers_by_email_carry_the_reference(
    django_capture_on_commit_callbacks: Any, smtp_server: Any
) -> None:
    from tests.conftest import make_staff

    ticket = mail_in.receive(iso2022jp_mail())
    assert ticket is not None
    clerk = make_staff("gomi@city.iga.example", "clerk", "kankyo-seisaku")
    from cityhall.people.models import Department

    tickets.route(
        ticket,
        make_staff("koho@city.iga.example", "clerk", "koho-kocho"),
        Department.objects.get(code="kankyo-seisaku"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        tickets.reply(ticket, clerk, "粗大ごみ受付センターへお電話ください。")
    answer = smtp_server.last_to("hanako@example.jp")
    assert f"[{ticket.reference}]" in str(answer["Subject"])
    assert "粗大ごみ受付センター" in answer.get_content()
