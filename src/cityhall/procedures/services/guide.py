"""The life-event guide (手続きガイド): a few questions, then the resident's own checklist.

Each :class:`Guide` is data: its questions (radio groups and checkbox groups) and its
rules. A :class:`Rule` holds when every one of its conditions holds; a condition names
a question and the answers that satisfy it (for a checkbox group: any of them ticked).
The rules are read in order and the procedures they name are listed in that order,
each once, so the order of the rules is the order a resident should do things in.
Procedures are named by slug; a slug without an active procedure is skipped, so the
guide keeps working while the catalogue content grows.

A resident may keep a checklist on their account (:class:`SavedChecklist`) and tick
off what is done. Only the owner ever reads or changes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cityhall.people.models import User
from cityhall.procedures.models import Procedure, SavedChecklist
from cityhall.procedures.services import catalogue

Text = str | Promise
Answers = dict[str, str | list[str]]


@dataclass(frozen=True)
class Choice:
    value: str
    label: Text


@dataclass(frozen=True)
class Question:
    """One question: a radio group (one answer, required) or, with ``many``, checkboxes."""

    key: str
    text: Text
    choices: tuple[Choice, ...]
    many: bool = False
    hint: Text = ""

    def values(self) -> set[str]:
        return {choice.value for choice in self.choices}


@dataclass(frozen=True)
class Step:
    """A procedure to do, with an optional note (a deadline, what is special here)."""

    procedure: str
    note: Text = ""


@dataclass(frozen=True)
class Rule:
    """When every condition holds, the steps join the checklist and the advice is shown.

    ``when`` maps question keys to the answers that satisfy the condition.
    """

    steps: tuple[Step, ...] = ()
    when: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    advice: Text = ""

    def holds(self, answers: Mapping[str, Any]) -> bool:
        for key, accepted in self.when.items():
            given = answers.get(key)
            given_values = set(given) if isinstance(given, list | tuple) else {given}
            if not given_values & set(accepted):
                return False
        return True


@dataclass(frozen=True)
class Guide:
    slug: str
    title: Text
    summary: Text
    icon: str
    questions: tuple[Question, ...]
    rules: tuple[Rule, ...]

    def question(self, key: str) -> Question | None:
        return next((q for q in self.questions if q.key == key), None)

    def slugs(self) -> list[str]:
        """Every procedure this guide can put on a list, in rule order."""
        found: list[str] = []
        for rule in self.rules:
            found += [s.procedure for s in rule.steps if s.procedure not in found]
        return found


def rule(*steps: Step | str, advice: Text = "", **when: str | tuple[str, ...]) -> Rule:
    """Shorthand: ``rule("tennyu", Step("x", note), direction="in", household=("dog",))``."""
    return Rule(
        steps=tuple(s if isinstance(s, Step) else Step(s) for s in steps),
        when={key: (value,) if isinstance(value, str) else value for key, value in when.items()},
        advice=advice,
    )


YES_NO = (Choice("yes", _("Yes")), Choice("no", _("No")))


# --- the guides ---------------------------------------------------------------------------
# Procedure slugs are those of src/cityhall/procedures/data/procedures.json.

MOVING = Guide(
    slug="moving",
    title=_("Moving"),
    summary=_("Moving in, moving out or within the city."),
    icon="🏠",
    questions=(
        Question(
            "direction",
            _("Where are you moving?"),
            (
                Choice("in", _("Into Iga from another town in Japan")),
                Choice("out", _("Out of Iga")),
                Choice("within", _("To another address in Iga")),
            ),
            hint=_("Moving to Iga from abroad? Use the guide for moving from abroad."),
        ),
        Question(
            "household",
            _("Who or what moves with you?"),
            (
                Choice("children", _("Children under 18")),
                Choice("school", _("Children at elementary or junior high school")),
                Choice("nhi", _("Someone on the National Health Insurance (国民健康保険)")),
                Choice("care", _("Someone with a care certification (要介護・要支援認定)")),
                Choice("dog", _("A dog")),
                Choice("seal", _("You want a registered seal (印鑑登録) here")),
            ),
            many=True,
            hint=_("Tick all that apply, or none."),
        ),
    ),
    rules=(
        rule(
            Step("tennyu", _("Within 14 days after you move in.")),
            direction="in",
            advice=_(
                "Bring the moving-out certificate (転出証明書) from your former town, or your "
                "My Number card if you moved out with it."
            ),
        ),
        rule(Step("tenshutsu", _("Up to 14 days before you move.")), direction="out"),
        rule(Step("tenkyo", _("Within 14 days after you move.")), direction="within"),
        rule("inkan-toroku", direction="in", household="seal"),
        rule(
            Step("kokuho-kanyu", _("Within 14 days after you move in.")),
            direction="in",
            household="nhi",
        ),
        rule(
            Step("kaigo-tennyu-nintei", _("Within 14 days, so the certification carries over.")),
            direction="in",
            household="care",
        ),
        rule(
            Step("jido-teate-nintei", _("Within 15 days after you move in, or you lose months.")),
            "kodomo-iryohi",
            direction="in",
            household="children",
        ),
        rule("jido-teate-henko", direction="within", household="children"),
        rule("jido-teate-shometsu", direction="out", household="children"),
        rule("shochugakko-nyugaku", direction=("in", "within"), household="school"),
        rule(
            Step("inu-toroku", _("Bring the dog's registration tag from your former town.")),
            direction="in",
            household="dog",
        ),
        rule(
            Step("suido-kaishi-chushi", _("At least 3 working days before you move.")),
            "sodai-gomi",
        ),
        rule("katei-gomi", direction="in"),
    ),
)

BIRTH = Guide(
    slug="birth",
    title=_("Having a baby"),
    summary=_("Pregnancy, birth registration and child allowance."),
    icon="👶",
    questions=(
        Question(
            "stage",
            _("Where are you now?"),
            (
                Choice("expecting", _("I am pregnant")),
                Choice("born", _("The baby has been born")),
            ),
        ),
        Question("first_child", _("Is this your first child?"), YES_NO),
        Question(
            "situation",
            _("Which of these apply?"),
            (
                Choice("nhi", _("A parent is on the National Health Insurance (国民健康保険)")),
                Choice("nursery", _("You will need a nursery place (保育所)")),
                Choice("single", _("You are raising the child alone")),
            ),
            many=True,
            hint=_("Tick all that apply, or none."),
        ),
    ),
    rules=(
        rule(
            Step("ninshin-todoke", _("As soon as a doctor confirms the pregnancy.")),
            stage="expecting",
        ),
        rule(Step("shussei-todoke", _("Within 14 days after the birth.")), stage="born"),
        rule(
            Step("jido-teate-nintei", _("Within 15 days after the birth, or you lose months.")),
            stage="born",
            first_child="yes",
        ),
        rule(
            Step("jido-teate-gaku-kaitei", _("Within 15 days after the birth.")),
            stage="born",
            first_child="no",
        ),
        rule("kodomo-iryohi", stage="born"),
        rule(
            Step("kokuho-kanyu", _("For the baby, within 14 days after the birth.")),
            stage="born",
            situation="nhi",
        ),
        rule("jido-fuyo-teate", stage="born", situation="single"),
        rule(
            Step("hoiku-nintei", _("Apply early: places for April fill in autumn.")),
            "hoiku-moshikomi",
            situation="nursery",
        ),
    ),
)

CHILDCARE = Guide(
    slug="childcare",
    title=_("Raising children"),
    summary=_("Nursery schools, medical costs and support."),
    icon="🧒",
    questions=(
        Question(
            "ages",
            _("How old are your children?"),
            (
                Choice("preschool", _("Not yet at school")),
                Choice("school", _("At elementary or junior high school")),
                Choice("teen", _("15 to 18")),
            ),
            many=True,
            hint=_("Tick all that apply."),
        ),
        Question(
            "needs",
            _("What do you need?"),
            (
                Choice("allowance", _("Child allowance (児童手当), not received yet")),
                Choice("medical", _("Help with medical costs")),
                Choice("nursery", _("A nursery place (保育所)")),
                Choice("nursery_renewal", _("To keep a nursery place for next year")),
                Choice("after_school", _("An after-school club (放課後児童クラブ)")),
                Choice("fees", _("To pay school lunches or nursery fees from the allowance")),
                Choice("change", _("To report a new address, name or bank account")),
            ),
            many=True,
            hint=_("Tick all that apply, or none."),
        ),
        Question(
            "single",
            _("Are you raising your children alone?"),
            (
                Choice("no", _("No")),
                Choice("new", _("Yes, and I do not receive 児童扶養手当 yet")),
                Choice("receiving", _("Yes, and I already receive 児童扶養手当")),
            ),
        ),
    ),
    rules=(
        rule(
            Step(
                "jido-teate-nintei", _("Within 15 days of a birth or a move, or you lose months.")
            ),
            needs="allowance",
        ),
        rule("jido-teate-henko", needs="change"),
        rule("kodomo-iryohi", needs="medical"),
        rule(
            Step("hoiku-nintei", _("Apply early: places for April fill in autumn.")),
            "hoiku-moshikomi",
            needs="nursery",
            ages="preschool",
        ),
        rule("hoiku-genkyo", needs="nursery_renewal", ages="preschool"),
        rule("hokago-club", needs="after_school", ages="school"),
        rule("jido-teate-kyushoku", needs="fees"),
        rule("jido-fuyo-teate", single="new"),
        rule(Step("jido-fuyo-genkyo", _("Every August.")), single="receiving"),
    ),
)

SCHOOL = Guide(
    slug="school",
    title=_("Starting school"),
    summary=_("Elementary and junior high school enrolment."),
    icon="🎒",
    questions=(
        Question(
            "stage",
            _("Which school is your child starting?"),
            (
                Choice("elementary", _("Elementary school")),
                Choice("junior_high", _("Junior high school")),
            ),
        ),
        Question(
            "situation",
            _("Which applies to your child?"),
            (
                Choice("resident", _("Lives in Iga and starts school in April")),
                Choice("moving", _("Is moving to a school in Iga")),
                Choice("foreign", _("Is not a Japanese citizen")),
            ),
        ),
        Question(
            "needs",
            _("Which of these apply?"),
            (
                Choice("aid", _("School costs are hard to pay")),
                Choice("lunch", _("You want school lunches paid from the child allowance")),
                Choice("after_school", _("You need an after-school club (放課後児童クラブ)")),
            ),
            many=True,
            hint=_("Tick all that apply, or none."),
        ),
    ),
    rules=(
        rule(
            advice=_(
                "Children living in Iga receive the school entry notice (就学通知) by post "
                "around January. Call the School Education Division if it does not arrive."
            ),
            situation="resident",
        ),
        rule("shochugakko-nyugaku", situation=("moving", "foreign")),
        rule("shugaku-enjo", needs="aid"),
        rule("jido-teate-kyushoku", needs="lunch"),
        rule("hokago-club", needs="after_school", stage="elementary"),
    ),
)

CARE = Guide(
    slug="care",
    title=_("Care for the elderly"),
    summary=_("Long-term care insurance and support at home."),
    icon="🤝",
    questions=(
        Question(
            "who",
            _("Who needs care?"),
            (Choice("self", _("I do")), Choice("family", _("A family member"))),
        ),
        Question(
            "certified",
            _("Is there a care certification (要介護・要支援認定)?"),
            (
                Choice("no", _("Not yet")),
                Choice("yes", _("Yes")),
                Choice("expiring", _("Yes, and it ends soon")),
                Choice("changed", _("Yes, but more care is needed now")),
                Choice("moved", _("Yes, from the town we lived in before Iga")),
            ),
        ),
        Question(
            "needs",
            _("What is needed?"),
            (
                Choice("services", _("Care services at home or at a day centre")),
                Choice("equipment", _("Equipment (a bath chair, a walker)")),
                Choice("alterations", _("Changes to the house (handrails, steps)")),
                Choice("costs", _("Help with high care costs")),
                Choice("home", _("Help with the costs of a care home")),
                Choice("card", _("A new insurance card (lost or damaged)")),
            ),
            many=True,
            hint=_("Tick all that apply, or none."),
        ),
    ),
    rules=(
        rule(
            advice=_(
                "You may apply for a family member. Bring your own identity document and "
                "their insurance card."
            ),
            who="family",
        ),
        rule("kaigo-nintei", certified="no"),
        rule(
            Step("kaigo-koshin", _("From 60 days before the certification ends.")),
            certified="expiring",
        ),
        rule("kaigo-kubun-henko", certified="changed"),
        rule(
            Step("kaigo-tennyu-nintei", _("Within 14 days after you move in.")),
            certified="moved",
        ),
        rule("kaigo-careplan", needs="services"),
        rule(
            Step("kaigo-fukushi-yogu", _("Buy from a designated shop and keep the receipt.")),
            needs="equipment",
        ),
        rule(
            Step("kaigo-jutaku-kaishu", _("Apply before the work starts.")),
            needs="alterations",
        ),
        rule("kaigo-kogaku", needs="costs"),
        rule("kaigo-gendogaku", needs="home"),
        rule("kaigo-hihokensha-saikofu", "kaigo-futan-wariai-saikofu", needs="card"),
    ),
)

BEREAVEMENT = Guide(
    slug="bereavement",
    title=_("When someone dies"),
    summary=_("Procedures after a death (おくやみ)."),
    icon="🕊️",
    questions=(
        Question(
            "insurance",
            _("Which health insurance did the person have?"),
            (
                Choice("nhi", _("National Health Insurance (国民健康保険)")),
                Choice("elderly", _("Medical care for people 75 and over (後期高齢者医療)")),
                Choice("employer", _("Insurance through an employer")),
                Choice("unknown", _("I do not know")),
            ),
        ),
        Question(
            "care", _("Did the person have long-term care insurance (aged 65 or over)?"), YES_NO
        ),
        Question(
            "allowance", _("Was the person receiving the child allowance (児童手当)?"), YES_NO
        ),
        Question(
            "head", _("Was the person the head of a household of two or more adults?"), YES_NO
        ),
        Question("dog", _("Did the person have a dog?"), YES_NO),
    ),
    rules=(
        rule(
            Step("shibo-todoke", _("Within 7 days. The funeral company often does this for you.")),
            advice=_(
                "You can ask the おくやみ corner to prepare the forms for you, so you do not have "
                "to write them. Please book a time."
            ),
        ),
        rule(
            "kokuho-dattai",
            Step("sosaihi", _("Within 2 years after the funeral.")),
            insurance="nhi",
        ),
        rule(Step("sosaihi", _("Within 2 years after the funeral.")), insurance="elderly"),
        rule(
            advice=_(
                "Return the person's care insurance card (介護保険被保険者証) to the Long-Term "
                "Care and Elderly Welfare Division."
            ),
            care="yes",
        ),
        rule("jido-teate-mishiharai", allowance="yes"),
        rule(
            advice=_(
                "If two or more adults remain in the household, a new head of household must be "
                "registered within 14 days (世帯主変更届). Ask at the Citizen Services Division."
            ),
            head="yes",
        ),
        rule(Step("inu-shibo", _("Within 30 days.")), dog="yes"),
        rule(Step("koseki-shomei", _("Needed for inheritance, pensions and bank accounts."))),
    ),
)

FROM_ABROAD = Guide(
    slug="from-abroad",
    title=_("Moving from abroad"),
    summary=_("Residence, insurance and help in your language."),
    icon="🌏",
    questions=(
        Question(
            "nationality",
            _("Which applies to you?"),
            (
                Choice("foreign", _("I am not a Japanese citizen")),
                Choice("japanese", _("I am a Japanese citizen coming back")),
            ),
        ),
        Question(
            "work_insurance",
            _("Will you have health insurance through an employer?"),
            (
                Choice("yes", _("Yes")),
                Choice("no", _("No")),
                Choice("unknown", _("I do not know yet")),
            ),
        ),
        Question(
            "household",
            _("Who moves with you?"),
            (
                Choice("children", _("Children under 18")),
                Choice("school", _("Children of school age (6 to 15)")),
                Choice("dog", _("A dog")),
            ),
            many=True,
            hint=_("Tick all that apply, or none."),
        ),
    ),
    rules=(
        rule(
            Step("tennyu", _("Within 14 days after you arrive.")),
            advice=_(
                "Bring your passport, and your residence card (在留カード) if you have one. "
                "Interpreting is available: ask at the counter."
            ),
        ),
        rule("tabunka-sodan", nationality="foreign"),
        rule(
            Step("kokuho-kanyu", _("Within 14 days after you arrive.")),
            work_insurance=("no", "unknown"),
        ),
        rule(
            Step("jido-teate-nintei", _("Within 15 days after you move in, or you lose months.")),
            "kodomo-iryohi",
            household="children",
        ),
        rule("shochugakko-nyugaku", household="school"),
        rule(Step("inu-toroku", _("Within 30 days after you arrive.")), household="dog"),
        rule("suido-kaishi-chushi", "katei-gomi"),
    ),
)


GUIDES: dict[str, Guide] = {
    g.slug: g for g in (MOVING, BIRTH, CHILDCARE, SCHOOL, CARE, BEREAVEMENT, FROM_ABROAD)
}


def get_guide(slug: str) -> Guide | None:
    return GUIDES.get(slug)


# Life events that tag procedures but have no questions to ask (yet).
OTHER_LIFE_EVENTS: dict[str, Text] = {"disaster": _("Preparing for disasters")}


def life_event_choices() -> list[tuple[str, Text]]:
    """(slug, title) of the life events, for the catalogue's filter."""
    return [(g.slug, g.title) for g in GUIDES.values()] + list(OTHER_LIFE_EVENTS.items())


