"""E-mail over SMTP (Django's mail connection), with a second server to fail over to.

One connection per batch, reused for every message in it. Each message is
``multipart/alternative`` (text + HTML from ``notices/email/message.txt``/``.html`` in the
resident's language), UTF-8 throughout (the subject as an RFC 2047 encoded word), with
``Message-ID`` made from the delivery key, ``Auto-Submitted: auto-generated`` and, when
the message has an unsubscribe link, ``List-Unsubscribe`` + ``List-Unsubscribe-Post``
(RFC 8058 one-click).

Providers: ``smtp`` (the ``EMAIL_*`` settings) and, when ``NOTICES_EMAIL_FALLBACK`` is
``host:port``, ``smtp-fallback``. A server that refuses the connection or greets with
4xx/5xx is down (failover); a refused recipient is that item's failure only (5xx
permanent, 4xx passing). If the connection breaks while a message is being handed over,
that message's outcome is unknown: it is reported as a permanent failure whose error
starts with ``outcome unknown`` (e-mail is not idempotent; sending it again could deliver
it twice), and the rest of the batch goes to the next server.

Placeholder addresses (``*.invalid``) are never addresses. Benchmarks that send to the
synthetic population set the module switch :data:`INCLUDE_PLACEHOLDER_ADDRESSES` to
``True`` (or build ``EmailSender(include_placeholder_addresses=True)``); the keyword wins
over the switch.
"""

from __future__ import annotations

import base64
import secrets
import smtplib
from collections.abc import Sequence
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape

from cityhall.core.i18n import html_lang
from cityhall.notices.channels.base import Outcome, Outgoing, ProviderDown
from cityhall.notices.channels.failover import FailoverSender, PartialProviderDown, TokenBucket

#: Benchmarks flip this to reach the synthetic residents' ``*.invalid`` addresses.
INCLUDE_PLACEHOLDER_ADDRESSES = False

TEMPLATE_TEXT = "notices/email/message.txt"
TEMPLATE_HTML = "notices/email/message.html"
TEMPLATE_SUBJECT = "notices/email/subject.txt"


def _domain() -> str:
    return _domain_of(str(settings.DEFAULT_FROM_EMAIL), str(settings.SITE_URL))


@lru_cache(maxsize=8)
def _domain_of(from_email: str, site_url: str) -> str:
    address = parseaddr(from_email)[1]
    if "@" in address:
        return address.rsplit("@", 1)[1]
    return urlsplit(site_url).hostname or "localhost"


def message_id(key: str) -> str:
    return f"<{key}@{_domain()}>"


def _context(item: Outgoing, unsubscribe_url: str) -> dict[str, Any]:
    return {
        "subject": item.subject,
        "body": item.body,
        "url": item.url,
        "unsubscribe_url": unsubscribe_url,
        "urgent": item.urgent,
        "html_lang": html_lang(item.language),
        "MUNICIPALITY_NAME": settings.MUNICIPALITY_NAMES.get(
            item.language, settings.MUNICIPALITY_NAME
        ),
        "SITE_URL": settings.SITE_URL,
    }


def _render(item: Outgoing, unsubscribe_url: str) -> tuple[str, str, str]:
    context = _context(item, unsubscribe_url)
    with translation.override(item.language):
        subject = " ".join(render_to_string(TEMPLATE_SUBJECT, context).split())
        text = render_to_string(TEMPLATE_TEXT, context)
        html = render_to_string(TEMPLATE_HTML, context)
    return subject, text, html


def render(item: Outgoing) -> tuple[str, str, str]:
    """(subject, text, html) of one item, in the item's language."""
    return _render(item, item.unsubscribe_url)


