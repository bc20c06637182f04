"""Importing a bank statement (CAMT.053 or MT940): credit entries become payments, matched by reference.

1. Parse the whole file first (`dunning.bankstatements`); a malformed file raises StatementError
   before anything is written.
2. In ONE transaction, record every booked, non-reversed EUR credit through `payment_record`
   (source camt053/mt940, external_id stable per entry), so a re-import records nothing new and a
   failure half-way stores nothing.
3. Count what happened: matched, unmatched (waiting for a clerk), duplicate (already recorded),
   skipped (debits, reversals, pending entries, other currencies).
"""

from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.db import transaction

from dunning.bankstatements import BankEntry, StatementError, statement_parse
from dunning.models import Payment
from dunning.services.payments import claim_for_reference, payment_record

__all__ = ["StatementError", "StatementImported", "bank_statement_import"]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SOURCES = {"camt053": Payment.Source.CAMT053, "mt940": Payment.Source.MT940}


@dataclass
class StatementImported:
    format: str
    dry_run: bool
    matched: int = 0
    unmatched: int = 0
    duplicate: int = 0
    skipped: int = 0
    lines: list[str] = field(default_factory=list)  # one line per entry, for the operator

    @property
    def counts(self) -> dict[str, int]:
        return {
            "matched": self.matched,
            "unmatched": self.unmatched,
            "duplicate": self.duplicate,
            "skipped": self.skipped,
        }


def _skip_reason(entry: BankEntry) -> str:
    if not entry.is_credit:
        return "debit"
    if entry.is_reversal:
        return "reversal"
    if not entry.is_booked:
        return "not booked"
    if entry.currency != "EUR":
        return f"currency {entry.currency}"
    if entry.amount <= 0:
        return "zero amount"
    return ""


def bank_statement_import(
    *, content: bytes, filename: str = "", dry_run: bool = False, now: datetime | None = None, actor=None
) -> StatementImported:
    fmt, entries = statement_parse(content, filename=filename)
    source = SOURCES[fmt]
    report = StatementImported(format=fmt, dry_run=dry_run)
    seen: set[str] = set()
    with transaction.atomic():
        for entry in entries:
            label = f"{entry.line}: € {entry.amount} {entry.booked_on}"
            reason = _skip_reason(entry)
            if reason:
                report.skipped += 1
                report.lines.append(f"{label} skipped ({reason})")
                continue
            if dry_run:
                if (
                    entry.external_id in seen
                    or Payment.objects.filter(source=source, external_id=entry.external_id).exists()
                ):
                    outcome = "duplicate"
                else:
                    claim = claim_for_reference(entry.remittance_text, structured_reference=entry.structured_reference)
                    outcome = "matched" if claim else "unmatched"
                seen.add(entry.external_id)
            else:
                result = payment_record(
                    source=source,
                    external_id=entry.external_id,
                    amount=entry.amount,
                    currency=entry.currency,
                    paid_at=datetime.combine(entry.booked_on, time.min, tzinfo=AMSTERDAM),
                    reference_text=entry.remittance_text,
                    structured_reference=entry.structured_reference,
                    payer_name=entry.payer_name,
                    payer_account=entry.payer_account,
                    now=now,
                    actor=actor,
                )
                if not result.created:
                    outcome = "duplicate"
                else:
                    outcome = "matched" if result.payment.claim_id else "unmatched"
            setattr(report, outcome, getattr(report, outcome) + 1)
            report.lines.append(f"{label} {outcome} ({entry.reference_text[:60] or 'no reference'})")
    return report
