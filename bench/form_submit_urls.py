"""The site's URLs plus ``/__bench__/store/``: the cost floor of a JSON submission.

The view does what any submission must do at least, through the same server, workers and
middleware (sessions, CSRF, authentication) as the real API: it checks the resident's
session, parses the JSON body and stores it as one row of ``bench_submission`` (a table
the benchmark creates), then answers 201. No form, no validation, no prefill, no audit
log, no e-mail.
"""

from __future__ import annotations

import json

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from cityhall import urls as site

TABLE_SQL = {
    "sqlite": (
        "CREATE TABLE IF NOT EXISTS bench_submission (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "user_id INTEGER NOT NULL, idempotency_key VARCHAR(64) NOT NULL, body TEXT NOT NULL, "
        "created_at TIMESTAMP NOT NULL)"
    ),
    "postgresql": (
        "CREATE TABLE IF NOT EXISTS bench_submission (id BIGSERIAL PRIMARY KEY, "
        "user_id BIGINT NOT NULL, idempotency_key VARCHAR(64) NOT NULL, body TEXT NOT NULL, "
        "created_at TIMESTAMPTZ NOT NULL)"
    ),
}


@require_POST
def store(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    try:
        body = json.loads(request.body)
    except ValueError:
        return HttpResponse(status=400)
    key = request.headers.get("Idempotency-Key", "")[:64]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_submission (user_id, idempotency_key, body, created_at) "
            "VALUES (%s, %s, %s, %s)",
            [request.user.pk, key, json.dumps(body, ensure_ascii=False), timezone.now()],
        )
    return JsonResponse({"stored": True}, status=201)


urlpatterns = [path("__bench__/store/", store, name="bench_store"), *site.urlpatterns]

handler400 = site.handler400
handler403 = site.handler403
handler404 = site.handler404
handler500 = site.handler500