def headers_for(item: Outgoing) -> dict[str, str]:
    headers = {
        "Message-ID": message_id(item.key),
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
        "Content-Language": html_lang(item.language),
    }
    if item.unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{item.unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


def build(
    item: Outgoing, connection: Any = None, parts: tuple[str, str, str] | None = None
) -> EmailMultiAlternatives:
    """The item as Django's e-mail message (for backends other than SMTP)."""
    subject, text, html = parts or render(item)
    mail = EmailMultiAlternatives(
        subject,
        text,
        settings.DEFAULT_FROM_EMAIL,
        item.addresses[:1],
        headers=headers_for(item),
        connection=connection,
    )
    mail.encoding = "utf-8"
    mail.attach_alternative(html, "text/html")
    return mail


def _b64(text: str) -> bytes:
    return base64.encodebytes(text.encode("utf-8")).replace(b"\n", b"\r\n")


class Composer:
    """Writes the messages of one batch.

    Each distinct content (language, subject, text, link, urgency) is rendered once per
    batch; the per-resident unsubscribe link is put in afterwards. On an SMTP connection
    the MIME bytes are written here directly (RFC 2045/2047: UTF-8 parts in base64, the
    subject and sender name as encoded words), which is what makes one worker send
    hundreds of messages a second; any other backend gets Django's message (:func:`build`).
    """

    _SENTINEL = "cityhall-unsubscribe-url-8d1c2f"

    def __init__(self) -> None:
        self._rendered: dict[tuple[Any, ...], tuple[str, str, str, bytes]] = {}
        self.boundary = "=_cityhall_" + secrets.token_hex(12)
        name, address = parseaddr(str(settings.DEFAULT_FROM_EMAIL))
        self.envelope_from = address
        self.from_header = formataddr((name, address), charset="utf-8")

    def parts(self, item: Outgoing) -> tuple[str, str, str, bytes]:
        """(subject, text, html, encoded subject header) with the item's unsubscribe link."""
        key = (
            item.language,
            item.subject,
            item.body,
            item.url,
            bool(item.unsubscribe_url),
            item.urgent,
        )
        rendered = self._rendered.get(key)
        if rendered is None:
            subject, text, html = _render(item, self._SENTINEL if item.unsubscribe_url else "")
            encoded = Header(subject, "utf-8", header_name="Subject").encode(linesep="\r\n")
            rendered = (subject, text, html, encoded.encode("ascii"))
            self._rendered[key] = rendered
        subject, text, html, encoded_subject = rendered
        if item.unsubscribe_url:
            text = text.replace(self._SENTINEL, item.unsubscribe_url)
            html = html.replace(self._SENTINEL, escape(item.unsubscribe_url))
        return subject, text, html, encoded_subject

    def as_bytes(self, item: Outgoing) -> bytes:
        _subject, text, html, encoded_subject = self.parts(item)
        lines = [
            f"From: {self.from_header}",
            f"To: {item.addresses[0]}",
            "Subject: " + encoded_subject.decode("ascii"),
            f"Date: {formatdate(localtime=True)}",
            *(f"{name}: {value}" for name, value in headers_for(item).items()),
            "MIME-Version: 1.0",
            f'Content-Type: multipart/alternative; boundary="{self.boundary}"',
            "",
            f"--{self.boundary}",
            'Content-Type: text/plain; charset="utf-8"',
            "Content-Transfer-Encoding: base64",
            "",
        ]
        middle = [
            f"--{self.boundary}",
            'Content-Type: text/html; charset="utf-8"',
            "Content-Transfer-Encoding: base64",
            "",
        ]
        return b"".join(
            [
                "\r\n".join(lines).encode("ascii") + b"\r\n",
                _b64(text),
                "\r\n".join(middle).encode("ascii") + b"\r\n",
                _b64(html),
                f"--{self.boundary}--\r\n".encode("ascii"),
            ]
        )

    def django_message(self, item: Outgoing, connection: Any) -> EmailMultiAlternatives:
        subject, text, html, _encoded = self.parts(item)
        return build(item, connection, (subject, text, html))


def _code(exc: smtplib.SMTPException) -> int:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in exc.recipients.values()]
        return max(codes) if codes else 550
    return int(getattr(exc, "smtp_code", 0) or 0)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        parts = [f"{code} {_text(message)}" for code, message in exc.recipients.values()]
        return ("recipient refused: " + "; ".join(parts))[:400]
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"[:400]
    return f"{type(exc).__name__}: {exc}"[:400]


