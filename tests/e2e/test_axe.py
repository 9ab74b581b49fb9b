"""axe-core on every page in every language: WCAG 2.0/2.1/2.2 A and AA plus best practices.

Pages are listed by URL name; a name that does not resolve yet (the staff console is
being built) is skipped with a message, not failed. Each run also checks that the
page's own stylesheets and images load and that it does not scroll sideways at 360 px.
The table printed at the end of the session shows every page × language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.urls import get_resolver, reverse

from tests.conftest import PASSWORD, login_staff, make_resident, make_staff
from tests.e2e.helpers import (
    HTML_LANG,
    LANGUAGES,
    PHONE,
    format_violations,
    layout_problems,
    run_axe,
    session_cookie,
)

pytestmark = pytest.mark.e2e

Page = Any


@dataclass
class World:
    """What a page needs: a resident, a member of staff, and their ids."""

    resident: Any = None
    staff: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def _submit(page: Page) -> None:
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state("load")


def _click(selector: str) -> Callable[[Page], None]:
    def act(page: Page) -> None:
        page.locator(selector).first.click()
        page.wait_for_load_state("load")

    return act


def _fill_and_submit(values: dict[str, str]) -> Callable[[Page], None]:
    def act(page: Page) -> None:
        for selector, value in values.items():
            if value == "check":
                page.check(selector)
            else:
                page.fill(selector, value)
        _submit(page)

    return act


@dataclass(frozen=True)
class Spec:
    """One page: URL names to try (first that resolves wins), who looks, what they do."""

    label: str
    url_names: tuple[str, ...]
    who: str = "anonymous"  # anonymous | resident | staff | staff-password-only
    args: Callable[[World], list[Any]] | None = None
    path: str | None = None  # a literal path instead of a URL name
    query: str = ""  # added to the URL after "?"
    action: Callable[[Page], None] | None = None
    expect_errors: bool = False
    status: int | None = None


def _reset_confirm_args(world: World) -> list[Any]:
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    user = world.resident
    return [urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)]


def _staff_set_password_args(world: World) -> list[Any]:
    """uidb64 and token of the link a new member of staff gets (its own token generator)."""
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    try:
        from cityhall.people.services.staff import set_password_tokens
    except ImportError:
        from django.contrib.auth.tokens import default_token_generator as set_password_tokens

    member = world.extra["new_member"]
    return [urlsafe_base64_encode(force_bytes(member.pk)), set_password_tokens.make_token(member)]


PORTAL: list[Spec] = [
    Spec("home", ("portal:home",)),
    *[
        Spec(f"life event: {slug}", ("portal:life_event",), args=lambda w, s=slug: [s])
        for slug in (
            "moving",
            "birth",
            "childcare",
            "school",
            "care",
            "bereavement",
            "from-abroad",
            "disaster",
        )
    ],
    Spec("accessibility", ("portal:accessibility",)),
    Spec("privacy", ("portal:privacy",)),
    Spec("404", (), path="/no-such-page/", status=404),
    Spec("problem type", ("problem_type",), args=lambda w: ["validation-error"]),
]

ACCOUNT: list[Spec] = [
    Spec("sign-up", ("people:signup",)),
    Spec("sign-up (errors)", ("people:signup",), action=_submit, expect_errors=True),
    Spec(
        "sign-up sent",
        ("people:signup",),
        action=_fill_and_submit(
            {"#id_email": "new.resident@example.jp", "#id_password": PASSWORD, "#id_terms": "check"}
        ),
    ),
    Spec("verify failed", ("people:verify",), args=lambda w: ["not-a-token"], status=400),
    Spec("login", ("people:login",)),
    Spec(
        "login (errors)",
        ("people:login",),
        action=_fill_and_submit({"#id_username": "nobody@example.jp", "#id_password": "wrong"}),
        expect_errors=True,
    ),
    Spec("login (empty)", ("people:login",), action=_submit, expect_errors=True),
    Spec("resend", ("people:resend",)),
    Spec("resend (errors)", ("people:resend",), action=_submit, expect_errors=True),
    Spec("password reset", ("people:password_reset",)),
    Spec("password reset (errors)", ("people:password_reset",), action=_submit, expect_errors=True),
    Spec("password reset sent", ("people:password_reset_done",)),
    Spec("password reset new", ("people:password_reset_confirm",), args=_reset_confirm_args),
    Spec(
        "password reset new (errors)",
        ("people:password_reset_confirm",),
        args=_reset_confirm_args,
        action=_fill_and_submit({"#id_new_password1": "short", "#id_new_password2": "different"}),
        expect_errors=True,
    ),
    Spec(
        "password reset bad link",
        ("people:password_reset_confirm",),
        args=lambda w: ["MQ", "bad-token"],
    ),
    Spec("password reset done", ("people:password_reset_complete",)),
    Spec("my page", ("portal:mypage",), who="resident"),
    Spec("profile edit", ("portal:profile",), who="resident"),
    Spec(
        "profile edit (errors)",
        ("portal:profile",),
        who="resident",
        action=_fill_and_submit(
            {"#id_birth_year": "3000", "#id_phone": "abc", "#id_postal_code": "12"}
        ),
        expect_errors=True,
    ),
]

# The staff console, built page by page: names that do not resolve yet are skipped.
STAFF: list[Spec] = [
    Spec("staff login", ("staff:login",)),
    Spec("staff login (errors)", ("staff:login",), action=_submit, expect_errors=True),
    Spec("staff MFA", ("staff:mfa",), who="staff-password-only"),
    Spec(
        "staff MFA (errors)",
        ("staff:mfa",),
        who="staff-password-only",
        action=_fill_and_submit({"main form input:not([type=hidden])": "000000"}),
        expect_errors=True,
    ),
    Spec("staff set password", ("staff:set_password",), args=_staff_set_password_args),
    Spec(
        "staff set password bad link",
        ("staff:set_password",),
        args=lambda w: ["MQ", "bad-token"],
        status=400,
    ),
    Spec("staff dashboard", ("staff:dashboard", "staff:home"), who="staff"),
    Spec("staff residents", ("staff:residents", "staff:resident_list"), who="staff"),
    Spec("staff residents (search)", ("staff:residents",), who="staff", query="q=resident"),
    Spec(
        "staff resident detail",
        ("staff:resident", "staff:resident_detail"),
        who="staff",
        args=lambda w: [w.resident.pk],
    ),
    Spec(
        "staff resident edit",
        ("staff:resident_edit",),
        who="staff",
        args=lambda w: [w.resident.pk],
    ),
    Spec(
        "staff resident close",
        ("staff:resident_active",),
        who="staff",
        args=lambda w: [w.resident.pk],
    ),
    Spec(
        "staff resident close (errors)",
        ("staff:resident_active",),
        who="staff",
        args=lambda w: [w.resident.pk],
        action=_submit,
        expect_errors=True,
    ),
    Spec("staff departments", ("staff:departments", "staff:department_list"), who="staff"),
    Spec("staff department new", ("staff:department_create",), who="staff"),
    Spec(
        "staff department new (errors)",
        ("staff:department_create",),
        who="staff",
        action=_submit,
        expect_errors=True,
    ),
    Spec(
        "staff department edit",
        ("staff:department_edit",),
        who="staff",
        args=lambda w: [w.extra["department"].pk],
    ),
    Spec("staff members", ("staff:members", "staff:staff", "staff:staff_list"), who="staff"),
    Spec(
        "staff member",
        ("staff:member", "staff:staff_detail"),
        who="staff",
        args=lambda w: [w.extra["new_member"].pk],
    ),
    Spec("staff member new", ("staff:member_create",), who="staff"),
    Spec(
        "staff member new (errors)",
        ("staff:member_create",),
        who="staff",
        action=_submit,
        expect_errors=True,
    ),
    Spec(
        "staff assignment new",
        ("staff:assignment_add",),
        who="staff",
        args=lambda w: [w.extra["new_member"].pk],
    ),
    Spec(
        "staff assignment edit",
        ("staff:assignment_edit",),
        who="staff",
        args=lambda w: [w.extra["new_member"].pk, w.extra["assignment"].pk],
    ),
    Spec(
        "staff member close",
        ("staff:member_active",),
        who="staff",
        args=lambda w: [w.extra["new_member"].pk],
    ),
    Spec(
        "staff member reset TOTP",
        ("staff:member_reset_totp",),
        who="staff",
        args=lambda w: [w.extra["new_member"].pk],
    ),
    Spec(
        "staff member new link",
        ("staff:member_reset_password",),
        who="staff",
        args=lambda w: [w.extra["new_member"].pk],
        action=_submit,  # confirm: the member page then shows the one-time link
    ),
    Spec("staff audit log", ("staff:audit", "staff:audit_log"), who="staff"),
    Spec(
        "staff audit log (errors)",
        ("staff:audit",),
        who="staff",
        query="subject=abc&date_from=not-a-date",
        expect_errors=True,
    ),
    Spec(
        "staff audit verify",
        ("staff:audit",),
        who="staff",
        action=_click("main form[action$='/audit/verify/'] button[type=submit]"),
    ),
]


def _saved_checklist(world: World) -> list[Any]:
    from cityhall.procedures.services import guide

    moving = guide.get_guide("moving")
    assert moving is not None
    saved = guide.save(world.resident, moving, {"direction": "in", "household": ["dog"]})
    return [saved.pk]


# The procedures: catalogue and guide (with the real content), online application,
# form builder and counter (with their own small forms).
PROCEDURES: list[Spec] = [
    Spec("procedures catalogue", ("procedures:catalogue",)),
    Spec("procedures catalogue (search)", ("procedures:catalogue",), query="q=%E3%81%94%E3%81%BF"),
    Spec(
        "procedures catalogue (errors)",
        ("procedures:catalogue",),
        query="category=bad",
        expect_errors=True,
        status=422,
    ),
    Spec("procedures detail (counter)", ("procedures:detail",), args=lambda w: ["tennyu"]),
    Spec(
        "procedures detail (online)", ("procedures:detail",), args=lambda w: ["jido-teate-nintei"]
    ),
    Spec("procedures guides", ("procedures:guides",)),
    Spec("procedures guide", ("procedures:guide",), args=lambda w: ["moving"]),
    Spec(
        "procedures guide result",
        ("procedures:guide",),
        args=lambda w: ["moving"],
        query="answered=1&direction=in&household=dog",
    ),
    Spec(
        "procedures guide print",
        ("procedures:guide",),
        args=lambda w: ["moving"],
        query="answered=1&direction=in&household=dog&print=1",
    ),
    Spec("procedures checklists", ("procedures:checklists",), who="resident"),
    Spec("procedures checklist", ("procedures:checklist",), who="resident", args=_saved_checklist),
]

APPLY: list[Spec] = [
    Spec(
        "apply start",
        ("procedures:apply_start",),
        who="resident",
        args=lambda w: [w.extra["procedure"].slug],
    ),
    Spec(
        "apply step",
        ("procedures:apply_step",),
        who="resident",
        args=lambda w: [w.extra["draft"].pk, "applicant"],
    ),
    Spec(
        "apply step (errors)",
        ("procedures:apply_step",),
        who="resident",
        args=lambda w: [w.extra["draft"].pk, "applicant"],
        action=_click("main .actions button[name=_continue]"),
        expect_errors=True,
    ),
    Spec(
        "apply step (group)",
        ("procedures:apply_step",),
        who="resident",
        args=lambda w: [w.extra["draft"].pk, "family"],
    ),
    Spec(
        "apply step (files)",
        ("procedures:apply_step",),
        who="resident",
        args=lambda w: [w.extra["draft"].pk, "documents"],
    ),
    Spec(
        "apply step (consent)",
        ("procedures:apply_step",),
        who="resident",
        args=lambda w: [w.extra["draft"].pk, "confirm"],
    ),
    Spec(
        "apply saved",
        ("procedures:apply_saved",),
        who="resident",
        args=lambda w: [w.extra["draft"].pk],
    ),
    Spec(
        "apply check",
        ("procedures:apply_check",),
        who="resident",
        args=lambda w: [w.extra["draft"].pk],
    ),
    Spec(
        "apply check (errors)",
        ("procedures:apply_check",),
        who="resident",
        args=lambda w: [w.extra["draft"].pk],
        action=_click("main form[action$='/submit/'] button[type=submit]"),
        expect_errors=True,
    ),
    Spec(
        "apply discard",
        ("procedures:apply_discard",),
        who="resident",
        args=lambda w: [w.extra["draft"].pk],
    ),
    Spec(
        "apply done",
        ("procedures:apply_done",),
        who="resident",
        args=lambda w: [w.extra["sent"].pk],
    ),
    Spec("apply: my applications", ("procedures:applications",), who="resident"),
    Spec(
        "apply: application",
        ("procedures:application",),
        who="resident",
        args=lambda w: [w.extra["sent"].pk],
    ),
    Spec(
        "apply: application (errors)",
        ("procedures:application",),
        who="resident",
        args=lambda w: [w.extra["sent"].pk],
        action=_click("main form button[type=submit]"),
        expect_errors=True,
    ),
    Spec(
        "apply: application withdraw",
        ("procedures:application_withdraw",),
        who="resident",
        args=lambda w: [w.extra["sent"].pk],
    ),
    Spec(
        "apply resume bad link",
        ("procedures:apply_resume",),
        who="resident",
        args=lambda w: ["bad-link"],
        status=404,
    ),
]


def _form(*rest: Any) -> Callable[[World], list[Any]]:
    return lambda w: [w.extra["procedure"].slug, *rest]


BUILDER_AND_COUNTER: list[Spec] = [
    Spec("staff forms", ("procstaff:forms",), who="staff"),
    Spec("staff form edit", ("procstaff:form_edit",), who="staff", args=_form()),
    Spec("staff form title", ("procstaff:form_title",), who="staff", args=_form()),
    Spec("staff form step add", ("procstaff:step_add",), who="staff", args=_form()),
    Spec(
        "staff form step add (errors)",
        ("procstaff:step_add",),
        who="staff",
        args=_form(),
        action=_submit,
        expect_errors=True,
    ),
    Spec("staff form step edit", ("procstaff:step_edit",), who="staff", args=_form("person")),
    Spec("staff form step delete", ("procstaff:step_delete",), who="staff", args=_form("person")),
    Spec("staff form field add", ("procstaff:field_add",), who="staff", args=_form("person")),
    Spec(
        "staff form field add (choice)",
        ("procstaff:field_add",),
        who="staff",
        args=_form("person"),
        query="type=choice",
    ),
    Spec(
        "staff form field add (errors)",
        ("procstaff:field_add",),
        who="staff",
        args=_form("person"),
        query="type=text",
        action=_submit,
        expect_errors=True,
    ),
    Spec(
        "staff form field edit",
        ("procstaff:field_edit",),
        who="staff",
        args=_form("person", "household"),
    ),
    Spec(
        "staff form group edit",
        ("procstaff:field_edit",),
        who="staff",
        args=_form("person", "members"),
    ),
    Spec(
        "staff form subfield edit",
        ("procstaff:subfield_edit",),
        who="staff",
        args=_form("person", "members", "born"),
    ),
    Spec(
        "staff form field delete",
        ("procstaff:field_delete",),
        who="staff",
        args=_form("person", "household"),
    ),
    Spec("staff form preview", ("procstaff:form_preview",), who="staff", args=_form()),
    Spec("staff form publish", ("procstaff:form_publish",), who="staff", args=_form()),
    Spec("staff form versions", ("procstaff:form_versions",), who="staff", args=_form()),
    Spec("staff form version", ("procstaff:form_version",), who="staff", args=_form(1)),
    Spec("staff form import", ("procstaff:form_import",), who="staff", args=_form()),
    Spec(
        "staff form import (errors)",
        ("procstaff:form_import",),
        who="staff",
        args=_form(),
        action=_submit,
        expect_errors=True,
    ),
    Spec("staff counter", ("procstaff:counter",), who="staff"),
    Spec("staff counter (search)", ("procstaff:counter",), who="staff", query="q=resident"),
    Spec(
        "staff counter (errors)",
        ("procstaff:counter",),
        who="staff",
        query="q=x",
        expect_errors=True,
        status=422,
    ),
    Spec("staff counter new resident", ("procstaff:counter_resident_new",), who="staff"),
    Spec(
        "staff counter new resident (errors)",
        ("procstaff:counter_resident_new",),
        who="staff",
        action=_submit,
        expect_errors=True,
    ),
    Spec(
        "staff counter start",
        ("procstaff:counter_start",),
        who="staff",
        args=lambda w: [w.resident.pk],
    ),
    Spec(
        "staff counter start (life event)",
        ("procstaff:counter_start",),
        who="staff",
        args=lambda w: [w.resident.pk],
        query="event=moving",
    ),
    Spec(
        "staff counter session",
        ("procstaff:counter_session",),
        who="staff",
        args=lambda w: [w.extra["session"].pk],
    ),
    Spec(
        "staff counter step",
        ("procstaff:counter_step",),
        who="staff",
        args=lambda w: [w.extra["session"].pk, w.extra["app"].pk, "person"],
    ),
    Spec(
        "staff counter review",
        ("procstaff:counter_review",),
        who="staff",
        args=lambda w: [w.extra["session"].pk, w.extra["app"].pk],
    ),
    Spec(
        "staff counter display (waiting)",
        ("procstaff:counter_display",),
        who="staff",
        args=lambda w: [w.extra["session"].pk],
        query="lang={lang}",
    ),
    Spec(
        "staff counter display (showing)",
        ("procstaff:counter_display",),
        who="staff",
        args=lambda w: [w.extra["showing_session"].pk],
        query="lang={lang}",
    ),
    Spec("staff counter KPI", ("procstaff:counter_kpi",), who="staff"),
]


def _board_world(world: World) -> None:
    import datetime as dt

    from django.utils import timezone

    from tests.procedures.test_board_support import make_application, make_procedure

    dog = make_procedure(world.extra["department"], "dog-registration", "犬の登録")
    world.extra["procedure"] = dog
    world.extra["case"] = make_application(dog, world.resident)
    make_application(dog, world.resident, due_date=timezone.localdate() - dt.timedelta(days=3))


def _case(world: World) -> list[Any]:
    return [world.extra["case"].pk]


def _export_nothing(page: Page) -> None:
    """Untick every column and ask for the CSV: the page answers with its errors."""
    boxes = page.locator("main form input[type=checkbox]")
    for i in range(boxes.count()):
        boxes.nth(i).uncheck()
    _submit(page)


BOARD: list[Spec] = [
    Spec("staff cases", ("procstaff:board",), who="staff"),
    Spec("staff cases (filtered)", ("procstaff:board",), who="staff", query="overdue=on"),
    Spec(
        "staff cases (errors)",
        ("procstaff:board",),
        who="staff",
        query="submitted_from=2026-05-01&submitted_to=1",
        expect_errors=True,
    ),
    Spec("staff case", ("procstaff:case",), who="staff", args=_case),
    Spec(
        "staff case (errors)",
        ("procstaff:case",),
        who="staff",
        args=_case,
        action=_click("form[action$='/note/'] button[type=submit]"),
        expect_errors=True,
    ),
    Spec("staff cases export", ("procstaff:board_export",), who="staff"),
    Spec(
        "staff cases export (errors)",
        ("procstaff:board_export",),
        who="staff",
        action=_export_nothing,
        expect_errors=True,
    ),
]


def _inquiries_world(world: World) -> None:
    """The city's FAQ, booking services with slots, one inquiry and one booking of the
    resident (the demo seed books for resident@example.jp)."""
    from io import StringIO

    from django.core.management import call_command

    from cityhall.inquiries.models import Booking
    from cityhall.inquiries.services import bookings, tickets
    from cityhall.people.seed import load_departments

    load_departments()
    call_command("seed_faq", stdout=StringIO())
    bookings.seed_catalogue()
    bookings.seed_demo()
    world.extra["ticket"] = tickets.create_ticket(
        subject="粗大ごみの収集日",
        body="粗大ごみを出したいのですが、次の収集日はいつですか。",
        channel="web",
        resident=world.resident,
    )
    world.extra["booking"] = Booking.objects.filter(resident=world.resident).first()


# The inquiries: FAQ, chat, contact form, bookings; the resident's and the staff's lists.
INQUIRIES: list[Spec] = [
    Spec("inquiries FAQ", ("inquiries:faq",)),
    Spec(
        "inquiries FAQ (search)", ("inquiries:faq",), query="q=%E7%B2%97%E5%A4%A7%E3%81%94%E3%81%BF"
    ),
    Spec("inquiries FAQ entry", ("inquiries:faq_entry",), args=lambda w: ["gomi-010"]),
    Spec("inquiries ask", ("inquiries:ask",), query="q=%E7%B2%97%E5%A4%A7%E3%81%94%E3%81%BF"),
    Spec("inquiries ask (nothing found)", ("inquiries:ask",), query="q=%E3%83%94%E3%82%B6"),
    Spec("inquiries contact", ("inquiries:contact",)),
    Spec("inquiries contact (errors)", ("inquiries:contact",), action=_submit, expect_errors=True),
    Spec("inquiries booking", ("inquiries:booking",)),
    Spec("inquiries booking slots", ("inquiries:booking_slots",), args=lambda w: ["raicho"]),
    Spec("inquiries my inquiries", ("inquiries:my_tickets",), who="resident"),
    Spec(
        "inquiries my inquiry",
        ("inquiries:my_ticket",),
        who="resident",
        args=lambda w: [w.extra["ticket"].reference],
    ),
    Spec("inquiries my bookings", ("inquiries:my_bookings",), who="resident"),
    Spec(
        "inquiries my booking",
        ("inquiries:my_booking",),
        who="resident",
        args=lambda w: [w.extra["booking"].reference],
    ),
    Spec("staff FAQ", ("inqstaff:faq",), who="staff"),
    Spec("staff inquiries", ("inqstaff:tickets",), who="staff"),
    Spec("staff inquiry", ("inqstaff:ticket",), who="staff", args=lambda w: [w.extra["ticket"].pk]),
    Spec("staff bookings", ("inqstaff:bookings",), who="staff"),
]


PAGES = {
    spec.label: spec
    for spec in [
        *PORTAL,
        *ACCOUNT,
        *STAFF,
        *PROCEDURES,
        *APPLY,
        *BUILDER_AND_COUNTER,
        *BOARD,
        *INQUIRIES,
    ]
}
POSITION = {label: number for number, label in enumerate(PAGES)}
FURIGANA_RUN = "ja-easy+furigana"
RUNS = [*LANGUAGES, FURIGANA_RUN]


def _url_name_exists(name: str) -> bool:
    resolver = get_resolver()
    *namespaces, view_name = name.split(":")
    for namespace in namespaces:
        if namespace not in resolver.namespace_dict:
            return False
        resolver = resolver.namespace_dict[namespace][1]
    return view_name in resolver.reverse_dict


def _url_name(spec: Spec) -> str | None:
    """The first of the spec's URL names that the URLconf knows, or None."""
    return next((name for name in spec.url_names if _url_name_exists(name)), None)


