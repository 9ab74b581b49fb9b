"""Liveness and readiness: the process answers and the database answers."""

from __future__ import annotations

from django.db import connection

from cityhall import __version__


def check() -> tuple[bool, dict[str, str]]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        database = "ok"
    except Exception:  # any database error means not ready
        database = "unavailable"
    ok = database == "ok"
    return ok, {"status": "ok" if ok else "degraded", "database": database, "version": __version__}
