"""``cityhall seed_demo_inquiries``: about 25 demo inquiries of the demo residents, across
departments — some answered, some overdue, three in the triage queue, two by e-mail, one
from a chat hand-over. Idempotent: each demo inquiry is keyed by a fixed Message-ID."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from cityhall.inquiries.models import (
    ChatTurn,
    Conversation,
    Ticket,
    TicketChannel,
    TicketMessage,
    TicketStatus,
)
from cityhall.inquiries.services import tickets
from cityhall.people.models import Department, Role, StaffAssignment, User

DEMO = Path(__file__).resolve().parents[3] / "people" / "data" / "demo.json"

# (key, department or "" for triage, subject, question, state, language)
# state: new | answered | overdue | closed
TICKETS: list[tuple[str, str, str, str, str, str]] = [
    (
        "01",
        "kankyo-seisaku",
        "粗大ごみの出し方",
        "古いソファを捨てたいです。粗大ごみはどう申し込めばいいですか。",
        "answered",
        "ja",
    ),
    (
        "02",
        "kankyo-seisaku",
        "ごみ収集日について",
        "年末年始のごみ収集日を教えてください。",
        "new",
        "ja",
    ),
    (
        "03",
        "shimin-seikatsu",
        "住民票の写しをコンビニで",
        "マイナンバーカードで住民票をコンビニで取れますか。",
        "answered",
        "ja",
    ),
    (
        "04",
        "shimin-seikatsu",
        "転入届に必要なもの",
        "来月伊賀市に引っ越します。転入届に必要なものは何ですか。",
        "overdue",
        "ja",
    ),
    (
        "05",
        "zeimu",
        "住民税の納付方法",
        "住民税の納付書をなくしました。再発行できますか。",
        "overdue",
        "ja",
    ),
    (
        "06",
        "zeimu",
        "課税証明書が必要です",
        "保育園の申込みに課税証明書が必要です。どこで取れますか。",
        "answered",
        "ja",
    ),
    (
        "07",
        "hoken-nenkin",
        "国民健康保険の加入",
        "会社を辞めました。国民健康保険の手続きを教えてください。",
        "new",
        "ja",
    ),
    (
        "08",
        "hoken-nenkin",
        "年金の免除申請",
        "国民年金の保険料が払えません。免除の申請はできますか。",
        "closed",
        "ja",
    ),
    (
        "09",
        "kosodate-shien",
        "児童手当の申請",
        "子どもが生まれました。児童手当の申請方法を教えてください。",
        "answered",
        "ja",
    ),
    (
        "10",
        "kosodate-shien",
        "子育て相談をしたい",
        "育児のことで相談したいです。予約は必要ですか。",
        "overdue",
        "ja",
    ),
    (
        "11",
        "hoiku-yochien",
        "保育園の空き状況",
        "4月から保育園に入れたいのですが、空きはありますか。",
        "new",
        "ja",
    ),
    (
        "12",
        "kaigo-korei",
        "介護保険の申請",
        "母の介護が必要になりました。要介護認定の申請方法を教えてください。",
        "answered",
        "ja",
    ),
    (
        "13",
        "kaigo-korei",
        "高齢者の見守り",
        "一人暮らしの父が心配です。見守りのサービスはありますか。",
        "new",
        "ja",
    ),
    (
        "14",
        "tabunka-kyosei",
        "Interpreter for the city hall",
        "I would like to come to the city hall with an interpreter. Is that possible?",
        "answered",
        "en",
    ),
    (
        "15",
        "tabunka-kyosei",
        "Tradução de documentos",
        "Preciso de ajuda para entender uma carta da prefeitura em japonês.",
        "new",
        "pt-br",
    ),
    (
        "16",
        "bosai",
        "避難所の場所",
        "近くの避難所はどこですか。ハザードマップはありますか。",
        "answered",
        "ja",
    ),
    (
        "17",
        "bosai",
        "防災無線が聞こえない",
        "防災無線の放送が自宅で聞き取れません。",
        "overdue",
        "ja",
    ),
    (
        "18",
        "doro-kasen",
        "道路の穴",
        "上野丸之内の市道に大きな穴があります。危ないです。",
        "new",
        "ja",
    ),
    (
        "19",
        "suido-komu",
        "水道料金が高い",
        "今月の水道料金がいつもより高いです。漏水でしょうか。",
        "answered",
        "ja",
    ),
    (
        "20",
        "kenko-suishin",
        "予防接種の予約",
        "子どもの予防接種の予約はどこでできますか。",
        "new",
        "ja",
    ),
    ("21", "", "市の施設について", "市の施設の利用時間を知りたいです。", "new", "ja"),
    ("22", "", "いろいろ聞きたいです", "困っていることがあるので相談したいです。", "new", "ja"),
    (
        "23",
        "",
        "Question about my letter",
        "I got a letter and I do not understand what it is about.",
        "new",
        "en",
    ),
]
EMAIL_TICKETS = [
    (
        "e1",
        "gesuido",
        "浄化槽の補助金について",
        "浄化槽の設置に補助金はありますか。",
        "山田 次郎",
        "yamada.jiro@example.jp",
    ),
    (
        "e2",
        "gakko-kyoiku",
        "Transfer to an elementary school",
        "We are moving to Iga in April. How do we enrol our son in an elementary school?",
        "Maria Silva",
        "maria.silva@example.jp",
    ),
]
ANSWER = {
    "ja": (
        "お問い合わせありがとうございます。担当課からご案内します。"
        "詳しくは市のホームページをご覧いただくか、担当課までお電話ください。"
    ),
    "en": (
        "Thank you for your question. Please see the city's website for the details, "
        "or call the department in charge."
    ),
    "pt-br": (
        "Obrigado pela sua pergunta. Veja os detalhes no site da prefeitura "
        "ou ligue para o departamento responsável."
    ),
}


def _key(key: str) -> str:
    return f"<demo-inquiry-{key}@demo.invalid>"


def _staff_of(department: Department | None) -> User | None:
    if department is None:
        return None
    row = (
        StaffAssignment.objects.filter(department=department, role__in=[Role.CLERK, Role.MANAGER])
        .select_related("user")
        .first()
    )
    return row.user if row else None


def _shape(ticket: Ticket, department: Department | None, state: str, number: int) -> None:
    """Give the demo ticket its department, age and state (demo data only: no notifications)."""
    now = timezone.now()
    age = {"overdue": 9, "answered": 4, "closed": 12}.get(state, number % 3)
    created = now - dt.timedelta(days=age, hours=number)
    fields: dict[str, Any] = {
        "department": department,
        "routed_by": Ticket.RoutedBy.RULE if department else Ticket.RoutedBy.TRIAGE,
        "created_at": created,
        "due_at": tickets.due_at_for(created),
    }
    staff = _staff_of(department)
    if state in ("answered", "closed"):
        answered = created + dt.timedelta(days=1)
        TicketMessage.objects.create(
            ticket=ticket,
            kind=TicketMessage.Kind.STAFF,
            author=staff,
            body=ANSWER.get(ticket.language, ANSWER["ja"]),
            created_at=answered,
        )
        fields.update(
            status=TicketStatus.CLOSED if state == "closed" else TicketStatus.ANSWERED,
            first_answer_at=answered,
            assignee=staff,
            closed_at=answered if state == "closed" else None,
        )
    if department is None:
        fields["confidence"] = 0.3
    Ticket.objects.filter(pk=ticket.pk).update(**fields)
    ticket.messages.filter(kind=TicketMessage.Kind.RESIDENT).update(created_at=created)


def seed_demo() -> int:
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    emails = [row["email"] for row in data["residents"]]
    residents = list(User.objects.filter(email__in=emails, is_staff=False).order_by("email"))
    departments = {d.code: d for d in Department.objects.all()}
    made = 0
    for number, (key, code, subject, body, state, language) in enumerate(TICKETS):
        if TicketMessage.objects.filter(email_message_id=_key(key)).exists():
            continue
        resident = residents[number % len(residents)] if residents else None
        with transaction.atomic():
            ticket = tickets.create_ticket(
                subject=subject,
                body=body,
                channel=TicketChannel.WEB,
                language=language,
                resident=resident,
                name="" if resident else "デモ 利用者",
                email="" if resident else "demo@example.jp",
                source_message_id=_key(key),
            )
            _shape(ticket, departments.get(code) if code else None, state, number)
        made += 1
    for number, (key, code, subject, body, name, email) in enumerate(EMAIL_TICKETS):
        if TicketMessage.objects.filter(email_message_id=_key(key)).exists():
            continue
        with transaction.atomic():
            ticket = tickets.create_ticket(
                subject=subject,
                body=body,
                channel=TicketChannel.EMAIL,
                language="ja" if key == "e1" else "en",
                name=name,
                email=email,
                source_message_id=_key(key),
            )
            _shape(ticket, departments.get(code), "new", number)
        made += 1
    if not TicketMessage.objects.filter(email_message_id=_key("chat")).exists():
        resident = residents[0] if residents else None
        with transaction.atomic():
            conversation = Conversation.objects.create(user=resident, language="ja")
            turns = [
                (ChatTurn.Role.RESIDENT, "児童手当の振込日はいつですか"),
                (ChatTurn.Role.ASSISTANT, "児童手当は偶数月に支給されます。"),
                (ChatTurn.Role.RESIDENT, "今月振り込まれていません。担当の人と話したいです。"),
            ]
            for role, text in turns:
                ChatTurn.objects.create(conversation=conversation, role=role, text=text)
            ticket = tickets.create_ticket(
                subject="児童手当が振り込まれていない",
                body="今月の児童手当が振り込まれていません。確認をお願いします。",
                channel=TicketChannel.CHAT,
                language="ja",
                resident=resident,
                name="" if resident else "デモ 利用者",
                email="" if resident else "demo@example.jp",
                conversation=conversation,
                source_message_id=_key("chat"),
            )
            _shape(ticket, departments.get("kosodate-shien"), "new", 0)
        made += 1
    return made


class Command(BaseCommand):
    help = "Create about 25 demo inquiries of the demo residents (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"demo inquiries: {seed_demo()} new")
