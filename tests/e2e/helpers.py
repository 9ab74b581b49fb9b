"""Helpers for the browser journeys: keyboard moves, focus checks, layout checks, axe-core."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("CITYHALL_CHROMIUM", "/usr/bin/chromium")
# Debian chromium in a closed sandbox: no sandbox (root), no GPU, no calls home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# The seven UI languages (settings.LANGUAGES; a test checks they agree).
LANGUAGES = ["ja", "ja-easy", "pt-br", "vi", "zh-hans", "es", "en"]
HTML_LANG = {
    "ja": "ja",
    "ja-easy": "ja",
    "pt-br": "pt-BR",
    "vi": "vi",
    "zh-hans": "zh-Hans",
    "es": "es",
    "en": "en",
}
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}

# axe-core: WCAG 2.0 / 2.1 / 2.2 at A and AA, plus Deque's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
AXE_OPTIONS: dict[str, Any] = {
    "runOnly": {"type": "tag", "values": AXE_TAGS},
    "resultTypes": ["violations"],
}

# --- focus ----------------------------------------------------------------------------

_FOCUS_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const s = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(),
    id: el.id,
    name: el.getAttribute('name'),
    type: el.getAttribute('type'),
    href: el.getAttribute('href'),
    cls: el.className && typeof el.className === 'string' ? el.className : '',
    text: (el.innerText || el.value || '').trim().slice(0, 60),
    outlineStyle: s.outlineStyle,
    outlineWidth: parseFloat(s.outlineWidth) || 0,
    boxShadow: s.boxShadow,
    focusVisible: el.matches(':focus-visible'),
    top: r.top, bottom: r.bottom, left: r.left, right: r.right,
    vw: window.innerWidth, vh: window.innerHeight,
  };
}"""


def focused(page: Any) -> dict[str, Any] | None:
    """What has the focus now, with its computed focus indicator."""
    return page.evaluate(_FOCUS_JS)


def describe(info: dict[str, Any] | None) -> str:
    if info is None:
        return "<body>"
    bits = [info["tag"]]
    if info["id"]:
        bits.append(f"#{info['id']}")
    if info["name"]:
        bits.append(f"[name={info['name']}]")
    if info["href"]:
        bits.append(f"[href={info['href']}]")
    if info["text"]:
        bits.append(repr(info["text"][:30]))
    return "".join(bits)


def focus_ring_visible(info: dict[str, Any]) -> bool:
    outline = info["outlineStyle"] not in ("none", "") and info["outlineWidth"] > 0
    shadow = info["boxShadow"] not in ("none", "")
    return outline or shadow


def assert_focus_visible(page: Any) -> dict[str, Any]:
    info = focused(page)
    assert info is not None, f"nothing has the focus on {page.url}"
    assert focus_ring_visible(info), (
        f"focus is not visible on {describe(info)} at {page.url}: outline "
        f"{info['outlineStyle']} {info['outlineWidth']}px, box-shadow {info['boxShadow']}"
    )
    return info


def press(page: Any, key: str, *, navigates: bool = False) -> None:
    """A key press; when it follows a link or submits a form, wait for the new page."""
    if navigates:
        with page.expect_navigation():
            page.keyboard.press(key)
        page.wait_for_load_state("load")
    else:
        page.keyboard.press(key)


def tab_to(page: Any, selector: str, *, backwards: bool = False, limit: int = 80) -> dict[str, Any]:
    """Press Tab (or Shift+Tab) until ``selector`` has the focus.

    Every stop on the way must show a visible focus indicator, so this also checks
    the focus style of everything the keyboard passes.
    """
    key = "Shift+Tab" if backwards else "Tab"
    seen: list[str] = []
    for _ in range(limit):
        page.keyboard.press(key)
        info = focused(page)
        seen.append(describe(info))
        if info is None:
            continue
        assert focus_ring_visible(info), (
            f"focus is not visible on {describe(info)} at {page.url}: outline "
            f"{info['outlineStyle']} {info['outlineWidth']}px, box-shadow {info['boxShadow']}"
        )
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return info
    raise AssertionError(
        f"{key} never reached {selector} at {page.url} in {limit} presses; stops: {seen}"
    )


def first_tab_is_skip_link(page: Any) -> None:
    """From a freshly loaded page, the first Tab stop is the skip link, shown on screen."""
    page.keyboard.press("Tab")
    info = assert_focus_visible(page)
    assert "skip-link" in info["cls"], (
        f"first Tab stop at {page.url} is {describe(info)}, not the skip link"
    )
    assert info["top"] >= 0 and info["bottom"] <= info["vh"], "focused skip link is off screen"
    assert info["href"] == "#main"


def session_cookie(client: Any) -> dict[str, str]:
    """The Django test client's session cookie, to be copied into a browser context."""
    from django.conf import settings

    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


# --- layout ---------------------------------------------------------------------------

