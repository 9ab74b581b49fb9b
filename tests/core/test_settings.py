"""Production settings: refuse development secrets, turn on the secure defaults."""

from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = (
    "import json, cityhall.settings as s; print(json.dumps({"
    "'hsts': s.SECURE_HSTS_SECONDS, 'ssl': s.SECURE_SSL_REDIRECT,"
    "'cookie': s.SESSION_COOKIE_SECURE,"
    "'csrf': s.CSRF_COOKIE_SECURE, 'debug': s.DEBUG, 'engine': s.DATABASES['default']['ENGINE']}))"
)


def _settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith("CITYHALL_") and k != "DATABASE_URL"
    }
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_development_secrets() -> None:
    result = _settings({"CITYHALL_ENV": "production"})
    assert result.returncode != 0
    assert "CITYHALL_SECRET_KEY must be set in production" in result.stderr


def test_production_turns_on_secure_defaults(tmp_path: object) -> None:
    result = _settings(
        {
            "CITYHALL_ENV": "production",
            "CITYHALL_SECRET_KEY": "s" * 50,
            "CITYHALL_AUDIT_KEY": "a" * 44,
            "CITYHALL_FIELD_ENCRYPTION_KEYS": "Ycdk8kBCAWAwvZEc1jqDoEfmbUwrhQCKgVxjmrQuHUA=",
            "CITYHALL_PAYMENT_SECRET": "p" * 44,
            "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/cityhall",
        }
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values == {
        "hsts": 31536000,
        "ssl": True,
        "cookie": True,
        "csrf": True,
        "debug": False,
        "engine": "django.db.backends.postgresql",
    }


PRODUCTION_KEYS = {
    "CITYHALL_ENV": "production",
    "CITYHALL_SECRET_KEY": "s" * 50,
    "CITYHALL_AUDIT_KEY": "a" * 44,
    "CITYHALL_FIELD_ENCRYPTION_KEYS": "Ycdk8kBCAWAwvZEc1jqDoEfmbUwrhQCKgVxjmrQuHUA=",
}


def test_production_needs_its_own_payment_secret() -> None:
    result = _settings(PRODUCTION_KEYS)
    assert result.returncode != 0
    assert "CITYHALL_PAYMENT_SECRET must be set in production" in result.stderr


def test_production_refuses_the_sandbox_payment_provider() -> None:
    keys = {**PRODUCTION_KEYS, "CITYHALL_PAYMENT_SECRET": "p" * 44}
    result = _settings({**keys, "CITYHALL_PAYMENT_PROVIDER": "sandbox"})
    assert result.returncode != 0
    assert "CITYHALL_PAYMENT_PROVIDER=sandbox" in result.stderr
    assert _settings(keys).returncode == 0  # the production default is `none`


def test_bad_values_are_named() -> None:
    result = _settings({"CITYHALL_LOGIN_FAILURE_LIMIT": "many"})
    assert result.returncode != 0
    assert "CITYHALL_LOGIN_FAILURE_LIMIT" in result.stderr
