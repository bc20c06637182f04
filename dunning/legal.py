"""Legal terms and costs a message must state (owned by the legal work, issue 6).

`terms_for_message` is what the renderer asks: the term the law gives, the date to pay before, and the
exact costs that will be charged if the term passes. This first version knows only the terms; the
legal work replaces it with regime-specific costs from the cost-rate data.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from campaigns.models import PolicyStep, StepKind


@dataclass(frozen=True)
class MessageTerms:
    term_days: int | None
    pay_before: date | None
    costs_if_unpaid: Decimal


def terms_for_message(*, claim, step: PolicyStep, sent_on: date) -> MessageTerms:
    if step.kind in (StepKind.FORMAL_REMINDER, StepKind.FINAL_NOTICE, StepKind.ESCALATION):
        return MessageTerms(term_days=14, pay_before=sent_on + timedelta(days=15), costs_if_unpaid=Decimal("0.00"))
    return MessageTerms(term_days=None, pay_before=sent_on + timedelta(days=14), costs_if_unpaid=Decimal("0.00"))