_OVERFLOW_JS = """() => {
  const doc = document.documentElement;
  const vw = doc.clientWidth;
  const cut = [];
  // Inside a sideways-scrolling box (a wide table in .table-wrap) is fine: the box
  // itself is checked, and WCAG 1.4.10 lets data tables scroll in two dimensions.
  const inScroller = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) return true;
    }
    return false;
  };
  for (const el of document.body.querySelectorAll('*')) {
    const s = getComputedStyle(el);
    if (s.display === 'none' || s.visibility === 'hidden') continue;
    if (el.closest('.visually-hidden') || el.closest('.skip-link')) continue;
    if (inScroller(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    // sticks out of the viewport sideways
    if (r.right > vw + 1 || r.left < -1) {
      const span = `${Math.round(r.left)}..${Math.round(r.right)} of ${vw}`;
      cut.push(`${el.tagName.toLowerCase()}.${el.className} sticks out (${span})`);
      continue;
    }
    // content clipped by its own box (scroll containers such as .table-wrap are fine)
    const clips = ['hidden', 'clip'];
    if ((clips.includes(s.overflowX) && el.scrollWidth > el.clientWidth + 1) ||
        (clips.includes(s.overflowY) && el.scrollHeight > el.clientHeight + 1)) {
      cut.push(`${el.tagName.toLowerCase()}.${el.className} clips its content`);
    }
  }
  if (doc.scrollWidth > vw && !cut.length) {
    // Something the filters above let through widens the page: an absolutely placed
    // (visually hidden) element escaping a scroll box, say. Name the widest ones.
    const wide = [...document.body.querySelectorAll('*')]
      .filter(el => !inScroller(el) ||
                    ['absolute', 'fixed'].includes(getComputedStyle(el).position))
      .map(el => [el, el.getBoundingClientRect().right])
      .filter(([, right]) => right > vw + 1)
      .sort((a, b) => b[1] - a[1]).slice(0, 5)
      .map(([el, right]) => `${el.tagName.toLowerCase()}.${el.className} ` +
           `(${getComputedStyle(el).position}) reaches ${Math.round(right)}`);
    cut.push(...wide);
  }
  return {scrollWidth: doc.scrollWidth, clientWidth: vw, cut: cut.slice(0, 10)};
}"""


def layout_problems(page: Any) -> dict[str, Any]:
    return page.evaluate(_OVERFLOW_JS)


def assert_no_horizontal_scroll(page: Any, width: int) -> None:
    result = layout_problems(page)
    assert result["scrollWidth"] <= width, (
        f"{page.url} scrolls sideways at {width} px: scrollWidth {result['scrollWidth']}; "
        f"{result['cut']}"
    )
    assert not result["cut"], f"{page.url} at {width} px: {result['cut']}"


# --- axe ------------------------------------------------------------------------------


def run_axe(page: Any) -> list[dict[str, Any]]:
    from axe_playwright_python.sync_playwright import Axe

    return Axe().run(page, options=AXE_OPTIONS).response["violations"]


def assert_axe_clean(page: Any, what: str, width: int) -> None:
    """axe-core finds nothing on the page and, at ``width``, nothing scrolls sideways."""
    violations = run_axe(page)
    assert not violations, f"{what}: {page.url}\n{format_violations(violations)}"
    assert_no_horizontal_scroll(page, width)


def axe_context(
    browser: Any, live_server: Any, client: Any | None, viewport: dict[str, int]
) -> Any:
    """A browser context for page checks: the viewport, no CSP (axe injects a script),
    reduced motion, Japanese locale, and the test client's session when one is given."""
    context = browser.new_context(
        viewport=viewport, bypass_csp=True, reduced_motion="reduce", locale="ja-JP"
    )
    context.set_default_timeout(15_000)
    if client is not None:
        context.add_cookies(
            [
                {"name": k, "value": v, "url": live_server.url}
                for k, v in session_cookie(client).items()
            ]
        )
    return context


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v.get('impact')}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"][:8]:
            target = " ".join(json.dumps(t, ensure_ascii=False) for t in node["target"])
            summary = (node.get("failureSummary") or "").replace("\n", " ")[:300]
            lines.append(f"    {target}  {summary}")
        if len(v["nodes"]) > 8:
            lines.append(f"    … and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


@dataclass
class AxeSummary:
    """Results of every axe run in this session, for the table printed at the end."""

    cells: dict[tuple[str, str], str] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)

    def record(self, page: str, language: str, outcome: str, position: int = 0) -> None:
        """``position`` keeps the pages in their listed order, even from xdist workers."""
        self.cells[(page, language)] = outcome
        self.order.setdefault(page, position)

    def table(self) -> list[str]:
        if not self.cells:
            return []
        pages = sorted(dict.fromkeys(p for p, _ in self.cells), key=lambda p: self.order[p])
        runs = set(lang for _, lang in self.cells)
        langs = [lang for lang in LANGUAGES if lang in runs] + sorted(runs - set(LANGUAGES))
        width = max(len(p) for p in pages) + 2
        cols = {
            lang: max(len(lang), *(len(self.cells.get((p, lang), "")) for p in pages)) + 2
            for lang in langs
        }
        lines = ["page".ljust(width) + "".join(lang.ljust(cols[lang]) for lang in langs)]
        for p in pages:
            row = p.ljust(width)
            for lang in langs:
                row += self.cells.get((p, lang), "").ljust(cols[lang])
            lines.append(row.rstrip())
        ok = sum(1 for v in self.cells.values() if v == "ok")
        skipped = sum(1 for v in self.cells.values() if v == "skip")
        failed = len(self.cells) - ok - skipped
        lines.append(
            f"{ok} clean, {failed} with problems, {skipped} skipped (page not built yet); "
            "a cell names the axe rule ids, or lang / 404-asset / no-ruby / reflow"
        )
        return lines


AXE_RESULTS = AxeSummary()


@contextmanager
def launch_chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright's sync API, closed on exit.

    Playwright keeps an asyncio loop in this thread while it is open; Django's ORM calls
    made by the tests themselves (fixtures, assertions) are still plain synchronous
    calls, so the async-safety check is lifted for as long as the browser lives.
    """
    import pytest

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} not found: install Debian's Chromium (apt-get install -y chromium) "
            "or point CITYHALL_CHROMIUM at a Chromium binary",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield launched
            finally:
                launched.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