def _resolve(spec: Spec, world: World, language: str) -> str:
    if spec.path:
        return spec.path
    name = _url_name(spec)
    assert name is not None
    url = reverse(name, args=spec.args(world) if spec.args else [])
    query = spec.query.replace("{lang}", language)
    return f"{url}?{query}" if query else url


def _world(spec: Spec, client: Any) -> tuple[World, dict[str, str]]:
    world = World(resident=make_resident("resident@example.jp"))
    cookies: dict[str, str] = {}
    if spec.label.startswith("staff"):
        from cityhall.people.models import Department, StaffAssignment, User

        world.staff = make_staff("admin@city.iga.example", "admin")
        world.extra["department"] = Department.objects.get(code="shimin-seikatsu")
        member = User.objects.create_user(
            email="new.clerk@city.iga.example", password=PASSWORD, is_staff=True
        )
        world.extra["new_member"] = member
        world.extra["assignment"] = StaffAssignment.objects.create(
            user=member, department=world.extra["department"], role="clerk"
        )
    if spec in PROCEDURES:
        from cityhall.people.seed import load_departments
        from cityhall.procedures.seed import load_procedures

        load_departments()
        load_procedures()
    elif spec in APPLY:
        from tests.procedures.test_apply_support import make_axe_world

        world.extra.update(make_axe_world(world.resident))
    elif spec in BOARD:
        _board_world(world)
    elif spec in INQUIRIES:
        _inquiries_world(world)
    elif spec in BUILDER_AND_COUNTER:
        from tests.e2e.test_counter_journey import axe_world

        world.extra.update(axe_world(world.staff, world.resident))
    if spec.who == "resident":
        client.force_login(world.resident)
        cookies.update(session_cookie(client))
    elif spec.who == "staff":
        login_staff(client, world.staff)
        cookies.update(session_cookie(client))
    elif spec.who == "staff-password-only":
        client.force_login(world.staff)
        cookies.update(session_cookie(client))
    return world, cookies


