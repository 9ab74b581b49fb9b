"""``cityhall api-token``: issue, list and revoke API tokens for other systems.

    cityhall api-token issue --user rpa@city.iga.example --name "基幹系 connector" [--days 365]
    cityhall api-token list [--user EMAIL]
    cityhall api-token revoke PREFIX_OR_ID

A token acts as its staff (service) account: give that account a StaffAssignment in
each department whose applications the system may read or change. ``issue`` prints the
token once, on its own line on standard output; store it in the other system's secret
store. Issuing and revoking are written to the audit log (as the system, not a person).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cityhall.people.models import User
from cityhall.people.services import api_tokens


def _when(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "-"


class Command(BaseCommand):
    help = "API tokens for other systems: `issue`, `list` or `revoke`."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        issue = actions.add_parser("issue", help="Issue a token for a staff (service) account.")
        issue.add_argument("--user", required=True, help="E-mail of the staff account.")
        issue.add_argument("--name", required=True, help="Which system uses the token.")
        issue.add_argument(
            "--days", type=int, default=None, help="Days until it expires (default: never)."
        )
        listing = actions.add_parser("list", help="List tokens (never their secrets).")
        listing.add_argument("--user", default=None, help="Only this account's tokens.")
        revoke = actions.add_parser("revoke", help="Revoke a token by its prefix or id.")
        revoke.add_argument("token", help="The prefix `list` shows (or the id).")

    def _user(self, email: str) -> User:
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"no account {email}")
        return user

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "issue":
            self._issue(options)
        elif action == "list":
            self._list(options)
        else:
            self._revoke(options)

    def _issue(self, options: dict[str, Any]) -> None:
        user = self._user(options["user"])
        days = options["days"]
        if days is not None and days < 1:
            raise CommandError("--days must be 1 or more")
        expires_at = timezone.now() + dt.timedelta(days=days) if days else None
        try:
            token, plaintext = api_tokens.issue(None, user, options["name"], expires_at)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stderr.write(
            f"issued token {token.prefix} ({token.name}) for {user.email}, "
            f"expires {_when(token.expires_at)}; it is shown only this once:"
        )
        self.stdout.write(plaintext)

    def _list(self, options: dict[str, Any]) -> None:
        user = self._user(options["user"]) if options["user"] else None
        rows = [api_tokens.describe(t) for t in api_tokens.tokens(user)]
        if not rows:
            self.stdout.write("no tokens")
            return
        header = ("id", "prefix", "state", "account", "name", "created", "last used", "expires")
        lines = [
            (
                str(r["id"]),
                r["prefix"],
                r["state"],
                r["user"],
                r["name"],
                _when(r["created_at"]),
                _when(r["last_used_at"]),
                _when(r["expires_at"]),
            )
            for r in rows
        ]
        widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
        for line in [header, *lines]:
            self.stdout.write(
                "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
            )

    def _revoke(self, options: dict[str, Any]) -> None:
        token = api_tokens.find(options["token"])
        if token is None:
            raise CommandError(f"no token {options['token']} (give its prefix or id)")
        if api_tokens.revoke(None, token):
            self.stdout.write(f"revoked {token.prefix} ({token.name})")
        else:
            self.stdout.write(f"{token.prefix} was already revoked")
