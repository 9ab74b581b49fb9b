"""Staff pages demand a second factor: no TOTP-verified session, no staff console."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

STAFF_PREFIX = "/staff/"
OPEN_PATHS = ("/staff/login/", "/staff/logout/")
MFA_PATHS = ("/staff/mfa/",)


class StaffMFAMiddleware:
    """Everything under /staff/ needs a staff account whose session passed TOTP.

    Staff who have no TOTP device yet are sent to enrol one; staff with a device
    are sent to enter the code. Residents are sent to the staff login.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if path.startswith(STAFF_PREFIX) and not path.startswith(OPEN_PATHS):
            user = request.user
            if not (user.is_authenticated and user.is_staff and user.is_active):
                return redirect(f"/staff/login/?next={path}")
            if not path.startswith(MFA_PATHS) and not user.is_verified():  # type: ignore[attr-defined]
                return redirect("staff:mfa")
        return self.get_response(request)
