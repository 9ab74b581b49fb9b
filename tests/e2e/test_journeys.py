"""Residents' journeys on a 360 px phone, by keyboard alone (Tab, Shift+Tab, Enter, Space).

Every Tab stop on the way must show a visible focus indicator (outline or box-shadow),
and the first Tab stop of each page is the skip link.
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD, make_resident
from tests.e2e.helpers import (
    HTML_LANG,
    LANGUAGES,
    PHONE,
    assert_focus_visible,
    assert_no_horizontal_scroll,
    first_tab_is_skip_link,
    focused,
    layout_problems,
    press,
    session_cookie,
    tab_to,
)

pytestmark = pytest.mark.e2e

VERIFY_LINK = re.compile(r"https?://\S+?/account/verify/[^\s/]+/")


def active_id(page: Any) -> str:
    return page.evaluate("document.activeElement ? document.activeElement.id : ''")


def html_lang(page: Any) -> str:
    return page.evaluate("document.documentElement.lang")


def ruby_count(page: Any, scope: str = "body") -> int:
    return page.locator(f"{scope} ruby").count()


def cookie(page: Any, name: str) -> str | None:
    return next((c["value"] for c in page.context.cookies() if c["name"] == name), None)


def keyboard_login(page: Any, email: str, password: str) -> None:
    """From the home page, follow the header's login link and log in, keys only."""
    page.goto(reverse("portal:home"))
    first_tab_is_skip_link(page)
    tab_to(page, f"header a[href='{reverse('people:login')}']")
    press(page, "Enter", navigates=True)
    # The login page puts the focus in the e-mail field (autofocus), visibly.
    info = assert_focus_visible(page)
    assert info["id"] == "id_username", f"login page focus starts at {info}"
    page.keyboard.type(email)
    tab_to(page, "#id_password")
    page.keyboard.type(password)
    tab_to(page, "main form button[type=submit]")
    press(page, "Enter", navigates=True)
    assert urlsplit(page.url).path == reverse("portal:mypage"), page.url


