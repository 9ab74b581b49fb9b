"""The database and Django setup that the benchmark scripts share.

A helper module (no ``__main__`` block), imported by the benchmark scripts, which run
with bench/ first on ``sys.path`` (as ``bench_results``).

- ``resolve_database_url(arg)``: ``--database-url`` if given, else ``$DATABASE_URL`` ("" = SQLite);
- ``scratch_postgres(url, …)``: the database named in ``url``, created for the run and
  dropped after it — one that already exists is used only if it holds none of the
  benchmark's data, never emptied;
- ``fresh_postgres(url)``: a new database with a random name on the server of ``url``,
  dropped after the run (the server's own databases are never written to);
- ``setup_django(data_dir, database_url, **extra_env)``: the environment of a benchmark
  run in this process, then ``django.setup()``.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

SRC = Path(__file__).resolve().parent.parent / "src"


def resolve_database_url(arg: str | None) -> str:
    """``arg`` (``--database-url``) if given, else ``$DATABASE_URL``; "" means SQLite."""
    return (arg if arg is not None else os.environ.get("DATABASE_URL", "")).strip()


def pg_admin_connect(url: str) -> Any:
    """An autocommit connection to the ``postgres`` database on the server of ``url``."""
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    return psycopg.connect(admin.replace("postgresql://", "postgres://", 1), autocommit=True)


def _close_django_connections() -> None:
    """Close this process's Django connections (if Django was set up) before a DROP."""
    from django.conf import settings

    if settings.configured:
        from django.db import connections

        connections.close_all()


@contextmanager
def scratch_postgres(
    url: str,
    *,
    holds_data_table: str,
    what: str,
    example: str,
    refuse_empty_table: bool = True,
) -> Iterator[None]:
    """Create the database named in ``url`` for this run and drop it afterwards.

    A database of that name that already exists is used as it is (and kept) unless it
    already holds the benchmark's data — the table ``holds_data_table`` exists (with
    ``refuse_empty_table=False``: and has a row) — which is refused with "database …
    already holds {what}". ``example`` is the database name shown when ``url`` names none.
    """
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    if not name:
        raise SystemExit(f"DATABASE_URL must name a database, e.g. …/{example}")
    with pg_admin_connect(url) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    if exists:
        with psycopg.connect(url) as probe:
            table = probe.execute(
                "SELECT to_regclass(%s) IS NOT NULL", [f"public.{holds_data_table}"]
            ).fetchone()
            used = bool(table and table[0])
            if used and not refuse_empty_table:
                row = probe.execute(
                    sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(
                        sql.Identifier(holds_data_table)
                    )
                ).fetchone()
                used = bool(row and row[0])
        if used:
            raise SystemExit(f"database {name!r} already holds {what}; name a scratch database")
    else:
        with pg_admin_connect(url) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield
    finally:
        _close_django_connections()
        if not exists:
            with pg_admin_connect(url) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


@contextmanager
def fresh_postgres(url: str) -> Iterator[str]:
    """A new, empty database on the server of ``url`` (its URL is yielded); dropped
    afterwards. The database ``url`` names is never written to."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise SystemExit(f"DATABASE_URL is not PostgreSQL: {parts.scheme}")
    name = f"cityhall_bench_{secrets.token_hex(4)}"
    try:
        with pg_admin_connect(url) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as error:
        raise SystemExit(
            f"could not create a scratch database on {parts.hostname}: {error}. The benchmark "
            "needs the CREATEDB right; it never writes into an existing database."
        ) from error
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with pg_admin_connect(url) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def setup_django(data_dir: str, database_url: str, **extra_env: str) -> None:
    """Set this process's environment for a benchmark run and call ``django.setup()``.

    ``CITYHALL_DATA_DIR`` is ``data_dir``; ``DATABASE_URL`` is ``database_url`` (removed
    when empty: SQLite in ``data_dir``); DEBUG off; the cache (``locmem://``), the tasks
    backend (``immediate``) and the settings module (``cityhall.settings``) unless already
    set; then ``extra_env``, which overrides all of these. ``src/`` goes on ``sys.path``.
    """
    os.environ["CITYHALL_DATA_DIR"] = data_dir
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ["CITYHALL_DEBUG"] = "false"
    os.environ.setdefault("CITYHALL_CACHE_URL", "locmem://")
    os.environ.setdefault("CITYHALL_TASKS_BACKEND", "immediate")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityhall.settings")
    os.environ.update(extra_env)
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    import django

    django.setup()
