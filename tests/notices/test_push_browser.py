"""Web push in headless Chromium, on the resident's notification settings page:

1. push.js registers /sw.js with scope / (and axe finds nothing on the page);
2. "turn on" asks the browser's push service, which the closed sandbox cannot reach
   (Chromium answers ``AbortError: Registration failed - permission denied`` in a
   Playwright context): the live region says so in the page's language; a subscribe()
   that never settles (Chromium with a real profile and no network) ends the same way
   after ``data-subscribe-timeout``;
3. a push delivered to the registered worker through the DevTools protocol
   (``ServiceWorker.deliverPushMessage``) is shown as a notification;
4. clicking it (the event dispatched in the worker) reports "opened" for the delivery.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from cityhall.notices.models import Delivery, Message, PushSubscription
from tests.e2e.helpers import (
    PHONE,
    assert_no_horizontal_scroll,
    format_violations,
    launch_chromium,
    run_axe,
    session_cookie,
)
from tests.notices.conftest import make_notice_resident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NOTIFICATIONS_JS = """async () => {
  const reg = await navigator.serviceWorker.ready;
  const shown = await reg.getNotifications();
  return shown.map(n => ({title: n.title, body: n.body, lang: n.lang, data: n.data, tag: n.tag}));
}"""


def _unreachable_text() -> str:
    with translation.override("en"):
        return translation.gettext(
            "Could not reach the push service of your browser. Check the internet "
            "connection and try again later."
        )


def _click_subscribe(page: Any) -> tuple[str, str, str]:
    """Click "turn on" and wait until push.js reports an outcome: (outcome, text, detail)."""
    page.locator("#push-subscribe").click()
    page.wait_for_function(
        """() => {
          const root = document.querySelector('[data-push-controls]');
          return root.dataset.pushOutcome && root.getAttribute('aria-busy') === 'false';
        }"""
    )
    controls = page.locator("[data-push-controls]")
    return (
        controls.get_attribute("data-push-outcome") or "",
        page.locator("#push-status").inner_text(),
        controls.get_attribute("data-push-detail") or "",
    )


def test_the_settings_page_registers_the_worker_and_a_delivered_push_is_shown(
    live_server: Any, client: Client
) -> None:
    user = make_notice_resident("browser@example.jp", channels=["email"], interests=["events"])
    client.force_login(user)
    base = live_server.url
    message = Message.objects.create(
        kind=Message.Kind.NEWS, topic="events", content={}, state=Message.State.DONE
    )
    sent = Delivery.objects.create(
        message=message, user=user, channel="push", state=Delivery.State.SENT
    )
    with launch_chromium() as browser:
        context = browser.new_context(
            permissions=["notifications"], locale="en-US", reduced_motion="reduce"
        )
        context.set_default_timeout(30_000)
        cookies = {**session_cookie(client), "cityhall_lang": "en"}
        context.add_cookies([{"name": k, "value": v, "url": base} for k, v in cookies.items()])
        page = context.new_page()
        page.goto(base + reverse("notices:preferences"))

        # 1. the worker registers with scope / and the controls appear
        controls = page.locator("[data-push-controls]")
        page.wait_for_selector("[data-push-controls][data-push-registered='true']")
        scope = page.evaluate(
            "navigator.serviceWorker.getRegistration('/').then(r => r && r.scope)"
        )
        assert scope == base + "/"
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        assert page.locator("[data-push-unavailable]").is_hidden()
        assert page.locator("#push-subscribe").is_visible()
        assert controls.get_attribute("data-push-subscribed") == "false"
        assert page.evaluate("Notification.permission") == "granted"
        violations = run_axe(page)
        assert not violations, format_violations(violations)
        page.set_viewport_size(PHONE)
        assert_no_horizontal_scroll(page, PHONE["width"])

        # 2. subscribing needs the browser's push service on the internet
        outcome, status, detail = _click_subscribe(page)
        print(f"pushManager.subscribe in headless Chromium: {outcome} ({detail})")
        if outcome == "ok":  # a push service was reachable after all
            assert PushSubscription.objects.filter(user=user).count() == 1
        else:
            assert (outcome, status) == ("unreachable", _unreachable_text()), detail
            assert not PushSubscription.objects.filter(user=user).exists()
        assert page.locator("#push-status").get_attribute("role") == "status"
        assert page.locator("#push-status.notification--error").count() == (outcome != "ok")

        # 2b. a push service that never answers (what Chromium does with a real profile
        # and no network: subscribe() stays pending) ends in the same message
        page.evaluate(
            """() => {
              document.querySelector('[data-push-controls]').dataset.subscribeTimeout = '1500';
              PushManager.prototype.subscribe = () => new Promise(() => {});
            }"""
        )
        outcome, status, detail = _click_subscribe(page)
        assert (outcome, status, detail) == ("unreachable", _unreachable_text(), "timeout")

        # 3. a push delivered to the registered worker through the DevTools protocol
        cdp = context.new_cdp_session(page)
        registrations: list[dict[str, Any]] = []
        cdp.on(
            "ServiceWorker.workerRegistrationUpdated",
            lambda event: registrations.extend(event["registrations"]),
        )
        cdp.send("ServiceWorker.enable")
        page.wait_for_timeout(200)  # let the enable's event batch arrive
        for _ in range(50):
            if any(r["scopeURL"] == base + "/" for r in registrations):
                break
            page.wait_for_timeout(100)
        [registration] = [r for r in registrations if r["scopeURL"] == base + "/"][:1]
        data = {
            "title": "夏祭りのお知らせ",
            "body": "8月3日に上野公園で夏祭りを開きます。",
            "url": base + "/news/",
            "key": str(sent.key),
            "urgent": False,
            "lang": "ja",
        }
        shown: list[dict[str, Any]] = []
        # CDP hands the message to the worker; a worker that Chromium is just stopping or
        # starting can drop it, so it is delivered again (same tag: still one notification).
        for _attempt in range(3):
            cdp.send(
                "ServiceWorker.deliverPushMessage",
                {
                    "origin": base,
                    "registrationId": registration["registrationId"],
                    "data": json.dumps(data, ensure_ascii=False),
                },
            )
            for _ in range(50):
                shown = page.evaluate(NOTIFICATIONS_JS)
                if shown:
                    break
                page.wait_for_timeout(100)
            if shown:
                break
        assert shown == [
            {
                "title": "夏祭りのお知らせ",
                "body": "8月3日に上野公園で夏祭りを開きます。",
                "lang": "ja",
                "data": {"url": base + "/news/", "key": str(sent.key)},
                "tag": str(sent.key),
            }
        ]

        # 4. a click on it (dispatched in the worker: headless Chromium has no notification
        # UI to click) reports "opened" with the delivery key, without cookies or CSRF token
        [worker] = [w for w in context.service_workers if w.url == base + "/sw.js"]
        # The worker's fetches are awaited here, so the test reads the database only after
        # the server answered (no poll racing the request on the shared in-memory SQLite).
        statuses = worker.evaluate(
            """async () => {
              const pending = [];
              const realFetch = self.fetch.bind(self);
              self.fetch = (...args) => {
                const answer = realFetch(...args);
                pending.push(answer.then(r => r.status, () => 0));
                return answer;
              };
              const [shown] = await self.registration.getNotifications();
              try {
                const click = new NotificationEvent('notificationclick', {notification: shown});
                self.dispatchEvent(click);
              } catch (error) { /* waitUntil refuses an untrusted event; the handler ran */ }
              const done = await Promise.all(pending);
              self.fetch = realFetch;
              return done;
            }"""
        )
        assert statuses and all(200 <= status < 300 for status in statuses), statuses
        sent.refresh_from_db()
        assert sent.state == Delivery.State.OPENED and sent.opened_at is not None
        assert page.evaluate(NOTIFICATIONS_JS) == []  # the click closed it
        context.close()