def life_event_title(slug: str) -> Text:
    found = GUIDES.get(slug)
    return found.title if found else OTHER_LIFE_EVENTS.get(slug, slug)


# --- answers → checklist -----------------------------------------------------------------


def clean_answers(guide: Guide, raw: Mapping[str, Any]) -> Answers:
    """Only known questions and known answers: what is stored and what the rules read."""
    cleaned: Answers = {}
    for question in guide.questions:
        value = raw.get(question.key)
        if question.many:
            items = value if isinstance(value, list | tuple) else ([value] if value else [])
            given = {str(item) for item in items}
            # In the question's order, so the same answers are always stored the same way.
            cleaned[question.key] = [c.value for c in question.choices if c.value in given]
        elif isinstance(value, str) and value in question.values():
            cleaned[question.key] = value
    return cleaned


def steps(guide: Guide, answers: Mapping[str, Any]) -> list[Step]:
    """The steps of every rule that holds, in rule order, each procedure once."""
    found: dict[str, Step] = {}
    for item in guide.rules:
        if item.holds(answers):
            for step in item.steps:
                if step.procedure not in found or (step.note and not found[step.procedure].note):
                    found[step.procedure] = step
    return list(found.values())


def advice(guide: Guide, answers: Mapping[str, Any]) -> list[Text]:
    return [item.advice for item in guide.rules if item.advice and item.holds(answers)]


