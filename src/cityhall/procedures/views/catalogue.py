"""Resident pages: the procedure catalogue and the life-event guide with saved checklists.

The catalogue and the guide's questions and results are public pages: the same HTML
for every visitor of a language (only the header differs when logged in), so the page
cache can keep them. Saving a checklist and ticking it off need a resident's account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cityhall.procedures.models import Category, Procedure
from cityhall.procedures.services import catalogue
from cityhall.procedures.services import guide as guides
from cityhall.procedures.views.common import resident_required

# --- helpers ------------------------------------------------------------------------------


def apply_url(procedure: Procedure) -> str | None:
    """Where to start the online application, when there is one to start."""
    if not catalogue.can_apply_online(procedure):
        return None
    try:
        return reverse("procedures:apply_start", args=[procedure.slug])
    except NoReverseMatch:  # the application pages are not installed
        return None


def _lines(text: str) -> list[str]:
    return [line.strip().lstrip("・-•*").strip() for line in text.splitlines() if line.strip()]


@dataclass
class Card:
    """What the pages show of one procedure, in the reader's language."""

    procedure: Procedure
    title: str
    summary: str
    eligibility: str
    bring: list[str]
    fee: str
    where: str
    hours: str
    department: str
    location: str
    phone: str
    online: bool
    counter: bool
    apply_url: str | None

    @property
    def slug(self) -> str:
        return self.procedure.slug

    @property
    def requires_identity(self) -> bool:
        return self.procedure.requires_identity

    @property
    def fee_yen(self) -> int:
        return self.procedure.fee_yen

    @property
    def fee_amount(self) -> str:
        return f"{self.procedure.fee_yen:,}"

    @property
    def tel(self) -> str:
        return "".join(ch for ch in self.phone if ch.isdigit() or ch == "+")


def card(procedure: Procedure, language: str | None = None) -> Card:
    language = language or get_language() or "ja"
    department = procedure.department
    fee = procedure.text("fee", language)
    if not fee:
        fee = (
            _("%(yen)s yen") % {"yen": f"{procedure.fee_yen:,}"} if procedure.fee_yen else _("Free")
        )
    return Card(
        procedure=procedure,
        title=procedure.text("title", language) or procedure.slug,
        summary=procedure.text("summary", language),
        eligibility=procedure.text("eligibility", language),
        bring=_lines(procedure.text("bring", language)),
        fee=fee,
        where=procedure.text("where", language),
        hours=procedure.text("hours", language),
        department=department.localized_name(language),
        location=department.location,
        phone=department.phone,
        online=catalogue.can_apply_online(procedure),
        counter=catalogue.at_counter(procedure),
        apply_url=apply_url(procedure),
    )


# --- catalogue ----------------------------------------------------------------------------


class SearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Search procedures"),
        required=False,
        max_length=catalogue.MAX_QUERY_LENGTH,
        help_text=gettext_lazy("For example: 住民票, child allowance, ごみ"),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    category = forms.ChoiceField(label=gettext_lazy("Category"), required=False)
    life_event = forms.ChoiceField(label=gettext_lazy("Life event"), required=False)
    online = forms.BooleanField(
        label=gettext_lazy("Only procedures I can do online"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        counts = {c.value: c.count for c in catalogue.categories_with_counts()}
        category = self.fields["category"]
        life_event = self.fields["life_event"]
        assert isinstance(category, forms.ChoiceField)
        assert isinstance(life_event, forms.ChoiceField)
        # Categories with procedures, and the one asked for even if it has none today.
        requested = self.data.get("category") if self.is_bound else None
        category.choices = [
            ("", _("All categories")),
            *(
                (value, f"{label} ({counts.get(value, 0)})")
                for value, label in Category.choices
                if counts.get(value) or value == requested
            ),
        ]
        life_event.choices = [("", _("All life events")), *guides.life_event_choices()]


@require_GET
def catalogue_index(request: HttpRequest) -> HttpResponse:
    """手続き一覧: search and filters in a plain GET form."""
    form = SearchForm(request.GET or None)
    results: list[Card] = []
    searched = bool(request.GET)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        found = catalogue.search(
            query=data["q"],
            category=data["category"],
            life_event=data["life_event"],
            online_only=data["online"],
        )
        results = [card(p) for p in found]
    elif not form.is_bound:
        results = [card(p) for p in catalogue.search()]
    return render(
        request,
        "procedures/catalogue/index.html",
        {
            "form": form,
            "results": results,
            "searched": searched,
            "categories": catalogue.categories_with_counts(),
            "guides": list(guides.GUIDES.values()),
        },
        status=422 if form.errors else 200,
    )


@require_GET
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    procedure = catalogue.get(slug)
    if procedure is None:
        raise Http404
    events = [guides.GUIDES[e] for e in procedure.life_events or [] if e in guides.GUIDES]
    return render(
        request,
        "procedures/catalogue/detail.html",
        {
            "item": card(procedure),
            "category": Category(procedure.category).label
            if procedure.category in Category.values
            else "",
            "guides": events,
        },
    )


# --- life-event guide ---------------------------------------------------------------------


class GuideForm(forms.Form):
    """The guide's questions as radio groups (one answer) and checkbox groups."""

    def __init__(self, guide: guides.Guide, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.guide = guide
        for question in guide.questions:
            choices = [(c.value, c.label) for c in question.choices]
            field: forms.Field
            if question.many:
                field = forms.MultipleChoiceField(
                    choices=choices, required=False, widget=forms.CheckboxSelectMultiple
                )
            else:
                field = forms.ChoiceField(
                    choices=choices,
                    widget=forms.RadioSelect,
                    error_messages={"required": gettext_lazy("Choose one answer.")},
                )
            field.label = str(question.text)
            field.help_text = str(question.hint)
            self.fields[question.key] = field


def _answers_query(guide: guides.Guide, answers: guides.Answers, **extra: str) -> str:
    pairs: list[tuple[str, str]] = [("answered", "1")]
    for question in guide.questions:
        value = answers.get(question.key)
        for item in value if isinstance(value, list) else [value] if value else []:
            pairs.append((question.key, item))
    pairs += list(extra.items())
    return urlencode(pairs)


@dataclass
class AnswerLine:
    question: str | Promise
    answer: list[str | Promise]


def _answer_lines(guide: guides.Guide, answers: guides.Answers) -> list[AnswerLine]:
    lines = []
    for question in guide.questions:
        value = answers.get(question.key)
        given = value if isinstance(value, list) else [value] if value else []
        labels = {c.value: c.label for c in question.choices}
        lines.append(AnswerLine(question.text, [labels[v] for v in given if v in labels]))
    return lines


def _cards(entries: list[guides.Entry]) -> list[dict[str, Any]]:
    return [{"card": card(e.procedure), "note": e.note, "done": e.done} for e in entries]


def _checklist_context(result: guides.Checklist) -> dict[str, Any]:
    return {
        "online": _cards(result.online),
        "counter": _cards(result.counter),
        "advice": result.advice,
        "answer_lines": _answer_lines(result.guide, result.answers),
        "count": len(result.entries),
    }


@require_GET
def guide_index(request: HttpRequest) -> HttpResponse:
    return render(request, "procedures/guide/index.html", {"guides": list(guides.GUIDES.values())})


@require_http_methods(["GET", "HEAD", "POST"])
def guide(request: HttpRequest, event: str) -> HttpResponse:
    """The questions (GET), the checklist (GET with answers), saving it (POST, residents)."""
    found = guides.get_guide(event)
    if found is None:
        raise Http404
    if request.method == "POST":
        return _save_guide(request, found)
    answered = "answered" in request.GET or any(q.key in request.GET for q in found.questions)
    form = GuideForm(found, request.GET if answered else None)
    base = {"guide": found, "form": form}
    if not answered or "edit" in request.GET or not form.is_valid():
        return render(
            request,
            "procedures/guide/questions.html",
            base,
            status=422 if form.errors else 200,
        )
    result = guides.checklist(found, form.cleaned_data)
    query = _answers_query(found, result.answers)
    context = {
        **base,
        **_checklist_context(result),
        "hidden": [(k, v) for k, v in parse_qsl(query) if k != "answered"],
        "edit_url": f"{request.path}?{_answers_query(found, result.answers, edit='1')}",
        "print_url": f"{request.path}?{_answers_query(found, result.answers, print='1')}",
        "list_url": f"{request.path}?{query}",
        "login_url": f"{reverse('people:login')}?{urlencode({'next': f'{request.path}?{query}'})}",
    }
    template = "print" if request.GET.get("print") else "result"
    return render(request, f"procedures/guide/{template}.html", context)


def _save_guide(request: HttpRequest, found: guides.Guide) -> HttpResponse:
    if not request.user.is_authenticated:
        raw = {
            q.key: request.POST.getlist(q.key) if q.many else request.POST.get(q.key, "")
            for q in found.questions
        }
        back = f"{request.path}?{_answers_query(found, guides.clean_answers(found, raw))}"
        return redirect(f"{reverse('people:login')}?{urlencode({'next': back})}")
    if request.user.is_staff:
        return redirect("staff:home")
    form = GuideForm(found, request.POST)
    if not form.is_valid():
        return render(
            request, "procedures/guide/questions.html", {"guide": found, "form": form}, status=422
        )
    saved = guides.save(request.user, found, form.cleaned_data)
    messages.success(request, _("Your checklist is saved on your account."))
    return redirect("procedures:checklist", pk=saved.pk)


@resident_required
@require_GET
def checklists(request: HttpRequest) -> HttpResponse:
    rows = []
    for saved in guides.saved_for(request.user):  # type: ignore[arg-type]
        done, total = guides.progress(saved)
        rows.append(
            {
                "saved": saved,
                "title": guides.life_event_title(saved.life_event),
                "done": done,
                "total": total,
            }
        )
    return render(request, "procedures/guide/checklists.html", {"rows": rows})


@resident_required
@require_http_methods(["GET", "HEAD", "POST"])
def checklist(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    saved = guides.get_saved(user, pk)  # type: ignore[arg-type]
    if saved is None:
        raise Http404
    if request.method == "POST":
        if request.POST.get("action") == "delete":
            guides.delete(user, pk)  # type: ignore[arg-type]
            messages.success(request, _("The checklist is deleted."))
            return redirect("procedures:checklists")
        guides.set_done(user, pk, request.POST.getlist("done"))  # type: ignore[arg-type]
        messages.success(request, _("Your ticks are saved."))
        return redirect("procedures:checklist", pk=pk)
    result = guides.saved_entries(saved)
    if result is None:
        raise Http404
    done, total = guides.progress(saved)
    return render(
        request,
        "procedures/guide/checklist.html",
        {
            "saved": saved,
            "guide": result.guide,
            "items": _cards(result.entries),
            "advice": result.advice,
            "answer_lines": _answer_lines(result.guide, result.answers),
            "done": done,
            "total": total,
            "list_url": f"{reverse('procedures:guide', args=[saved.life_event])}?"
            f"{_answers_query(result.guide, result.answers)}",
        },
    )
