"""The resident's notification settings, inbox, and one-click unsubscribe.

Thin views over :mod:`cityhall.notices.services.preferences`. Settings and inbox are for
logged-in residents; an inbox item of someone else is the same 404 as one that does not
exist. The unsubscribe address works without a login and — for the POST that mail
clients send (RFC 8058 ``List-Unsubscribe=One-Click``) — without a CSRF token: the signed
token in the address is the authority.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from cityhall.notices.forms import PreferencesForm
from cityhall.notices.models import TOPIC_CHOICES
from cityhall.notices.services import preferences as prefs
from cityhall.notices.services.common import read_unsubscribe_token
from cityhall.people.models import Channel
from cityhall.procedures.views.common import resident_required

PUSH_CONTROLS = "notices/includes/push_controls.html"
INBOX_PAGE_SIZE = 20


def _template_exists(name: str) -> bool:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


def _vapid_public_key() -> str:
    """The key the push controls subscribe with ("" when push is not set up here)."""
    try:
        from cityhall.notices.services import push_keys

        return push_keys.vapid_public_key()
    except Exception:  # no key: the controls fetch it or say push is off
        return ""


def _initial(state: dict[str, Any]) -> dict[str, Any]:
    channels = [c for c in state["channels"] if c in prefs.CHOOSABLE_CHANNELS]
    if not state["line"]["linked"]:
        channels = [c for c in channels if c != Channel.LINE]
    if not state["email"]["real"]:
        channels = [c for c in channels if c != Channel.EMAIL]
    return {
        "channels": channels,
        "notify": state["consents"]["notify"],
        "topics": state["topics"],
        "emergency": state["consents"]["emergency"],
        "quiet_start": state["quiet_start"],
        "quiet_end": state["quiet_end"],
    }


@resident_required
def preferences(request: HttpRequest) -> HttpResponse:
    """One form: channels (with what is linked), topics, emergency alerts, quiet hours."""
    user: Any = request.user
    state = prefs.settings_for(user)
    form = PreferencesForm(request.POST or None, initial=_initial(state), user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            prefs.save_settings(
                user,
                channels=list(data["channels"]),
                topics=list(data["topics"]),
                quiet_start=data["quiet_start"],
                quiet_end=data["quiet_end"],
                emergency=bool(data["emergency"]),
                notify=bool(data["notify"]),
                request=request,
            )
        except prefs.PreferencesError as exc:  # changed meanwhile (e.g. LINE unlinked)
            for field, problems in exc.errors.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            messages.success(request, _("Your notification settings are saved."))
            return redirect("notices:preferences")
    push_controls = PUSH_CONTROLS if _template_exists(PUSH_CONTROLS) else ""
    if push_controls:
        state["push"]["vapid_public_key"] = _vapid_public_key()
    channel_state = {
        Channel.EMAIL.value: state["email"],
        Channel.LINE.value: state["line"],
        Channel.PUSH.value: state["push"],
    }
    return render(
        request,
        "notices/preferences.html",
        {
            "form": form,
            "state": state,
            "channel_state": channel_state,
            "push_controls": push_controls,
            "unread": prefs.unread_count(user),
        },
        status=422 if form.errors else 200,
    )


@resident_required
def inbox(request: HttpRequest) -> HttpResponse:
    """The resident's inbox: urgent and newest first, unread marked in words."""
    user: Any = request.user
    page = Paginator(prefs.inbox_items(user), INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notices/inbox.html",
        {"page": page, "items": page.object_list, "unread": prefs.unread_count(user)},
    )


@resident_required
def inbox_item(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    item = prefs.own_item(user, pk)
    if item is None:
        raise Http404("no such inbox item of this resident")
    prefs.mark_read(user, item)
    return render(request, "notices/inbox_item.html", {"item": item})


def _topic_label(topic: str) -> str:
    return str(dict(TOPIC_CHOICES).get(topic, topic))


@csrf_exempt  # the signed token is the authority; mail clients POST without a CSRF token
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (changes nothing); POST — our button or a mail client's one-click — does it."""
    wanted = read_unsubscribe_token(token)
    if wanted is None or wanted.topic not in dict(TOPIC_CHOICES):
        return render(request, "notices/unsubscribe_invalid.html", status=400)
    context = {
        "token": token,
        "topic": wanted.topic,
        "topic_label": _topic_label(wanted.topic),
        "channel": wanted.channel,
        "is_email": wanted.channel == Channel.EMAIL,
    }
    if request.method == "POST":
        done = prefs.unsubscribe(token, request=request)
        if done is None:
            return render(request, "notices/unsubscribe_invalid.html", status=400)
        return render(request, "notices/unsubscribe_done.html", context)
    context["subscribed"] = prefs.is_subscribed(wanted.user_id, wanted.topic)
    return render(request, "notices/unsubscribe.html", context)