@dataclass
class Entry:
    """One line of a checklist: the procedure, its note, whether it can be done online."""

    procedure: Procedure
    note: Text = ""
    online: bool = False
    done: bool = False


@dataclass
class Checklist:
    guide: Guide
    answers: Answers
    entries: list[Entry]
    advice: list[Text]

    @property
    def online(self) -> list[Entry]:
        return [e for e in self.entries if e.online]

    @property
    def counter(self) -> list[Entry]:
        return [e for e in self.entries if not e.online]


def _entries(pairs: Sequence[tuple[str, Text, bool]]) -> list[Entry]:
    procedures = catalogue.by_slugs([slug for slug, _, _ in pairs])
    return [
        Entry(p, note, catalogue.can_apply_online(p), done)
        for slug, note, done in pairs
        if (p := procedures.get(slug)) is not None
    ]


def checklist(guide: Guide, answers: Mapping[str, Any]) -> Checklist:
    """The resident's checklist for these answers; unknown or inactive procedures are skipped."""
    cleaned = clean_answers(guide, answers)
    found = steps(guide, cleaned)
    return Checklist(
        guide,
        cleaned,
        _entries([(s.procedure, s.note, False) for s in found]),
        advice(guide, cleaned),
    )


# --- saved checklists --------------------------------------------------------------------


