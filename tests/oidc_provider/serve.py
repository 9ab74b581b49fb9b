"""Run the test OpenID provider: ``python -m tests.oidc_provider.serve``.

Binds a free port on 127.0.0.1 first (so the issuer URL is known before Django
starts), creates the SQLite database, the test people and the registered client
from the configuration, prints ``READY <port>`` on stdout and serves until killed.
"""

from __future__ import annotations

import json
import os
import socketserver
import sys
from pathlib import Path
from typing import Any


def main() -> None:
    from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer

    server_cls = type("ThreadedWSGIServer", (socketserver.ThreadingMixIn, WSGIServer), {})
    httpd = server_cls(("127.0.0.1", 0), WSGIRequestHandler)
    httpd.daemon_threads = True
    port = httpd.server_port
    os.environ["OIDC_TEST_PROVIDER_ISSUER"] = f"http://127.0.0.1:{port}/o"
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_provider.settings"
    config = json.loads(Path(os.environ["OIDC_TEST_PROVIDER_CONFIG"]).read_text())

    import django

    django.setup()

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from oauth2_provider.models import get_application_model

    call_command("migrate", verbosity=0, interactive=False)
    users: Any = get_user_model().objects  # django.contrib.auth's User here
    for username, person in config["people"].items():
        users.create_user(username=username, password=person["password"])
    application = get_application_model()
    for client_id, client in config["clients"].items():
        application.objects.create(
            name=client_id,
            client_id=client_id,
            client_secret=client["secret"],
            client_type=application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=client["redirect_uri"],
            algorithm=application.RS256_ALGORITHM,
            skip_authorization=True,
        )
    httpd.set_app(get_wsgi_application())
    print(f"READY {port}", flush=True)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # anything later goes to the log
    httpd.serve_forever()


if __name__ == "__main__":
    main()
