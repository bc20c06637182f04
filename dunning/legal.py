"""Legal terms and costs a message must state, per regime (see docs/legal.md for sources).

`terms_for_message` is what the renderer asks when it renders a message: the term the law gives, the last
day to pay, and the exact costs that will be charged if the term passes. It is a pure read: it records
nothing. The evidence (when a notice left, when it counts as received, when its term ends) is written by
`dunning.services.costs.legal_notice_record` once the message has been sent.

Three regimes:
- private (WIK, art. 6:96 lid 6 BW): the 14-day letter gives fourteen days starting the day after
  receipt, and states the collection costs (`wik_collection_costs` on the open principal, plus VAT when
  the municipality cannot reclaim it). A letter counts as received on the second day after posting, not
  counting Sundays and public holidays; an e-mail on the day it was delivered (or sent).
- tax (Invorderingswet 1990, art. 11-13 and the Kostenwet): the aanmaning gives fourteen days after its
  date; its costs come from the CostRate row valid on that date for the amount band. A dwangbevel
  orders payment within two days.
- administrative (Awb 4:112/4:113): the aanmaning gives two weeks after the day it was sent; the optional
  fee (7 / 15 euro) comes from the CostRate rows and must be stated.

Every term that ends on a Saturday, Sunday or public holiday runs on to the next working day
(Algemene termijnenwet, art. 1). Applying it to all three regimes only ever gives the debtor more time.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

import holidays
from django.conf import settings

from campaigns.models import PolicyStep, Regime, StepKind
from customers.models import Channel
from dunning.fees import wik_collection_costs
from dunning.models import ZERO, ClaimCost, CostKind, LegalNotice
from dunning.selectors.legal import cost_rate_for

CENT = Decimal("0.01")
WIK_TERM_DAYS = 14
TAX_AANMANING_TERM_DAYS = 14
AWB_AANMANING_TERM_DAYS = 14  # "twee weken"
DWANGBEVEL_TERM_DAYS = 2
FINAL_NOTICE_TERM_DAYS = 14
# Days counted for the presumed delivery of a letter posted in the Netherlands.
LETTER_DELIVERY_DAYS = 2
# Informal reminders carry no legal term; they suggest paying within two weeks.
INFORMAL_TERM_DAYS = 14


@dataclass(frozen=True)
class MessageTerms:
    term_days: int | None
    pay_before: date | None  # the last day to pay (inclusive): "betaal uiterlijk op ..."
    costs_if_unpaid: Decimal
    term_ends_on: date | None = None
    presumed_received_on: date | None = None
    notice_kind: str = ""  # LegalNotice.Kind, "" when the message is not a legal notice
    cost_kind: str = ""  # CostKind stated, "" when none
    costs_vat: Decimal = ZERO  # part of costs_if_unpaid that is VAT
    costs_rate_verified: bool = True  # False when the cost comes from a placeholder rate


@lru_cache(maxsize=64)
def nl_holidays(year: int) -> frozenset[date]:
    """Dutch public holidays in `year`, with Liberation Day every year (Algemene termijnenwet, art. 3)."""
    found = holidays.country_holidays("NL", years=[year], categories=("public", "optional"))
    return frozenset(found.keys())


def is_holiday(day: date) -> bool:
    return day in nl_holidays(day.year)


def is_non_working_day(day: date) -> bool:
    return day.weekday() >= 5 or is_holiday(day)


def presumed_receipt(*, channel: str | None, sent_on: date, delivered_on: date | None = None) -> date:
    """The day a notice counts as received.

    E-mail and SMS: the day the provider reported delivery, else the day it was sent. Letters (and an
    unknown channel, the latest presumption): the second day after posting, not counting Sundays and
    public holidays (post is delivered on Saturdays).
    """
    if channel in (Channel.EMAIL, Channel.SMS):
        return delivered_on or sent_on
    day = sent_on
    counted = 0
    while counted < LETTER_DELIVERY_DAYS:
        day += timedelta(days=1)
        if day.weekday() != 6 and not is_holiday(day):
            counted += 1
    return day


def term_end(*, starts_after: date, days: int) -> date:
    """Last day of a term of `days` days that starts the day after `starts_after` (inclusive end).

    A term ending on a Saturday, Sunday or public holiday runs on to the next working day.
    """
    end = starts_after + timedelta(days=days)
    while is_non_working_day(end):
        end += timedelta(days=1)
    return end


def wik_costs_stated(open_amount: Decimal) -> tuple[Decimal, Decimal]:
    """(costs including VAT when configured, the VAT part) on the open principal."""
    costs = wik_collection_costs(open_amount)
    vat = ZERO
    if costs > 0 and settings.DUNNING_WIK_ADD_VAT:
        vat = (costs * Decimal(settings.DUNNING_VAT_PERCENT) / Decimal(100)).quantize(CENT, rounding=ROUND_HALF_UP)
    return costs + vat, vat


def notice_kind_for(*, regime: str, step_kind: str) -> str:
    """Which legal notice a step of this kind is under this regime ("" for none)."""
    if step_kind in (StepKind.REMINDER, StepKind.PAYMENT_CONFIRMATION):
        return ""
    if regime == Regime.PRIVATE:
        return LegalNotice.Kind.WIK_LETTER if step_kind != StepKind.ESCALATION else ""
    if step_kind == StepKind.FORMAL_REMINDER:
        return LegalNotice.Kind.TAX_AANMANING if regime == Regime.TAX else LegalNotice.Kind.AWB_AANMANING
    if step_kind == StepKind.FINAL_NOTICE:
        return LegalNotice.Kind.FINAL_NOTICE
    if step_kind == StepKind.ESCALATION and regime == Regime.TAX:
        return LegalNotice.Kind.DWANGBEVEL
    return ""


def cost_kind_for_notice(notice_kind: str) -> str:
    """The cost a notice of this kind opens the way to ("" for none)."""
    return {
        LegalNotice.Kind.WIK_LETTER: CostKind.WIK,
        LegalNotice.Kind.TAX_AANMANING: CostKind.AANMANING,
        LegalNotice.Kind.AWB_AANMANING: CostKind.AWB_FEE,
        LegalNotice.Kind.DWANGBEVEL: CostKind.DWANGBEVEL,
    }.get(notice_kind, "")


def cost_kind_for_escalation(regime: str) -> str:
    """The cost an approved escalation step charges: the dwangbevel under public law, none otherwise."""
    return CostKind.DWANGBEVEL if regime in (Regime.TAX, Regime.ADMINISTRATIVE) else ""


def costs_for(*, regime: str, cost_kind: str, on: date, open_amount: Decimal) -> tuple[Decimal, Decimal, bool]:
    """(amount, VAT part, rate verified) of a cost of `cost_kind` on `open_amount` as of `on`.

    WIK costs follow the statutory scale; the others come from the CostRate row valid on `on` for the
    amount band. No rate on file means no costs can be charged (0, 0, True).
    """
    if not cost_kind or open_amount <= 0:
        return ZERO, ZERO, True
    if cost_kind == CostKind.WIK:
        amount, vat = wik_costs_stated(open_amount)
        return amount, vat, True
    rate = cost_rate_for(regime=regime, kind=cost_kind, on=on, amount=open_amount)
    if rate is None:
        return ZERO, ZERO, True
    return rate.amount, ZERO, rate.is_verified


def terms_for_message(
    *, claim, step: PolicyStep, sent_on: date, channel: str | None = None, delivered_on: date | None = None
) -> MessageTerms:
    """The term, last day to pay and costs a message for `step` on `claim` must state when sent on `sent_on`.

    `channel` decides how receipt is presumed for the WIK letter; without it the letter presumption (the
    later one) is used, so a stated date is never earlier than the law allows.
    """
    regime = claim.regime or (claim.policy.regime if claim.policy_id else "")
    if step.kind == StepKind.PAYMENT_CONFIRMATION:
        return MessageTerms(term_days=None, pay_before=None, costs_if_unpaid=ZERO)
    notice_kind = notice_kind_for(regime=regime, step_kind=step.kind)
    if not notice_kind:
        return MessageTerms(
            term_days=None, pay_before=sent_on + timedelta(days=INFORMAL_TERM_DAYS), costs_if_unpaid=ZERO
        )

    if notice_kind == LegalNotice.Kind.WIK_LETTER:
        received = presumed_receipt(channel=channel, sent_on=sent_on, delivered_on=delivered_on)
        days = WIK_TERM_DAYS
        cost_kind = CostKind.WIK
    elif notice_kind == LegalNotice.Kind.TAX_AANMANING:
        received, days, cost_kind = sent_on, TAX_AANMANING_TERM_DAYS, CostKind.AANMANING
    elif notice_kind == LegalNotice.Kind.AWB_AANMANING:
        received, days, cost_kind = sent_on, AWB_AANMANING_TERM_DAYS, CostKind.AWB_FEE
    elif notice_kind == LegalNotice.Kind.DWANGBEVEL:
        received, days, cost_kind = sent_on, DWANGBEVEL_TERM_DAYS, CostKind.DWANGBEVEL
    else:  # a final notice announces the next step (the dwangbevel) and its costs
        received, days = sent_on, FINAL_NOTICE_TERM_DAYS
        cost_kind = cost_kind_for_escalation(regime)

    ends_on = term_end(starts_after=received, days=days)
    already_charged = bool(cost_kind) and ClaimCost.objects.filter(claim=claim, kind=cost_kind).exists()
    if already_charged:
        amount, vat, verified = ZERO, ZERO, True
    else:
        amount, vat, verified = costs_for(regime=regime, cost_kind=cost_kind, on=sent_on, open_amount=claim.open_amount)
    return MessageTerms(
        term_days=days,
        pay_before=ends_on,
        costs_if_unpaid=amount,
        term_ends_on=ends_on,
        presumed_received_on=received,
        notice_kind=notice_kind,
        cost_kind=cost_kind if amount > 0 else "",
        costs_vat=vat,
        costs_rate_verified=verified,
    )