def saved_for(user: User) -> QuerySet[SavedChecklist]:
    return SavedChecklist.objects.filter(user=user)


def get_saved(user: User, pk: int) -> SavedChecklist | None:
    """The user's own saved checklist, or ``None`` (also when it belongs to someone else)."""
    if not user.is_authenticated:
        return None
    return SavedChecklist.objects.filter(pk=pk, user=user).first()


@transaction.atomic
def save(user: User, guide: Guide, answers: Mapping[str, Any]) -> SavedChecklist:
    """Keep the checklist on the resident's account.

    Saving the same answers again returns the list already saved (with its ticks), so a
    double click or a retried request does not make a second copy.
    """
    result = checklist(guide, answers)
    existing = (
        SavedChecklist.objects.select_for_update()
        .filter(user=user, life_event=guide.slug)
        .order_by("-updated_at")
    )
    for saved in existing:
        if saved.answers == result.answers:
            return saved
    return SavedChecklist.objects.create(
        user=user,
        life_event=guide.slug,
        answers=result.answers,
        items=[{"procedure": e.procedure.slug, "done": False} for e in result.entries],
    )


@transaction.atomic
def set_done(user: User, pk: int, done: Sequence[str]) -> SavedChecklist | None:
    """Mark exactly the procedures in ``done`` as done on the user's own checklist."""
    saved = SavedChecklist.objects.select_for_update().filter(pk=pk, user=user).first()
    if saved is None:
        return None
    ticked = set(done)
    saved.items = [
        {"procedure": item.get("procedure"), "done": item.get("procedure") in ticked}
        for item in saved.items
        if isinstance(item, dict)
    ]
    saved.save(update_fields=["items", "updated_at"])
    return saved


