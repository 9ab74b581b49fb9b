"""A small IMAP4rev1 server on loopback, enough for :mod:`imaplib`: CAPABILITY, LOGIN,
SELECT, SEARCH UNSEEN, FETCH (RFC822 or
BODY.PEEK[]), STORE +FLAGS (\\Seen), CLOSE, NOOP, LOGOUT.

It speaks the real protocol over TCP (tagged responses, literals), so the
``fetch-inquiries`` command is tested end to end against a mailbox."""

from __future__ import annotations

import re
import shlex
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Mail:
    raw: bytes
    seen: bool = False


@dataclass
class Mailbox:
    user: str = "inquiries"
    password: str = "secret pass"
    mails: list[Mail] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, raw: bytes) -> None:
        with self.lock:
            self.mails.append(Mail(raw))


def _numbers(spec: str, count: int) -> list[int]:
    result: list[int] = []
    for part in spec.split(","):
        if ":" in part:
            start, end = part.split(":")
            last = count if end == "*" else int(end)
            result.extend(range(int(start), last + 1))
        else:
            result.append(count if part == "*" else int(part))
    return [n for n in result if 1 <= n <= count]


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def send(self, line: str | bytes) -> None:
        data = line.encode() if isinstance(line, str) else line
        self.wfile.write(data + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        box = self.server.mailbox
        authenticated = selected = False
        self.send("* OK [CAPABILITY IMAP4rev1] loopback IMAP ready")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            tag, _, rest = text.partition(" ")
            command, _, args = rest.partition(" ")
            command = command.upper()
            box.commands.append(command)
            if command == "CAPABILITY":
                self.send("* CAPABILITY IMAP4rev1")
                self.send(f"{tag} OK CAPABILITY completed")
            elif command == "NOOP":
                self.send(f"{tag} OK NOOP completed")
            elif command == "LOGIN":
                parts = shlex.split(args)
                if parts == [box.user, box.password]:
                    authenticated = True
                    self.send(f"{tag} OK LOGIN completed")
                else:
                    self.send(f"{tag} NO [AUTHENTICATIONFAILED] invalid credentials")
            elif not authenticated:
                self.send(f"{tag} BAD log in first")
            elif command in ("SELECT", "EXAMINE"):
                selected = True
                with box.lock:
                    count = len(box.mails)
                self.send(f"* {count} EXISTS")
                self.send("* 0 RECENT")
                self.send("* FLAGS (\\Seen)")
                self.send(f"{tag} OK [READ-WRITE] SELECT completed")
            elif not selected:
                self.send(f"{tag} BAD select a mailbox first")
            elif command == "SEARCH":
                criteria = args.upper().split()
                with box.lock:
                    found = [
                        str(i + 1)
                        for i, mail in enumerate(box.mails)
                        if "UNSEEN" not in criteria or not mail.seen
                    ]
                self.send("* SEARCH" + "".join(f" {n}" for n in found))
                self.send(f"{tag} OK SEARCH completed")
            elif command == "FETCH":
                spec, _, items = args.partition(" ")
                upper = items.upper()
                if "BODY.PEEK[]" in upper:
                    name, peek = "BODY[]", True  # RFC 3501: PEEK leaves \Seen alone
                elif "RFC822" in upper or "BODY[]" in upper:
                    name, peek = ("RFC822" if "RFC822" in upper else "BODY[]"), False
                else:
                    self.send(f"{tag} BAD only RFC822 and BODY[] are served")
                    continue
                with box.lock:
                    for n in _numbers(spec, len(box.mails)):
                        mail = box.mails[n - 1]
                        if not peek:
                            mail.seen = True  # a plain fetch marks the message as read
                        head = f"* {n} FETCH ({name} {{{len(mail.raw)}}}\r\n".encode()
                        self.wfile.write(head + mail.raw)
                        self.send(")")
                self.send(f"{tag} OK FETCH completed")
            elif command == "STORE":
                match = re.match(r"(\S+) ([+-]?)FLAGS(?:\.SILENT)? \(?([^)]*)\)?", args, re.I)
                if not match:
                    self.send(f"{tag} BAD STORE syntax")
                    continue
                spec, sign, flags = match.groups()
                with box.lock:
                    for n in _numbers(spec, len(box.mails)):
                        if "\\SEEN" in flags.upper():
                            box.mails[n - 1].seen = sign != "-"
                        state = "\\Seen" if box.mails[n - 1].seen else ""
                        self.send(f"* {n} FETCH (FLAGS ({state}))")
                self.send(f"{tag} OK STORE completed")
            elif command == "CLOSE":
                selected = False
                self.send(f"{tag} OK CLOSE completed")
            elif command == "LOGOUT":
                self.send("* BYE logging out")
                self.send(f"{tag} OK LOGOUT completed")
                return
            else:
                self.send(f"{tag} BAD unknown command")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mailbox: Mailbox) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mailbox = mailbox


@contextmanager
def imap_server(mailbox: Mailbox) -> Iterator[tuple[str, int]]:
    """Serve ``mailbox`` on 127.0.0.1 (a free port) while the block runs."""
    server = _Server(mailbox)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield str(host), int(port)
    finally:
        server.shutdown()
        server.server_close()
