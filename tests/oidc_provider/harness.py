"""Start and stop the test OpenID provider (:mod:`tests.oidc_provider.serve`) for pytest."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "cityhall-test"
CLIENT_SECRET = "a-secret-the-provider-must-refuse"
REDIRECT_URI = "http://testserver/account/oidc/callback/"
CARD_ACR = "urn:cityhall:test:acr:card"
WEAK_ACR = "urn:cityhall:test:acr:password"
UNREQUESTED = {"x_unrequested": "UNREQUESTED-CLAIM-0000-1111-2222"}

#: Synthetic test people (no real person): username -> acr and 基本4情報.
PEOPLE: dict[str, dict[str, Any]] = {
    "hanako": {
        "acr": CARD_ACR,
        "claims": {
            "name": "伊賀 花子",
            "address": "三重県伊賀市四十九町3184番地",
            "birthdate": "1985-04-01",
            "gender": "female",
        },
    },
    "taro": {
        "acr": CARD_ACR,
        "claims": {
            "name": "伊賀 太郎",
            "address": "三重県伊賀市上野丸之内1番地",
            "birthdate": "1979-11-23",
            "gender": "male",
        },
    },
    "jiro": {
        "acr": WEAK_ACR,
        "claims": {
            "name": "伊賀 次郎",
            "address": "三重県伊賀市青山1番地",
            "birthdate": "1990-01-15",
            "gender": "male",
        },
    },
}
PASSWORD = "provider-test-password"


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@dataclass
class Provider:
    """A running provider and the client registration cityhall needs to use it."""

    issuer: str
    process: subprocess.Popen[bytes]
    log_path: Path
    client_keys: dict[str, str] = field(default_factory=dict)  # kid -> private PEM

    @property
    def base(self) -> str:
        return self.issuer.rsplit("/o", 1)[0]

    @property
    def token_endpoint(self) -> str:
        return self.issuer + "/token/"

    def browser(self, username: str) -> requests.Session:
        """A browser session logged in at the provider through its login form."""
        session = requests.Session()
        url = self.base + "/accounts/login/"
        page = session.get(url, timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, page.text
        answer = session.post(
            url,
            data={
                "csrfmiddlewaretoken": token.group(1),
                "username": username,
                "password": PASSWORD,
                "next": "/accounts/login/",
            },
            headers={"Referer": url},
            timeout=10,
            allow_redirects=False,
        )
        assert answer.status_code == 302, answer.text
        return session

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def running_provider(
    workdir: Path, client_jwks: dict[str, Any], client_keys: dict[str, str]
) -> Iterator[Provider]:
    """Write the configuration, start the provider, wait until it answers, stop it after."""
    signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    config = {
        "db": str(workdir / "provider.sqlite3"),
        "signing_key": pem(signing_key),
        "clients": {
            CLIENT_ID: {"jwks": client_jwks, "redirect_uri": REDIRECT_URI, "secret": CLIENT_SECRET}
        },
        "people": {name: {**person, "password": PASSWORD} for name, person in PEOPLE.items()},
        "extra_claims": UNREQUESTED,
    }
    config_path = workdir / "provider.json"
    config_path.write_text(json.dumps(config, ensure_ascii=False))
    log_path = workdir / "provider.log"
    env = {
        **os.environ,
        "OIDC_TEST_PROVIDER_CONFIG": str(config_path),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DATABASE_URL", None)
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.oidc_provider.serve"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log_file,
        )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        if not line.startswith("READY "):
            process.wait(timeout=10)
            raise RuntimeError(f"the test provider did not start:\n{log_path.read_text()}")
        issuer = f"http://127.0.0.1:{int(line.split()[1])}/o"
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(issuer + "/.well-known/openid-configuration", timeout=10).ok:
                    break
            except requests.RequestException:
                pass  # still starting (a busy machine can be slow on the first request)
            if time.monotonic() > deadline:
                raise RuntimeError("the test provider does not answer")
            time.sleep(0.1)
        yield Provider(issuer=issuer, process=process, log_path=log_path, client_keys=client_keys)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
