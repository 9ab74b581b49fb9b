"""Demo charges and payments, so that `cityhall demo` shows "my payments" and a staff list
with content.

Only for demonstrations (refused when ``CITYHALL_ENV=production``): every payer is
fictional. For fiscal year 2026:

- 伊賀 花子 (resident@example.jp, payer 000000100001): 個人住民税 in 4 instalments (the
  first paid at a convenience store), 軽自動車税 (paid with a payment app), three water
  bills (the first paid by direct debit), and 固定資産税 whose third instalment is over
  300,000 yen (its slip has no store barcode, only the eL-QR);
- 島ヶ原 太郎 (elder@example.jp): 介護保険料 and 後期高齢者医療保険料, 8 instalments each,
  the past ones paid;
- Maria Souza (maria@example.jp): 保育料 monthly and 個人住民税;
- Nguyễn Thị Lan, 王 伟, Carlos Quispe: one charge each;
- 50 other fictional payers without an account, so the staff list is not empty;
- the fee charge of each demo application whose fee is due (procedures' demo).

Each charge is created once (looked up by kind, year and number); payments are recorded
only for instalments still open, so running it again adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cityhall.payments.models import Channel, Charge, Installment, PayerAccount, PaymentNotice
from cityhall.payments.services import charges, kinds
from cityhall.people.models import User

YEAR = 2026


@dataclass(frozen=True)
class Payer:
    key: str
    name: str
    kana: str
    email: str = ""
    address: str = "三重県伊賀市（架空の住所）"
    postal_code: str = "518-0000"


@dataclass(frozen=True)
class DemoCharge:
    kind: str
    reference: str
    payer: Payer
    amounts: tuple[int, ...]
    paid: tuple[tuple[int, str], ...] = ()  # (period, channel)
    due_dates: tuple[dt.date, ...] = ()  # empty: the kind's ordinary schedule


HANAKO = Payer("000000100001", "伊賀 花子", "イガ ハナコ", "resident@example.jp")
TARO = Payer("000000100002", "島ヶ原 太郎", "シマガハラ タロウ", "elder@example.jp")
MARIA = Payer("000000100003", "SOUZA MARIA", "ソウザ マリア", "maria@example.jp")
LAN = Payer("000000100004", "NGUYEN THI LAN", "グエン ティ ラン", "lan@example.jp")
WEI = Payer("000000100005", "王 伟", "ワン ウェイ", "wei@example.jp")
CARLOS = Payer("000000100006", "QUISPE CARLOS", "キスペ カルロス", "carlos@example.jp")


def _demo_charges() -> list[DemoCharge]:
    h, t, m, ln, w, c = HANAKO, TARO, MARIA, LAN, WEI, CARLOS
    eight = (8_200, 8_100, 8_100, 8_100, 8_100, 8_100, 8_100, 8_100)
    return [
        DemoCharge(
            "kojin-juminzei",
            "2026000101",
            amounts=(29_800, 29_700, 29_700, 29_700),
            paid=((1, Channel.CVS),),
            payer=h,
        ),
        DemoCharge(
            "keijidoshazei", "2026000102", amounts=(10_800,), paid=((1, Channel.CVS),), payer=h
        ),
        DemoCharge(
            "kotei-shisanzei",
            "2026000103",
            amounts=(98_000, 98_000, 315_400, 98_000),
            paid=((1, Channel.ELQR), (2, Channel.ELQR)),
            payer=h,
        ),
        DemoCharge(
            "suido",
            "2026040101",
            amounts=(6_490,),
            due_dates=(dt.date(2026, 7, 31),),
            paid=((1, Channel.BANK_DEBIT),),
            payer=h,
        ),
        DemoCharge(
            "suido", "2026040102", amounts=(7_150,), due_dates=(dt.date(2026, 9, 30),), payer=h
        ),
        DemoCharge(
            "suido", "2026040103", amounts=(6_820,), due_dates=(dt.date(2026, 11, 30),), payer=h
        ),
        DemoCharge(
            "kaigo-hokenryo",
            "2026000201",
            amounts=eight,
            paid=tuple((p, Channel.BANK_DEBIT) for p in range(1, 5)),
            payer=t,
        ),
        DemoCharge(
            "koki-koreisha",
            "2026000202",
            amounts=(5_300,) * 8,
            paid=tuple((p, Channel.COUNTER) for p in range(1, 5)),
            payer=t,
        ),
        DemoCharge(
            "hoikuryo",
            "2026000301",
            amounts=(21_000,) * 12,
            paid=tuple((p, Channel.CVS) for p in range(1, 7)),
            payer=m,
        ),
        DemoCharge(
            "kojin-juminzei",
            "2026000302",
            amounts=(18_000, 17_900, 17_900, 17_900),
            paid=((1, Channel.CVS), (2, Channel.CVS)),
            payer=m,
        ),
        DemoCharge("keijidoshazei", "2026000401", amounts=(2_000,), payer=ln),
        DemoCharge(
            "kojin-juminzei",
            "2026000501",
            amounts=(41_000, 40_900, 40_900, 40_900),
            paid=((1, Channel.ELQR), (2, Channel.ELQR), (3, Channel.ELQR)),
            payer=w,
        ),
        DemoCharge(
            "kokuho",
            "2026000601",
            amounts=(12_600,) + (12_500,) * 7,
            paid=tuple((p, Channel.CVS) for p in range(1, 4)),
            payer=c,
        ),
    ]


FAMILY = (
    ("上野", "ウエノ"),
    ("柘植", "ツゲ"),
    ("青山", "アオヤマ"),
    ("阿山", "アヤマ"),
    ("大山田", "オオヤマダ"),
    ("島ヶ原", "シマガハラ"),
    ("服部", "ハットリ"),
    ("百地", "モモチ"),
    ("藤林", "フジバヤシ"),
    ("中村", "ナカムラ"),
    ("田中", "タナカ"),
    ("山本", "ヤマモト"),
)
GIVEN = (
    ("一郎", "イチロウ"),
    ("花子", "ハナコ"),
    ("健", "ケン"),
    ("さくら", "サクラ"),
    ("大輔", "ダイスケ"),
    ("美咲", "ミサキ"),
    ("誠", "マコト"),
    ("恵", "メグミ"),
    ("翔", "ショウ"),
    ("陽菜", "ヒナ"),
)
OTHER_KINDS = (
    ("kojin-juminzei", 4, (12_000, 90_000)),
    ("kotei-shisanzei", 4, (8_000, 120_000)),
    ("keijidoshazei", 1, (2_000, 10_800)),
    ("kokuho", 8, (3_000, 30_000)),
    ("kaigo-hokenryo", 8, (2_000, 9_000)),
    ("suido", 1, (2_500, 12_000)),
    ("shiei-jutaku", 12, (8_000, 40_000)),
)


def _other_charges(count: int = 50) -> list[DemoCharge]:
    rng = random.Random(YEAR)
    out = []
    for n in range(1, count + 1):
        family, family_kana = rng.choice(FAMILY)
        given, given_kana = rng.choice(GIVEN)
        kind, instalments, (low, high) = OTHER_KINDS[n % len(OTHER_KINDS)]
        amount = rng.randrange(low, high, 100)
        periods_paid = rng.randrange(0, max(1, instalments // 2) + 1)
        out.append(
            DemoCharge(
                kind,
                f"2026{900000 + n:06d}",
                Payer(f"{200000 + n:012d}", f"{family} {given}", f"{family_kana} {given_kana}"),
                amounts=(amount,) * instalments,
                due_dates=(dt.date(2026, 8, 31),) if kind == "suido" else (),
                paid=tuple((p, Channel.CVS) for p in range(1, periods_paid + 1)),
            )
        )
    return out


def _installments(item: DemoCharge) -> list[tuple[int, int, dt.date]]:
    kind = kinds.get_kind(item.kind)
    if item.due_dates:
        dates = list(item.due_dates)
        periods = list(range(1, len(item.amounts) + 1))
    else:
        plan = kinds.schedule(kind, YEAR)
        dates = [due for _p, due in plan]
        periods = [p for p, _d in plan]
    return [
        (periods[i], amount, dates[i]) for i, amount in enumerate(item.amounts) if i < len(dates)
    ]


def _pay(charge: Charge, paid: tuple[tuple[int, str], ...]) -> int:
    from cityhall.payments.services import ledger

    count = 0
    for period, channel in paid:
        installment = charge.installment_set.filter(period=period).first()
        if installment is None or installment.status != Installment.Status.OPEN:
            continue
        notice = PaymentNotice.objects.filter(
            installment=installment, status=PaymentNotice.Status.ACTIVE
        ).first()
        if notice is None:
            continue
        paid_on = min(installment.due_date - dt.timedelta(days=3), timezone.localdate())
        ledger.record_payment(
            notice=notice,
            amount_yen=notice.amount_yen,
            channel=channel,
            state="final",
            paid_on=paid_on,
            booked_on=paid_on + dt.timedelta(days=7),
            store_name="セブン-イレブン" if channel == Channel.CVS else "",
        )
        count += 1
    return count


def seed_demo_payments() -> dict[str, int]:
    """Create the demo charges, links and payments that are missing; return counts."""
    if settings.PRODUCTION:
        raise RuntimeError("demo payments are never created when CITYHALL_ENV=production")
    kinds.seed_payment_kinds()
    actor = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    residents = {u.email: u for u in User.objects.filter(email__endswith="@example.jp")}
    counts = {"charges": 0, "payments": 0, "links": 0, "fees": 0}
    with transaction.atomic():
        for item in [*_demo_charges(), *_other_charges()]:
            payer = item.payer
            user = residents.get(payer.email) if payer.email else None
            if user is not None and not PayerAccount.objects.filter(payer_key=payer.key).exists():
                PayerAccount.objects.create(payer_key=payer.key, user=user, linked_by=actor)
                counts["links"] += 1
            kind = kinds.get_kind(item.kind)
            charge = Charge.objects.filter(
                kind=kind, fiscal_year=YEAR, reference=item.reference
            ).first()
            if charge is None:
                charge = charges.create_charge(
                    kind=kind,
                    fiscal_year=YEAR,
                    tax_year=YEAR,
                    reference=item.reference,
                    payer={
                        "key": payer.key,
                        "name": payer.name,
                        "kana": payer.kana,
                        "postal_code": payer.postal_code,
                        "address": payer.address,
                    },
                    installments=_installments(item),
                    source=Charge.Source.IMPORT,
                    resident=user,
                )
                counts["charges"] += 1
            counts["payments"] += _pay(charge, item.paid)
        counts["fees"] = _demo_fees()
    return counts


def _demo_fees() -> int:
    """The fee charge of each demo application whose fee is still due."""
    from cityhall.payments.services import fees
    from cityhall.procedures.models import Application

    made = 0
    for application in Application.objects.filter(
        applicant__email__endswith="@example.jp",
        fee_status="due",
        procedure__fee_hook="payments.fee",
        charge__isnull=True,
    ).select_related("applicant", "procedure"):
        fees.charge_for_application(application)
        made += 1
    return made