def wait_for_mail(sink: Any, address: str, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return sink.last_to(address)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.django_db  # the shared autouse fixture clears the cache, which may be a table
def test_languages_match_settings() -> None:
    from django.conf import settings

    assert [code for code, _ in settings.LANGUAGES] == LANGUAGES


def test_sign_up_verify_and_log_in_by_keyboard(
    phone: Any, live_server: Any, smtp_server: Any, settings: Any, city: Any
) -> None:
    settings.SITE_URL = live_server.url
    email = "keyboard.only@example.jp"
    page = phone

    # Home: the skip link jumps to the main content, which takes the focus; the next
    # Tab stops are inside <main>, where "Create an account" leads to the sign-up form.
    page.goto(reverse("portal:home"))
    first_tab_is_skip_link(page)
    press(page, "Enter")
    assert active_id(page) == "main", "the skip link did not move the focus to <main>"
    page.keyboard.press("Tab")
    assert page.evaluate("document.getElementById('main').contains(document.activeElement)")
    tab_to(page, f"main a[href='{reverse('people:signup')}']")
    press(page, "Enter", navigates=True)
    assert urlsplit(page.url).path == reverse("people:signup")

    first_tab_is_skip_link(page)
    tab_to(page, "#id_email")
    page.keyboard.type(email)
    tab_to(page, "#id_password")
    page.keyboard.type(PASSWORD)
    tab_to(page, "#id_terms")
    press(page, "Space")
    assert page.is_checked("#id_terms"), "Space did not tick the privacy checkbox"
    # Shift+Tab goes back the way it came; Tab again reaches the button.
    tab_to(page, "#id_password", backwards=True)
    tab_to(page, "main form button[type=submit]")
    press(page, "Enter", navigates=True)

    assert urlsplit(page.url).path == reverse("people:signup_sent"), page.url
    assert email in page.locator("main").inner_text()
    first_tab_is_skip_link(page)

    # The verification link arrives by e-mail through a real SMTP server on loopback.
    message = wait_for_mail(smtp_server, email)
    body = message.get_body(("plain",)).get_content()
    match = VERIFY_LINK.search(body)
    assert match, f"no verification link in the e-mail:\n{body}"
    page.goto(urlsplit(match.group(0)).path)  # opening the link from the mail program

    assert urlsplit(page.url).path == reverse("people:login"), page.url
    assert page.locator("main [role=status]").is_visible(), "no confirmation message"

    info = assert_focus_visible(page)
    assert info["id"] == "id_username"
    page.keyboard.type(email)
    tab_to(page, "#id_password")
    page.keyboard.type(PASSWORD)
    tab_to(page, "main form button[type=submit]")
    press(page, "Enter", navigates=True)
    assert urlsplit(page.url).path == reverse("portal:mypage"), page.url
    assert email in page.locator("main").inner_text()

    # Log out with the header's button.
    first_tab_is_skip_link(page)
    tab_to(page, "header form[action$='/logout/'] button")
    press(page, "Enter", navigates=True)
    assert urlsplit(page.url).path == reverse("portal:home")
    assert page.locator(f"header a[href='{reverse('people:login')}']").is_visible()


def test_language_switch_by_keyboard(phone: Any, live_server: Any, city: Any) -> None:
    page = phone
    start = reverse("portal:life_event", args=["moving"])
    page.goto(start)
    for code in [*LANGUAGES[1:], LANGUAGES[0]]:
        first_tab_is_skip_link(page)
        tab_to(page, "#language-menu > summary")
        press(page, "Enter")
        assert page.evaluate("document.getElementById('language-menu').open"), (
            "Enter on the language summary did not open the list"
        )
        tab_to(page, f"#language-menu a[href^='{reverse('portal:language', args=[code])}?']")
        press(page, "Enter", navigates=True)
        assert urlsplit(page.url).path == start, f"switching to {code} left the page: {page.url}"
        assert html_lang(page) == HTML_LANG[code], f"{code}: <html lang={html_lang(page)}>"
        assert cookie(page, "cityhall_lang") == code
        current = page.locator("#language-menu a[aria-current=true]")
        assert current.count() == 1
        assert current.get_attribute("href", timeout=1000).startswith(
            reverse("portal:language", args=[code])
        )
        if code == "ja-easy":
            assert ruby_count(page) > 0, "やさしい日本語 shows furigana by default"
        assert_no_horizontal_scroll(page, PHONE["width"])


def test_furigana_toggle_by_keyboard(phone: Any, live_server: Any, city: Any) -> None:
    page = phone
    page.goto(reverse("portal:life_event", args=["moving"]))
    assert html_lang(page) == "ja"
    assert ruby_count(page) == 0, "furigana is off by default in Japanese"
    button = "header button[name=furigana]"
    assert page.get_attribute(button, "aria-pressed") == "false"

    first_tab_is_skip_link(page)
    tab_to(page, button)
    press(page, "Space", navigates=True)
    assert page.get_attribute(button, "aria-pressed") == "true"
    assert cookie(page, "cityhall_furigana") == "1"
    assert ruby_count(page, "main") > 0, "no ruby in the main content after turning furigana on"
    readings = page.locator("main rt").all_inner_texts()
    assert readings and all(re.fullmatch(r"[\u3040-\u309fー]+", r) for r in readings), readings
    assert ruby_count(page, "title") == 0
    assert_no_horizontal_scroll(page, PHONE["width"])

    # Off again: Tab past it, then Shift+Tab back, and Enter.
    first_tab_is_skip_link(page)
    tab_to(page, "header button[name=textsize]")
    tab_to(page, button, backwards=True)
    press(page, "Enter", navigates=True)
    assert page.get_attribute(button, "aria-pressed") == "false"
    assert ruby_count(page) == 0, "ruby still shown after turning furigana off"


def test_larger_text_by_keyboard(phone: Any, live_server: Any, city: Any) -> None:
    page = phone
    page.goto(reverse("portal:home"))
    size = "parseFloat(getComputedStyle(document.documentElement).fontSize)"
    normal = page.evaluate(size)
    button = "header button[name=textsize]"
    assert page.get_attribute(button, "aria-pressed") == "false"

    first_tab_is_skip_link(page)
    tab_to(page, button)
    press(page, "Enter", navigates=True)
    assert page.get_attribute(button, "aria-pressed") == "true"
    assert cookie(page, "cityhall_textsize") == "large"
    assert page.evaluate("document.documentElement.classList.contains('text-large')")
    larger = page.evaluate(size)
    assert larger >= normal * 1.2, f"text grew from {normal}px to {larger}px only"
    assert_no_horizontal_scroll(page, PHONE["width"])

    first_tab_is_skip_link(page)
    tab_to(page, button)
    press(page, "Space", navigates=True)
    assert page.get_attribute(button, "aria-pressed") == "false"
    assert page.evaluate(size) == normal


def test_profile_edit_by_keyboard(phone: Any, live_server: Any, city: Any) -> None:
    page = phone
    make_resident("profile.keys@example.jp")
    keyboard_login(page, "profile.keys@example.jp", PASSWORD)

    first_tab_is_skip_link(page)
    tab_to(page, f"main a[href='{reverse('portal:profile')}']")
    press(page, "Enter", navigates=True)
    assert urlsplit(page.url).path == reverse("portal:profile")

    first_tab_is_skip_link(page)
    tab_to(page, "#id_display_name")
    page.keyboard.type("はなこ")
    tab_to(page, "#id_district")
    press(page, "ArrowDown")  # a closed <select> takes the next option
    chosen = page.eval_on_selector("#id_district", "el => el.value")
    assert chosen, "ArrowDown did not choose a district"
    tab_to(page, "#id_birth_year")
    page.keyboard.type("1985")
    tab_to(page, "#id_interests_0")
    press(page, "Space")
    tab_to(page, "#id_consents_0")
    press(page, "Space")
    assert page.is_checked("#id_interests_0") and page.is_checked("#id_consents_0")
    tab_to(page, "main form button[type=submit]")
    press(page, "Enter", navigates=True)

    assert urlsplit(page.url).path == reverse("portal:mypage"), page.url
    main = page.locator("main").inner_text()
    assert "はなこ" in main
    assert "1985" in main
    assert "上野東部" in main
    assert page.locator("main [role=status]").is_visible(), "no 'saved' message"


ERROR_FORMS = {
    # name: (url name, login needed, {field: value typed before submitting})
    "signup": ("people:signup", False, {}),
    "login": ("people:login", False, {}),
    "resend": ("people:resend", False, {"#id_email": "not-an-address"}),
    "password reset": ("people:password_reset", False, {}),
    "profile": (
        "portal:profile",
        True,
        {"#id_birth_year": "3000", "#id_phone": "abc", "#id_postal_code": "12"},
    ),
}


@pytest.mark.parametrize("form", list(ERROR_FORMS))
def test_error_summary_links_move_focus(form: str, phone: Any, live_server: Any, city: Any) -> None:
    url_name, login, values = ERROR_FORMS[form]
    page = phone
    if login:
        make_resident("errors@example.jp")
        keyboard_login(page, "errors@example.jp", PASSWORD)
    page.goto(reverse(url_name))
    if focused(page) is None:
        first_tab_is_skip_link(page)
    for selector, value in values.items():
        tab_to(page, selector)
        page.keyboard.type(value)
    tab_to(page, "main form button[type=submit]")
    press(page, "Enter", navigates=True)

    summary = page.locator(".error-summary")
    assert summary.is_visible(), f"{form}: no error summary after an invalid submit"
    assert summary.get_attribute("role") == "alert"
    assert page.locator("main h1").count() == 1
    links = summary.locator("a")
    targets = links.evaluate_all("els => els.map(a => a.getAttribute('href'))")
    assert targets, f"{form}: the error summary links to no field"

    if focused(page) is None:  # no autofocus: the skip link comes first, as everywhere
        first_tab_is_skip_link(page)
    for number, href in enumerate(targets):
        # The first link is reached going forward; from a field, Shift+Tab goes back up.
        tab_to(page, f".error-summary a[href='{href}']", backwards=number > 0)
        press(page, "Enter")
        field_id = href.lstrip("#")
        assert active_id(page) == field_id, (
            f"{form}: the summary link {href} left the focus on {focused(page)}"
        )
        info = assert_focus_visible(page)
        assert info["bottom"] > 0 and info["top"] < info["vh"], f"{href} is off screen"
        invalid = page.get_attribute(f"#{field_id}", "aria-invalid")
        described = page.get_attribute(f"#{field_id}", "aria-describedby") or ""
        assert invalid == "true", f"{form}: #{field_id} lacks aria-invalid"
        assert f"{field_id}-error" in described.split(), (
            f"{form}: #{field_id} is not described by its error message ({described!r})"
        )


def test_no_motion_when_reduced_motion_is_asked(phone: Any, live_server: Any, city: Any) -> None:
    page = phone
    page.emulate_media(reduced_motion="reduce")
    page.goto(reverse("portal:home"))
    assert page.evaluate("matchMedia('(prefers-reduced-motion: reduce)').matches")
    moving = page.evaluate(
        """() => [...document.querySelectorAll('*')].filter(el => {
             const s = getComputedStyle(el);
             const long = v => v.split(',').some(t => parseFloat(t) > 0);
             const animated = s.animationName !== 'none' && long(s.animationDuration);
             return long(s.transitionDuration) || animated;
           }).map(el => el.tagName.toLowerCase() + '.' + el.className).slice(0, 10)"""
    )
    assert not moving, f"elements still animate with reduced motion: {moving}"
    # Focus moves without smooth scrolling.
    assert page.evaluate("getComputedStyle(document.documentElement).scrollBehavior") == "auto"


ZOOM_PAGES = ["home", "life event", "signup errors", "my page", "profile errors"]
ZOOM_PAGES_LOGGED_IN = {"my page", "profile errors"}


def _open_for_zoom(name: str, page: Any) -> None:
    if name == "home":
        page.goto(reverse("portal:home"))
    elif name == "life event":
        page.goto(reverse("portal:life_event", args=["from-abroad"]))
    elif name == "signup errors":
        page.goto(reverse("people:signup"))
        page.locator("main form button[type=submit]").click()
        page.wait_for_selector(".error-summary")
    elif name == "my page":
        page.goto(reverse("portal:mypage"))
    elif name == "profile errors":
        page.goto(reverse("portal:profile"))
        page.fill("#id_birth_year", "3000")
        page.fill("#id_phone", "abc")
        page.locator("main form button[type=submit]").click()
        page.wait_for_selector(".error-summary")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "mode", ["360px", "360px larger text", "200% zoom (640px)", "200% zoom + larger text"]
)
def test_nothing_is_cut(
    mode: str, language: str, make_context: Any, live_server: Any, client: Any, city: Any
) -> None:
    """Reflow: no sideways scrolling and no clipped content on a phone and at 200 % zoom.

    Browser zoom at 200 % in a 1280 px window lays the page out in 640 CSS px at a
    device pixel ratio of 2; that is what the "zoom" modes emulate.
    """
    cookies = {}
    if "larger text" in mode:
        cookies["cityhall_textsize"] = "large"
    if "zoom" in mode:
        viewport, scale = {"width": 640, "height": 400}, 2
    else:
        viewport, scale = PHONE, 1
    page = make_context(
        viewport=viewport, language=language, cookies=cookies, scale=scale
    ).new_page()
    page.emulate_media(reduced_motion="reduce")
    problems = []
    logged_in = False
    for name in ZOOM_PAGES:
        if name in ZOOM_PAGES_LOGGED_IN and not logged_in:
            logged_in = True
            client.force_login(make_resident("zoom@example.jp"))
            page.context.add_cookies(
                [
                    {"name": k, "value": v, "url": live_server.url}
                    for k, v in session_cookie(client).items()
                ]
            )
        _open_for_zoom(name, page)
        result = layout_problems(page)
        if result["scrollWidth"] > viewport["width"] or result["cut"]:
            problems.append(f"{name}: scrollWidth {result['scrollWidth']}, {result['cut']}")
    assert not problems, f"{mode} [{language}]:\n" + "\n".join(problems)
