"""The ledger (収納簿): money received, and what it does to installments and slips.

One rule, in one place, decides an installment's paid state from its :class:`Payment`
rows (:func:`refresh_installments`, set-based, used by the per-row API below and by the
bulk reconciliation):

- ``paid_yen`` = the sum of its live payments (``PROVISIONAL`` + ``FINAL``);
- ``status`` = ``PAID`` when the ``FINAL`` payments cover the amount, ``PROVISIONAL``
  when the live ones do (速報: reminders stop), else ``OPEN`` (``CANCELLED`` is kept);
- ``paid_on`` = the latest 収納日 of a live payment, ``paid_channel`` its channel.

Its slips follow: while the installment is paid or provisional every ``ACTIVE`` slip of
it becomes ``PAID`` (nothing more to pay on it — a reissued slip included); when it is
open again (a reversal), a ``PAID`` slip goes back to ``ACTIVE`` if it is the latest,
``SUPERSEDED`` if a reissue replaced it. ``CANCELLED`` slips never change here.

``signals.installment_paid`` is sent (inside the transaction) for each installment that
moves from open to provisional or paid.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import F

from cityhall.payments import signals
from cityhall.payments.models import (
    Charge,
    Installment,
    OnlinePayment,
    Payment,
    PaymentNotice,
    Refund,
)

INSTALLMENT = Installment._meta.db_table
CHARGE = Charge._meta.db_table
# A charge is paid when none of its instalments is open or only provisionally paid
# (cancelled ones do not count); ``{c}`` is the charge table's name or alias.
CHARGE_STATUS = (
    "CASE WHEN EXISTS (SELECT 1 FROM "  # noqa: S608  (table names from the models)
    + INSTALLMENT
    + " x WHERE x.charge_id = {c}.id AND x.status IN ('open', 'provisional'))"
    " THEN 'open' ELSE 'paid' END"
)
PAYMENT = Payment._meta.db_table
NOTICE = PaymentNotice._meta.db_table
LIVE = (Payment.State.PROVISIONAL.value, Payment.State.FINAL.value)
PAID_STATES = (Installment.Status.PAID.value, Installment.Status.PROVISIONAL.value)
SQLITE_CHUNK = 500


class LedgerError(ValueError):
    """A ledger change that cannot be made (the message is for the clerk)."""


def record_payment(
    *,
    notice: PaymentNotice,
    amount_yen: int,
    channel: str,
    state: str,
    paid_on: dt.date,
    booked_on: dt.date | None = None,
    online_payment: OnlinePayment | None = None,
    store_code: str = "",
    store_name: str = "",
    source_file: Any = None,
) -> Payment:
    """Book one payment against ``notice``'s installment (online, counter, one-off).

    ``state`` is ``provisional`` or ``final``; a final payment without ``booked_on`` is
    booked on ``paid_on``. The installment, its slips and the signal follow the rules of
    this module. Audit is the caller's (the online and counter flows write their own).
    """
    if isinstance(amount_yen, bool) or not isinstance(amount_yen, int) or amount_yen <= 0:
        raise LedgerError("amount_yen must be a positive integer")
    if state not in LIVE:
        raise LedgerError("state must be provisional or final")
    if state == Payment.State.FINAL and booked_on is None:
        booked_on = paid_on
    with transaction.atomic():
        installment = Installment.objects.select_for_update().get(pk=notice.installment_id)
        payment = Payment.objects.create(
            installment=installment,
            notice=notice,
            channel=channel,
            state=state,
            amount_yen=amount_yen,
            paid_on=paid_on,
            booked_on=booked_on,
            store_code=store_code[:10],
            store_name=store_name[:40],
            source_file=source_file,
            online_payment=online_payment,
        )
        send_paid_signals(refresh_installments([installment.pk]))
    return payment


def finalize(payment: Payment, *, booked_on: dt.date) -> Payment:
    """A provisional payment becomes final (確報), booked on ``booked_on`` (振込日)."""
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.state != Payment.State.PROVISIONAL:
            raise LedgerError("only a provisional payment can become final")
        locked.state = Payment.State.FINAL
        locked.booked_on = booked_on
        locked.save(update_fields=["state", "booked_on"])
        if locked.installment_id:
            send_paid_signals(refresh_installments([locked.installment_id]))
    return locked


def reverse(payment: Payment) -> Payment:
    """A payment that did not happen after all (速報取消, a failed capture)."""
    return _end(payment, Payment.State.REVERSED)


def mark_refunded(payment: Payment, amount_yen: int) -> Payment:
    """Money given back on ``payment``. All of it: the payment becomes ``REFUNDED`` (the
    installment is open again). Part of it: a ``REFUNDED`` payment of the part is split
    off and the rest stays booked, and the installment (and its charge) is reduced by
    the same amount: a part refund means the city decided the payer owed less (one
    certificate of three could not be issued), so the installment stays paid."""
    if isinstance(amount_yen, bool) or not isinstance(amount_yen, int) or amount_yen <= 0:
        raise LedgerError("amount_yen must be a positive integer")
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.state not in LIVE:
            raise LedgerError("only a booked payment can be refunded")
        if amount_yen > locked.amount_yen:
            raise LedgerError("the refund is larger than the payment")
        if amount_yen == locked.amount_yen:
            return _end(locked, Payment.State.REFUNDED)
        locked.amount_yen -= amount_yen
        locked.save(update_fields=["amount_yen"])
        Payment.objects.create(
            installment_id=locked.installment_id,
            notice_id=locked.notice_id,
            channel=locked.channel,
            state=Payment.State.REFUNDED,
            amount_yen=amount_yen,
            paid_on=locked.paid_on,
            booked_on=locked.booked_on,
            store_code=locked.store_code,
            store_name=locked.store_name,
            source_file_id=locked.source_file_id,
        )
        if locked.installment_id:
            installment = Installment.objects.select_for_update().get(pk=locked.installment_id)
            reduced = min(amount_yen, installment.amount_yen)
            Installment.objects.filter(pk=installment.pk).update(
                amount_yen=F("amount_yen") - reduced
            )
            Charge.objects.filter(pk=installment.charge_id).update(
                total_yen=F("total_yen") - reduced
            )
            refresh_installments([locked.installment_id])
    return locked


def _end(payment: Payment, state: str) -> Payment:
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.state not in LIVE:
            raise LedgerError("this payment is already reversed or refunded")
        locked.state = state
        locked.save(update_fields=["state"])
        if locked.installment_id:
            refresh_installments([locked.installment_id])
    return locked


def refund_request(*, line: Any, amount_yen: int, reason: str, actor: Any, key: str) -> Refund:
    """A bank-transfer refund waiting to be paid out (a slip paid twice)."""
    refund, _ = Refund.objects.get_or_create(
        idempotency_key=key,
        defaults={
            "line": line,
            "amount_yen": amount_yen,
            "reason": reason[:300],
            "state": Refund.State.REQUESTED,
            "requested_by": actor,
        },
    )
    return refund


def send_paid_signals(installment_ids: Iterable[int]) -> None:
    ids = list(installment_ids)
    if not ids:
        return
    for installment in Installment.objects.filter(pk__in=ids).select_related("charge"):
        signals.installment_paid.send(sender=Installment, installment=installment)


# --- the one rule, set-based ------------------------------------------------------------------


def refresh_installments(ids: Iterable[int]) -> list[int]:
    """Recompute installments ``ids`` (and their slips) from their payments.

    Returns the ids that moved from ``open`` to ``provisional`` or ``paid``. Runs as a few
    statements whatever the number of ids (a temporary table of them, joined).
    """
    unique = sorted(set(ids))
    if not unique:
        return []
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            return _refresh_postgres(cursor, unique)
        return _refresh_sqlite(cursor, unique)


def _refresh_postgres(cursor: Any, ids: Sequence[int]) -> list[int]:
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS ledger_refresh (id bigint PRIMARY KEY) ON COMMIT DROP"
    )
    cursor.execute("TRUNCATE ledger_refresh")
    with cursor.cursor.copy("COPY ledger_refresh (id) FROM STDIN") as copy:
        for pk in ids:
            copy.write_row((pk,))
    if len(ids) > 1000:
        cursor.execute("ANALYZE ledger_refresh")
    cursor.execute(
        f"""
        UPDATE {INSTALLMENT} i SET
          paid_yen = s.paid_yen,
          paid_on = s.paid_on,
          paid_channel = s.channel,
          status = CASE
            WHEN i.status = 'cancelled' THEN i.status
            WHEN s.n > 0 AND s.final_yen >= i.amount_yen THEN 'paid'
            WHEN s.n > 0 AND s.paid_yen >= i.amount_yen THEN 'provisional'
            ELSE 'open' END
        FROM (
          SELECT r.id, o.status AS old_status,
                 COALESCE(a.final_yen, 0) AS final_yen, COALESCE(a.paid_yen, 0) AS paid_yen,
                 a.paid_on, COALESCE(a.channel, '') AS channel, COALESCE(a.n, 0) AS n
          FROM ledger_refresh r
          JOIN {INSTALLMENT} o ON o.id = r.id
          LEFT JOIN (
            SELECT p.installment_id,
                   SUM(p.amount_yen) FILTER (WHERE p.state = 'final') AS final_yen,
                   SUM(p.amount_yen) AS paid_yen,
                   MAX(p.paid_on) AS paid_on,
                   (ARRAY_AGG(p.channel ORDER BY p.paid_on DESC, p.id DESC))[1] AS channel,
                   COUNT(*) AS n
            FROM {PAYMENT} p JOIN ledger_refresh r2 ON r2.id = p.installment_id
            WHERE p.state IN ('provisional', 'final')
            GROUP BY p.installment_id
          ) a ON a.installment_id = r.id
        ) s
        WHERE i.id = s.id
        RETURNING i.id, s.old_status, i.status
        """  # noqa: S608
    )
    moved = [pk for pk, old, new in cursor.fetchall() if old == "open" and new in PAID_STATES]
    cursor.execute(
        f"""
        UPDATE {NOTICE} n SET status = CASE
            WHEN i.status IN ('paid', 'provisional') THEN 'paid'
            WHEN n.superseded_by_id IS NULL THEN 'active'
            ELSE 'superseded' END
        FROM {INSTALLMENT} i JOIN ledger_refresh r ON r.id = i.id
        WHERE n.installment_id = i.id AND n.status IN ('active', 'paid')
          AND n.status <> CASE
            WHEN i.status IN ('paid', 'provisional') THEN 'paid'
            WHEN n.superseded_by_id IS NULL THEN 'active'
            ELSE 'superseded' END
        """  # noqa: S608
    )
    cursor.execute(
        f"""
        UPDATE {CHARGE} c SET status = {CHARGE_STATUS.format(c="c")}
        WHERE c.id IN (SELECT i.charge_id FROM {INSTALLMENT} i
                       JOIN ledger_refresh r ON r.id = i.id)
          AND c.status <> 'cancelled' AND c.status <> {CHARGE_STATUS.format(c="c")}
        """  # noqa: S608
    )
    return moved


def _refresh_sqlite(cursor: Any, ids: Sequence[int]) -> list[int]:
    moved: list[int] = []
    live = "p.installment_id = {t}.id AND p.state IN ('provisional', 'final')"
    for start in range(0, len(ids), SQLITE_CHUNK):
        chunk = list(ids[start : start + SQLITE_CHUNK])
        marks = ",".join("%s" for _ in chunk)
        cursor.execute(f"SELECT id, status FROM {INSTALLMENT} WHERE id IN ({marks})", chunk)  # noqa: S608
        before = dict(cursor.fetchall())
        where = live.format(t=INSTALLMENT)
        final = (
            f"COALESCE((SELECT SUM(p.amount_yen) FROM {PAYMENT} p"  # noqa: S608
            f" WHERE {where} AND p.state = 'final'), 0)"
        )
        paid = f"COALESCE((SELECT SUM(p.amount_yen) FROM {PAYMENT} p WHERE {where}), 0)"  # noqa: S608
        cursor.execute(
            f"""
            UPDATE {INSTALLMENT} SET
              status = CASE
                WHEN status = 'cancelled' THEN status
                WHEN {paid} > 0 AND {final} >= amount_yen THEN 'paid'
                WHEN {paid} > 0 AND {paid} >= amount_yen THEN 'provisional'
                ELSE 'open' END,
              paid_yen = {paid},
              paid_on = (SELECT MAX(p.paid_on) FROM {PAYMENT} p WHERE {where}),
              paid_channel = COALESCE((SELECT p.channel FROM {PAYMENT} p WHERE {where}
                                       ORDER BY p.paid_on DESC, p.id DESC LIMIT 1), '')
            WHERE id IN ({marks})
            """,  # noqa: S608
            chunk,
        )
        cursor.execute(f"SELECT id, status FROM {INSTALLMENT} WHERE id IN ({marks})", chunk)  # noqa: S608
        after = dict(cursor.fetchall())
        moved += [
            pk for pk, new in after.items() if before.get(pk) == "open" and new in PAID_STATES
        ]
        cursor.execute(
            f"""
            UPDATE {NOTICE} SET status = CASE
                WHEN (SELECT i.status FROM {INSTALLMENT} i WHERE i.id = {NOTICE}.installment_id)
                     IN ('paid', 'provisional') THEN 'paid'
                WHEN superseded_by_id IS NULL THEN 'active'
                ELSE 'superseded' END
            WHERE installment_id IN ({marks}) AND status IN ('active', 'paid')
            """,  # noqa: S608
            chunk,
        )
        status = CHARGE_STATUS.format(c=CHARGE)
        cursor.execute(
            f"""
            UPDATE {CHARGE} SET status = {status}
            WHERE id IN (SELECT charge_id FROM {INSTALLMENT} WHERE id IN ({marks}))
              AND status <> 'cancelled' AND status <> {status}
            """,  # noqa: S608
            chunk,
        )
    return moved