@transaction.atomic
def toggle(user: User, pk: int, slug: str, done: bool) -> SavedChecklist | None:
    """Mark one procedure done or not done on the user's own checklist."""
    saved = SavedChecklist.objects.select_for_update().filter(pk=pk, user=user).first()
    if saved is None:
        return None
    for item in saved.items:
        if isinstance(item, dict) and item.get("procedure") == slug:
            item["done"] = bool(done)
    saved.save(update_fields=["items", "updated_at"])
    return saved


@transaction.atomic
def delete(user: User, pk: int) -> bool:
    deleted, _ = SavedChecklist.objects.filter(pk=pk, user=user).delete()
    return bool(deleted)


def saved_entries(saved: SavedChecklist) -> Checklist | None:
    """A saved checklist with its procedures, as today's catalogue has them."""
    found = get_guide(saved.life_event)
    if found is None:
        return None
    notes = {s.procedure: s.note for s in steps(found, saved.answers)}
    pairs = [
        (
            str(item.get("procedure")),
            notes.get(str(item.get("procedure")), ""),
            bool(item.get("done")),
        )
        for item in saved.items
        if isinstance(item, dict)
    ]
    return Checklist(found, dict(saved.answers), _entries(pairs), advice(found, saved.answers))


def progress(saved: SavedChecklist) -> tuple[int, int]:
    """(done, total) of a saved checklist."""
    items = [i for i in saved.items if isinstance(i, dict)]
    return sum(bool(i.get("done")) for i in items), len(items)
