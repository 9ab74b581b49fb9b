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


# --- outgoing mail: threading and loops (RFC 3834) -----------------------------------------


def test_the_acknowledgement_is_an_auto_reply_in_the_residents_thread(
    django_capture_on_commit_callbacks: Any, smtp_server: Any, settings: Any
) -> None:
    settings.INQUIRIES_EMAIL_ADDRESS = "toiawase@city.iga.example"
    with django_capture_on_commit_callbacks(execute=True):
        ticket = mail_in.receive(iso2022jp_mail())
    assert ticket is not None
    ack = smtp_server.last_to("hanako@example.jp")
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["In-Reply-To"] == "<m1@example.jp>"
    assert ack["References"] == "<m1@example.jp>"
    assert ack["Message-ID"] == f"<{ticket.reference}.received@city.iga.example>"
    assert ack["Reply-To"] == "toiawase@city.iga.example"
    assert tickets.reference_of_message_id(str(ack["Message-ID"])) == ticket.reference


def test_a_web_ticket_acknowledgement_has_no_in_reply_to(
    django_capture_on_commit_callbacks: Any, smtp_server: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        ticket = tickets.create_ticket(
            subject="ごみ", body="質問です", channel="web", email="taro@example.jp"
        )
    ack = smtp_server.last_to("taro@example.jp")
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["In-Reply-To"] is None and ack["References"] is None
    assert ack["Message-ID"] == tickets.ack_message_id(ticket)


def test_acknowledgements_to_one_address_are_rate_limited(
    django_capture_on_commit_callbacks: Any, smtp_server: Any
) -> None:
    total = tickets.ACK_LIMIT + 2
    for number in range(total):
        with django_capture_on_commit_callbacks(execute=True):
            mail_in.receive(
                utf8_mail(
                    f"Question {number}",
                    f"Body {number}",
                    sender="loop@example.com",
                    message_id=f"<loop{number}@example.com>",
                )
            )
    assert Ticket.objects.filter(email="loop@example.com").count() == total  # nothing lost
    acks = [m for m in smtp_server.messages if "loop@example.com" in str(m["To"])]
    assert len(acks) == tickets.ACK_LIMIT
    # Another address is not held back.
    with django_capture_on_commit_callbacks(execute=True):
        mail_in.receive(
            utf8_mail("Hi", "Question", sender="other@example.com", message_id="<o1@x>")
        )
    assert smtp_server.last_to("other@example.com")["Auto-Submitted"] == "auto-replied"


def test_bounces_list_mail_and_our_own_auto_replies_are_never_answered(
    django_capture_on_commit_callbacks: Any, smtp_server: Any
) -> None:
    null_sender = utf8_mail(
        "Delivery failure", "x", sender="mx@example.jp", message_id="<b1@x>", Return_Path="<>"
    )
    listed = utf8_mail(
        "Newsletter", "x", sender="news@example.jp", message_id="<b2@x>", List_Id="<l.example.jp>"
    )
    generated = utf8_mail(
        "Notice", "x", sender="bot@example.jp", message_id="<b3@x>", Auto_Submitted="auto-generated"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert mail_in.receive(null_sender) is None
        assert mail_in.receive(listed) is None
        assert mail_in.receive(generated) is None
    assert Ticket.objects.count() == 0
    assert smtp_server.messages == []


def test_a_reply_to_our_answer_threads_by_message_id(
    django_capture_on_commit_callbacks: Any, smtp_server: Any
) -> None:
    from cityhall.people.models import Department
    from tests.conftest import make_staff

    ticket = mail_in.receive(iso2022jp_mail())
    assert ticket is not None
    clerk = make_staff("gomi@city.iga.example", "clerk", "kankyo-seisaku")
    tickets.route(
        ticket,
        make_staff("koho@city.iga.example", "clerk", "koho-kocho"),
        Department.objects.get(code="kankyo-seisaku"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        message = tickets.reply(ticket, clerk, "お電話ください。")
    answer = smtp_server.last_to("hanako@example.jp")
    assert answer["Auto-Submitted"] is None  # written by a person (RFC 3834 §5)
    assert answer["Message-ID"] == tickets.answer_message_id(message)
    assert answer["In-Reply-To"] == "<m1@example.jp>"
    assert str(answer["References"]).split() == ["<m1@example.jp>", tickets.ack_message_id(ticket)]
    # The resident answers without the reference in the subject: In-Reply-To finds it.
    again = utf8_mail(
        "Re: ありがとうございます",
        "わかりました",
        sender="hanako@example.jp",
        message_id="<m9@example.jp>",
        In_Reply_To=str(answer["Message-ID"]),
    )
    joined = mail_in.receive(again)
    assert joined is not None and joined.pk == ticket.pk
    # A second answer threads under the resident's latest mail.
    with django_capture_on_commit_callbacks(execute=True):
        tickets.reply(ticket, clerk, "承知しました。")
    second = smtp_server.last_to("hanako@example.jp")
    assert second["In-Reply-To"] == "<m9@example.jp>"
    assert "<m9@example.jp>" in str(second["References"])


def test_queue_email_headers_are_optional_and_checked(
    django_capture_on_commit_callbacks: Any, smtp_server: Any
) -> None:
    from cityhall.core.mail import queue_email

    context = {"reference": "Q-2025-000001", "subject": "x", "sla_days": 3}
    with django_capture_on_commit_callbacks(execute=True):
        queue_email("plain@example.jp", "inquiries/email/ticket_received", context, "en")
        queue_email(
            "headed@example.jp",
            "inquiries/email/ticket_received",
            context,
            "en",
            headers={"X-Test": " a \r\n b ", "Empty": ""},
        )
    plain = smtp_server.last_to("plain@example.jp")
    assert plain["X-Test"] is None and plain["Message-ID"]
    headed = smtp_server.last_to("headed@example.jp")
    assert headed["X-Test"] == "a b" and headed["Empty"] is None
    with pytest.raises(ValueError):
        queue_email(
            "x@example.jp", "inquiries/email/ticket_received", context, "en", headers={"A:B": "c"}
        )


# --- telling the department ---------------------------------------------------------------


def test_the_department_is_told_with_minimal_data(
    django_capture_on_commit_callbacks: Any, smtp_server: Any, settings: Any
) -> None:
    from cityhall.inquiries.models import RoutingRule
    from cityhall.people.models import Department
    from tests.conftest import make_staff

    gomi = Department.objects.get_or_create(code="kankyo-seisaku", defaults={"name": "環境"})[0]
    gomi.email = "gomi@city.iga.example"
    gomi.save()
    triage = Department.objects.get_or_create(code="koho-kocho", defaults={"name": "広報"})[0]
    triage.email = "koho@city.iga.example"
    triage.save()
    settings.INQUIRIES_ROUTING_THRESHOLD = 1.1  # no classifier routing
    RoutingRule.objects.create(words="粗大ごみ", department=gomi)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = mail_in.receive(iso2022jp_mail())
    assert ticket is not None and ticket.department == gomi
    told = [m for m in smtp_server.messages if "gomi@city.iga.example" in str(m["To"])]
    assert len(told) == 1
    notice = told[0]
    text = notice.get_content()
    assert ticket.reference in str(notice["Subject"]) and ticket.subject in str(notice["Subject"])
    assert "/staff/" in text and str(ticket.pk) in text and ticket.reference in text
    assert "hanako" not in text and "伊賀 花子" not in text and "ソファ" not in text
    assert notice["Auto-Submitted"] == "auto-generated"
    assert not any("koho@" in str(m["To"]) for m in smtp_server.messages)

    # A triage ticket tells the triage department; routing by staff tells the new one.
    with django_capture_on_commit_callbacks(execute=True):
        other = tickets.create_ticket(subject="質問", body="よくわからない", channel="web")
    assert other.department is None
    to_triage = smtp_server.last_to("koho@city.iga.example")
    assert other.reference in str(to_triage["Subject"])
    clerk = make_staff("koho-clerk@city.iga.example", "clerk", "koho-kocho")
    with django_capture_on_commit_callbacks(execute=True):
        tickets.route(other, clerk, gomi)
    told = [m for m in smtp_server.messages if "gomi@city.iga.example" in str(m["To"])]
    assert len(told) == 2 and other.reference in str(told[-1]["Subject"])
    # Routed again to the same department: nobody is told twice; no address: no mail.
    count = len(smtp_server.messages)
    with django_capture_on_commit_callbacks(execute=True):
        tickets.route(other, clerk, gomi)
        tickets.route(other, clerk, Department.objects.create(code="no-mail", name="無"))
    assert len(smtp_server.messages) == count
