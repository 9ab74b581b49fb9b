"""Turn form errors into a problem+json answer, so the API and the forms share rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse

from cityhall.core.problems import problem_response


def form_errors_to_problem(
    request: HttpRequest, errors: Mapping[str, Sequence[Any]]
) -> HttpResponse:
    items = [
        {"field": None if field == "__all__" else field, "detail": str(message)}
        for field, messages in errors.items()
        for message in messages
    ]
    return problem_response("validation-error", request, errors=items)
