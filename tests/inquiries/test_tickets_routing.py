"""Routing of new inquiries: rules first, then the classifier, else the triage queue; and
the classifier's accuracy on held-out inquiries it never saw."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from cityhall.inquiries.models import FaqEntry, FaqText, RoutingRule, Ticket, TicketMessage
from cityhall.inquiries.search import analysis
from cityhall.inquiries.search.classifier import NaiveBayes, accuracy
from cityhall.inquiries.services import routing, tickets
from cityhall.people.models import Department

pytestmark = pytest.mark.django_db

# Past inquiries, already routed by staff (the training set).
TRAINING: dict[str, list[str]] = {
    "kankyo-seisaku": [
        "燃えるごみの収集日を知りたい",
        "資源ごみの分別方法がわかりません",
        "ペットボトルは何ごみですか",
        "ごみ袋はどこで売っていますか",
        "カラスがごみを散らかして困っています",
        "How do I sort garbage and recycling?",
    ],
    "zeimu": [
        "住民税の金額が去年より高い理由",
        "固定資産税の納税通知書が届かない",
        "軽自動車税の減免について",
        "所得の申告をしていないと税金はどうなりますか",
        "課税証明書を取りたい",
        "How is resident tax calculated?",
    ],
    "kosodate-shien": [
        "児童手当の申請をしたい",
        "子ども医療費の受給者証をなくしました",
        "ひとり親家庭の手当について",
        "子育て支援センターの場所",
        "出産したので手当の手続きをしたい",
        "Child allowance application after birth",
    ],
    "hoken-nenkin": [
        "国民健康保険に加入したい",
        "国保の保険証が届きません",
        "国民年金の保険料の免除",
        "退職後の健康保険の切り替え",
        "年金の受給手続きについて",
        "National health insurance after leaving my job",
    ],
    "bosai": [
        "避難所の場所を教えてください",
        "ハザードマップがほしい",
        "防災無線が聞こえにくい",
        "地震のときの備蓄について",
        "台風で避難するときはどうすればいいですか",
        "Where is the evacuation shelter?",
    ],
}
# Held-out inquiries (never trained on): 40, eight per department.
HELD_OUT: list[tuple[str, str]] = [
    ("不燃ごみは何曜日に出せますか", "kankyo-seisaku"),
    ("古紙の分別について教えて", "kankyo-seisaku"),
    ("ごみ収集所が汚れています", "kankyo-seisaku"),
    ("缶とびんのごみの出し方", "kankyo-seisaku"),
    ("引っ越しで出たごみの処分", "kankyo-seisaku"),
    ("ごみの分別アプリはありますか", "kankyo-seisaku"),
    ("プラスチックごみの日", "kankyo-seisaku"),
    ("When is garbage collected in my area?", "kankyo-seisaku"),
    ("住民税の納付書について", "zeimu"),
    ("固定資産税の評価額を知りたい", "zeimu"),
    ("税金の申告の期限はいつですか", "zeimu"),
    ("軽自動車税の廃車手続き", "zeimu"),
    ("住民税が高すぎる", "zeimu"),
    ("課税証明書は郵送で取れますか", "zeimu"),
    ("固定資産税の支払い方法", "zeimu"),
    ("Resident tax notice question", "zeimu"),
    ("児童手当の振込日はいつですか", "kosodate-shien"),
    ("子ども医療費の助成について", "kosodate-shien"),
    ("ひとり親の支援制度", "kosodate-shien"),
    ("出産の手当について知りたい", "kosodate-shien"),
    ("子育て支援センターの利用時間", "kosodate-shien"),
    ("児童手当の金額", "kosodate-shien"),
    ("子どもの医療費の受給者証", "kosodate-shien"),
    ("How to apply for the child allowance", "kosodate-shien"),
    ("国民健康保険の保険料が高い", "hoken-nenkin"),
    ("国民年金の手続き", "hoken-nenkin"),
    ("健康保険証の再発行", "hoken-nenkin"),
    ("年金の保険料を払えない", "hoken-nenkin"),
    ("国保をやめる手続き", "hoken-nenkin"),
    ("退職したので年金の切り替え", "hoken-nenkin"),
    ("国民健康保険の加入手続き", "hoken-nenkin"),
    ("Pension and health insurance for new residents", "hoken-nenkin"),
    ("近くの避難所はどこですか", "bosai"),
    ("ハザードマップの見方", "bosai"),
    ("防災無線の内容を知りたい", "bosai"),
    ("地震の備えについて", "bosai"),
    ("台風の避難情報", "bosai"),
    ("避難のときの持ち物", "bosai"),
    ("災害のときの避難所", "bosai"),
    ("Evacuation shelter for foreigners", "bosai"),
]


def _departments() -> dict[str, Department]:
    return {
        code: Department.objects.get_or_create(code=code, defaults={"name": code})[0]
        for code in [*TRAINING, "koho-kocho"]
    }


def _routed(department: Department, subject: str, body: str = "") -> Ticket:
    ticket = Ticket.objects.create(
        reference=f"Q-2025-{Ticket.objects.count() + 1:06d}",
        subject=subject,
        department=department,
        routed_by=Ticket.RoutedBy.STAFF,
    )
    TicketMessage.objects.create(ticket=ticket, kind=TicketMessage.Kind.RESIDENT, body=body)
    return ticket


def _train(departments: dict[str, Department]) -> None:
    for code, subjects in TRAINING.items():
        for subject in subjects:
            _routed(departments[code], subject, subject)
    routing.invalidate()


def test_a_rule_routes_with_full_confidence() -> None:
    departments = _departments()
    RoutingRule.objects.create(words="粗大ごみ, 粗大ゴミ", department=departments["kankyo-seisaku"])
    RoutingRule.objects.create(
        words="ごみ", department=departments["bosai"], priority=200
    )  # tried later
    result = routing.route("ソファを捨てたい", "粗大ｺﾞﾐの申込み方法は？")  # NFKC: ｺﾞﾐ → ゴミ
    assert result.department == departments["kankyo-seisaku"]
    assert result.routed_by == Ticket.RoutedBy.RULE
    assert result.confidence == 1.0


def test_rule_words_are_folded_nfkc_and_lowercase() -> None:
    departments = _departments()
    RoutingRule.objects.create(words="Hazard Map", department=departments["bosai"])
    assert routing.route("ＨＡＺＡＲＤ　ＭＡＰ please", "").department == departments["bosai"]
    RoutingRule.objects.filter(words="Hazard Map").update(active=False)
    assert routing.route("ＨＡＺＡＲＤ　ＭＡＰ please", "").routed_by != Ticket.RoutedBy.RULE


def test_classifier_routes_when_confident(settings: Any) -> None:
    departments = _departments()
    _train(departments)
    settings.INQUIRIES_ROUTING_THRESHOLD = 0.3
    result = routing.route("児童手当について", "児童手当の申請方法を知りたい")
    assert result.routed_by == Ticket.RoutedBy.CLASSIFIER
    assert result.department == departments["kosodate-shien"]
    assert result.confidence is not None and result.confidence >= 0.3


def test_below_the_threshold_goes_to_triage_with_the_guess(settings: Any) -> None:
    departments = _departments()
    _train(departments)
    settings.INQUIRIES_ROUTING_THRESHOLD = 0.999
    ticket = tickets.create_ticket(
        subject="児童手当について", body="児童手当の申請方法を知りたい", channel="web"
    )
    assert ticket.department is None
    assert ticket.routed_by == Ticket.RoutedBy.TRIAGE
    assert ticket.confidence is not None and 0 < ticket.confidence < 0.999
    assert ticket.suggested_department == departments["kosodate-shien"]
    event = ticket.messages.get(kind=TicketMessage.Kind.EVENT).body
    assert "子育て支援課" in event or "kosodate-shien" in event
    assert f"{round(ticket.confidence * 100)} %" in event
    assert not event.startswith("route:")  # readable, not a machine format


def test_routed_tickets_carry_no_suggestion(settings: Any) -> None:
    departments = _departments()
    _train(departments)
    settings.INQUIRIES_ROUTING_THRESHOLD = 0.3
    ticket = tickets.create_ticket(
        subject="児童手当について", body="児童手当の申請方法を知りたい", channel="web"
    )
    assert ticket.department == departments["kosodate-shien"]
    assert ticket.suggested_department is None


def test_faq_entries_bootstrap_the_classifier(settings: Any) -> None:
    departments = _departments()
    settings.INQUIRIES_ROUTING_THRESHOLD = 0.3
    entry = FaqEntry.objects.create(key="bosai-001", department=departments["bosai"])
    FaqText.objects.create(
        entry=entry,
        language="ja",
        question="避難所はどこですか",
        answer="避難所の一覧はハザードマップにあります。",
    )
    other = FaqEntry.objects.create(key="zei-001", department=departments["zeimu"])
    FaqText.objects.create(
        entry=other,
        language="ja",
        question="住民税の納付方法",
        answer="納付書または口座振替で納めます。",
    )
    routing.invalidate()
    result = routing.route("避難所", "近くの避難所を知りたい")
    assert result.department == departments["bosai"]
    assert result.routed_by == Ticket.RoutedBy.CLASSIFIER


def test_a_failing_classifier_sends_to_triage(monkeypatch: Any) -> None:
    departments = _departments()
    _train(departments)

    def broken(text: str) -> list[str]:
        raise RuntimeError("analyser down")

    monkeypatch.setattr(analysis, "terms", broken)
    routing.invalidate()
    ticket = tickets.create_ticket(subject="児童手当", body="申請したい", channel="web")
    assert ticket.department is None and ticket.routed_by == Ticket.RoutedBy.TRIAGE
    assert ticket.messages.filter(kind="resident").count() == 1


def test_over_the_time_budget_goes_to_triage(monkeypatch: Any) -> None:
    departments = _departments()
    _train(departments)
    monkeypatch.setattr(routing, "TIME_BUDGET", -1.0)  # already past the deadline
    result = routing.route("児童手当", "申請したい")
    assert result.routed_by == Ticket.RoutedBy.TRIAGE and result.department is None


def test_the_model_is_rebuilt_when_tickets_change() -> None:
    departments = _departments()
    _train(departments)
    first = routing.model()
    assert routing.model() is first  # cached
    _routed(departments["bosai"], "土砂災害の警戒区域", "土砂災害")
    assert routing.model() is not first


def test_held_out_accuracy_beats_the_majority_class() -> None:
    departments = _departments()
    _train(departments)
    model = routing.model()
    held_out = [(analysis.terms(text), label) for text, label in HELD_OUT]
    majority = Counter(label for _t, label in HELD_OUT).most_common(1)[0][1] / len(HELD_OUT)
    score = accuracy(model, held_out)
    assert score >= majority + 0.3, (score, majority)


def test_pure_classifier_probabilities() -> None:
    model = NaiveBayes().fit([(["a", "b"], "x"), (["c", "d"], "y"), (["a"], "x")])
    prediction = model.predict(["a"])
    assert prediction is not None and prediction.label == "x"
    assert abs(sum(p for _l, p in prediction.ranking) - 1.0) < 1e-9
    unknown = model.predict(["zzz"])
    assert unknown is not None and unknown.confidence <= 0.5
    assert NaiveBayes().predict(["a"]) is None