@pytest.mark.parametrize("run", RUNS)
@pytest.mark.parametrize("label", list(PAGES))
def test_axe(
    label: str,
    run: str,
    reused_phone: Any,
    live_server: Any,
    client: Any,
    city: Any,
    record_property: Any,
) -> None:
    spec = PAGES[label]
    language = run.split("+")[0]

    def cell(outcome: str) -> None:
        record_property("axe_cell", (label, run, outcome, POSITION[label]))

    if not spec.path and _url_name(spec) is None:
        cell("skip")
        pytest.skip(f"{label}: no URL named {' or '.join(spec.url_names)} yet (not built)")
    world, cookies = _world(spec, client)
    url = _resolve(spec, world, language)
    if run == FURIGANA_RUN:
        cookies["cityhall_furigana"] = "1"

    page = reused_phone(language=language, cookies=cookies)
    broken: list[str] = []

    def watch(response: Any) -> None:
        kinds = {"stylesheet", "script", "image", "font"}
        if response.status >= 400 and response.request.resource_type in kinds:
            broken.append(f"{response.status} {response.url}")

    page.on("response", watch)
    try:
        check_page(spec, label, run, language, url, page, broken, cell)
    finally:
        page.remove_listener("response", watch)


def check_page(
    spec: Spec,
    label: str,
    run: str,
    language: str,
    url: str,
    page: Any,
    broken: list[str],
    cell: Callable[[str], None],
) -> None:
    response = page.goto(url)
    assert response is not None
    if spec.status is not None:
        assert response.status == spec.status, f"{url} answered {response.status}"
    if spec.action:
        if spec.expect_errors and page.locator("main form button[type=submit]").count() == 0:
            cell("skip")
            pytest.skip(f"{label}: {url} has no form to submit yet")
        spec.action(page)
    if spec.expect_errors:
        assert page.locator(".error-summary").count() == 1, f"{label}: no error summary shown"

    problems: list[str] = []
    codes: list[str] = []  # short marks for the summary table
    lang = page.evaluate("document.documentElement.lang")
    if lang != HTML_LANG[language]:
        codes.append("lang")
        problems.append(f'<html lang="{lang}">, expected "{HTML_LANG[language]}"')
    if broken:
        codes.append("404-asset")
        problems.append(f"resources that did not load: {broken}")
    if run == FURIGANA_RUN and page.locator("ruby").count() == 0:
        codes.append("no-ruby")
        problems.append("furigana is on but the page shows no <ruby>")
    layout = layout_problems(page)
    if layout["scrollWidth"] > PHONE["width"] or layout["cut"]:
        codes.append("reflow")
        problems.append(
            f"scrolls sideways at {PHONE['width']} px: scrollWidth {layout['scrollWidth']}, "
            f"{layout['cut']}"
        )

    violations = run_axe(page)
    if violations:
        codes.extend(sorted({v["id"] for v in violations}))
        problems.append("axe-core violations:\n" + format_violations(violations))
    cell(",".join(codes) or "ok")
    assert not problems, f"{label} [{run}] {page.url}\n" + "\n".join(problems)