class SmtpProvider:
    """One SMTP server. ``options`` go to :func:`django.core.mail.get_connection`."""

    idempotent = False

    def __init__(self, name: str, bucket: TokenBucket, **options: Any) -> None:
        self.name = name
        self.bucket = bucket
        self.options = options
        self.connections_opened = 0

    def _open(self) -> Any:
        connection = get_connection(fail_silently=False, **self.options)
        try:
            connection.open()
        except (OSError, smtplib.SMTPException) as exc:
            raise ProviderDown(_describe(exc)) from exc
        self.connections_opened += 1
        return connection

    def send(self, batch: Sequence[Outgoing]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        composer = Composer()
        connection = self._open()

        def hand_over(item: Outgoing) -> None:
            address = item.addresses[0]
            if (
                isinstance(connection, SmtpBackend)
                and connection.connection is not None
                and address.isascii()
                and composer.envelope_from.isascii()
            ):
                connection.connection.sendmail(
                    composer.envelope_from, [address], composer.as_bytes(item)
                )
            else:
                connection.send_messages([composer.django_message(item, connection)])

        try:
            for item in batch:
                if not item.addresses:
                    outcomes.append(
                        Outcome(item.key, False, self.name, permanent=True, error="no address")
                    )
                    continue
                self.bucket.take()
                for attempt in (1, 2):
                    try:
                        hand_over(item)
                    except smtplib.SMTPSenderRefused as exc:
                        # 421 to MAIL FROM: the server closes this connection (a relay's
                        # messages-per-connection limit). Nothing was handed over: reopen.
                        if exc.smtp_code == 421 and attempt == 1:
                            connection.close()
                            connection = self._open()
                            continue
                        raise PartialProviderDown(_describe(exc), outcomes) from exc
                    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
                        code = _code(exc)
                        outcomes.append(
                            Outcome(
                                item.key,
                                False,
                                self.name,
                                permanent=code >= 500,
                                error=_describe(exc),
                            )
                        )
                    except ValueError as exc:  # an address Django cannot write
                        outcomes.append(
                            Outcome(item.key, False, self.name, permanent=True, error=str(exc))
                        )
                    except (smtplib.SMTPException, OSError) as exc:
                        outcomes.append(
                            Outcome(
                                item.key,
                                False,
                                self.name,
                                permanent=True,
                                error=("outcome unknown: " + _describe(exc))[:400],
                            )
                        )
                        raise PartialProviderDown(_describe(exc), outcomes) from exc
                    else:
                        outcomes.append(
                            Outcome(item.key, True, self.name, provider_ref=message_id(item.key))
                        )
                    break
        finally:
            connection.close()
        return outcomes


def _fallback_options(value: str) -> dict[str, Any] | None:
    value = value.strip()
    if not value:
        return None
    host, _sep, port = value.rpartition(":")
    if not host or not port.isdigit():
        host, port = value, "25"
    return {
        "backend": "django.core.mail.backends.smtp.EmailBackend",
        "host": host.strip("[]"),
        "port": int(port),
        "username": "",
        "password": "",
        "use_tls": False,
        "use_ssl": False,
        "timeout": settings.EMAIL_TIMEOUT,
    }


class EmailSender(FailoverSender):
    channel = "email"

    def __init__(
        self,
        *,
        include_placeholder_addresses: bool | None = None,
        bucket: TokenBucket | None = None,
    ) -> None:
        self.include_placeholder_addresses = include_placeholder_addresses
        #: One token per message (``NOTICES_EMAIL_RATE`` a second; 0: no limit).
        self.bucket = bucket or TokenBucket(settings.NOTICES_EMAIL_RATE)
        providers = [SmtpProvider("smtp", self.bucket)]
        fallback = _fallback_options(settings.NOTICES_EMAIL_FALLBACK)
        if fallback is not None:
            providers.append(SmtpProvider("smtp-fallback", self.bucket, **fallback))
        super().__init__(providers)

    def addresses(self, user_ids: Sequence[int]) -> dict[int, list[str]]:
        from cityhall.people.models import User

        include = self.include_placeholder_addresses
        if include is None:
            include = INCLUDE_PLACEHOLDER_ADDRESSES
        users = User.objects.filter(id__in=list(user_ids), is_active=True).exclude(email="")
        if not include:
            users = users.exclude(email__endswith=".invalid")
        return {user_id: [email] for user_id, email in users.values_list("id", "email")}
