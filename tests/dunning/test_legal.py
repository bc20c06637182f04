"""The terms and costs each regime's notices must state (dunning.legal.terms_for_message)."""

from datetime import date
from decimal import Decimal

import pytest

from campaigns.models import Regime, StepKind
from dunning.legal import presumed_receipt, term_end, terms_for_message
from dunning.models import CostRate, LegalNotice
from dunning.selectors.legal import cost_rate_for, cost_rate_overlaps
from tests.dunning.legal_helpers import claim_with_policy, step_of

pytestmark = pytest.mark.django_db


def wik_terms(open_amount: str, *, sent_on=date(2026, 3, 2), channel="letter"):
    claim = claim_with_policy(regime=Regime.PRIVATE, principal=open_amount)
    return terms_for_message(
        claim=claim, step=step_of(claim, StepKind.FORMAL_REMINDER), sent_on=sent_on, channel=channel
    )


@pytest.mark.parametrize(
    ("open_amount", "costs"),
    [
        ("100.00", "40.00"),  # minimum: 15% would be 15
        ("266.66", "40.00"),  # 15% = 39.999 -> still the minimum
        ("266.67", "40.00"),  # 40.0005 rounds to 40.00
        ("2500.00", "375.00"),  # top of the first band
        ("2500.01", "375.00"),  # 375 + 0.001
        ("5000.00", "625.00"),  # 375 + 250
        ("10000.00", "875.00"),  # + 5% of 5,000
        ("200000.00", "2775.00"),  # + 1% of 190,000
        ("1000000.00", "6775.00"),  # + 0.5% of 800,000 = 6,775: exactly the maximum
        ("5000000.00", "6775.00"),  # capped
    ],
)
def test_the_wik_letter_states_the_statutory_scale_on_the_open_amount(open_amount, costs):
    terms = wik_terms(open_amount)
    assert terms.costs_if_unpaid == Decimal(costs)
    assert terms.notice_kind == LegalNotice.Kind.WIK_LETTER
    assert terms.term_days == 14


def test_wik_costs_include_vat_when_the_municipality_cannot_reclaim_it(settings):
    settings.DUNNING_WIK_ADD_VAT = True
    terms = wik_terms("100.00")
    assert terms.costs_if_unpaid == Decimal("48.40")
    assert terms.costs_vat == Decimal("8.40")


def test_the_wik_term_runs_fourteen_days_from_the_day_after_presumed_receipt_of_a_letter():
    # Posted Monday 2 March 2026: received Wednesday 4 March; term 5..18 March.
    terms = wik_terms("125.00", sent_on=date(2026, 3, 2))
    assert terms.presumed_received_on == date(2026, 3, 4)
    assert terms.pay_before == terms.term_ends_on == date(2026, 3, 18)


def test_a_letter_posted_on_friday_is_received_on_monday_because_sunday_does_not_count():
    # Friday 6 March 2026: Saturday counts (post is delivered), Sunday does not -> Monday 9 March.
    assert presumed_receipt(channel="letter", sent_on=date(2026, 3, 6)) == date(2026, 3, 9)
    terms = wik_terms("125.00", sent_on=date(2026, 3, 6))
    assert terms.term_ends_on == date(2026, 3, 23)


def test_easter_delays_the_presumed_receipt_of_a_letter():
    # Thursday 2 April 2026; Good Friday 3 April, Easter Sunday 5 and Easter Monday 6 April do not count.
    assert presumed_receipt(channel="letter", sent_on=date(2026, 4, 2)) == date(2026, 4, 7)
    # Posted on Good Friday itself: Saturday 4 counts, then Tuesday 7 April.
    assert presumed_receipt(channel="letter", sent_on=date(2026, 4, 3)) == date(2026, 4, 7)
    terms = wik_terms("125.00", sent_on=date(2026, 4, 2))
    assert terms.term_ends_on == date(2026, 4, 21)


def test_kings_day_does_not_count_for_delivery():
    # Saturday 25 April 2026; Sunday 26 and King's Day Monday 27 April do not count.
    assert presumed_receipt(channel="letter", sent_on=date(2026, 4, 25)) == date(2026, 4, 29)


def test_an_email_counts_as_received_on_the_day_it_was_delivered():
    assert presumed_receipt(channel="email", sent_on=date(2026, 3, 6)) == date(2026, 3, 6)
    assert presumed_receipt(channel="email", sent_on=date(2026, 3, 6), delivered_on=date(2026, 3, 7)) == date(
        2026, 3, 7
    )
    terms = wik_terms("125.00", sent_on=date(2026, 3, 2), channel="email")
    assert terms.term_ends_on == date(2026, 3, 16)


def test_a_term_ending_on_a_weekend_or_holiday_runs_to_the_next_working_day():
    # E-mail Monday 13 April 2026 + 14 = King's Day (Monday 27 April) -> Tuesday 28 April.
    assert term_end(starts_after=date(2026, 4, 13), days=14) == date(2026, 4, 28)
    # Received Saturday 7 March + 14 = Saturday 21 March -> Monday 23 March.
    assert term_end(starts_after=date(2026, 3, 7), days=14) == date(2026, 3, 23)


def test_an_unknown_channel_gets_the_later_letter_presumption():
    claim = claim_with_policy(regime=Regime.PRIVATE)
    terms = terms_for_message(claim=claim, step=step_of(claim, StepKind.FORMAL_REMINDER), sent_on=date(2026, 3, 2))
    assert terms.presumed_received_on == date(2026, 3, 4)


def test_a_friendly_reminder_states_no_costs_and_no_legal_term():
    claim = claim_with_policy(regime=Regime.PRIVATE)
    terms = terms_for_message(claim=claim, step=step_of(claim, StepKind.REMINDER), sent_on=date(2026, 3, 2))
    assert terms.costs_if_unpaid == 0
    assert terms.term_days is None
    assert terms.notice_kind == ""


def _two_years_of_aanmaning_rates():
    for band_from, band_below, amount in (("0", "454", "8"), ("454", None, "18")):
        CostRate.objects.create(
            regime=Regime.TAX,
            kind="aanmaning",
            valid_from=date(2024, 1, 1),
            valid_until=date(2024, 12, 31),
            band_from=Decimal(band_from),
            band_below=Decimal(band_below) if band_below else None,
            amount=Decimal(amount),
        )
    # 2025 onwards: the rows from the data migration (9 / 19).


@pytest.mark.parametrize(
    ("sent_on", "open_amount", "costs"),
    [
        (date(2024, 6, 1), "100.00", "8.00"),
        (date(2024, 12, 31), "453.99", "8.00"),
        (date(2024, 12, 31), "454.00", "18.00"),
        (date(2025, 1, 1), "453.99", "9.00"),
        (date(2025, 1, 1), "454.00", "19.00"),
        (date(2026, 3, 2), "5000.00", "19.00"),
    ],
)
def test_aanmaning_costs_come_from_the_row_valid_for_the_date_and_amount_band(sent_on, open_amount, costs):
    _two_years_of_aanmaning_rates()
    claim = claim_with_policy(regime=Regime.TAX, principal=open_amount)
    terms = terms_for_message(claim=claim, step=step_of(claim, StepKind.FORMAL_REMINDER), sent_on=sent_on)
    assert terms.costs_if_unpaid == Decimal(costs)
    assert terms.notice_kind == LegalNotice.Kind.TAX_AANMANING
    assert terms.term_days == 14


def test_the_tax_aanmaning_term_counts_from_its_date():
    claim = claim_with_policy(regime=Regime.TAX)
    terms = terms_for_message(claim=claim, step=step_of(claim, StepKind.FORMAL_REMINDER), sent_on=date(2026, 3, 2))
    assert terms.term_ends_on == date(2026, 3, 16)


@pytest.mark.parametrize(("open_amount", "fee"), [("499.99", "7.00"), ("500.00", "15.00")])
def test_the_awb_aanmaning_states_the_fee_and_a_two_week_term(open_amount, fee):
    claim = claim_with_policy(regime=Regime.ADMINISTRATIVE, principal=open_amount)
    terms = terms_for_message(claim=claim, step=step_of(claim, StepKind.FORMAL_REMINDER), sent_on=date(2026, 3, 3))
    assert terms.costs_if_unpaid == Decimal(fee)
    assert terms.term_days == 14
    assert terms.term_ends_on == date(2026, 3, 17)


def test_a_tax_dwangbevel_gives_two_days_and_flags_its_placeholder_rate():
    claim = claim_with_policy(regime=Regime.TAX)
    terms = terms_for_message(claim=claim, step=step_of(claim, StepKind.ESCALATION), sent_on=date(2026, 3, 3))
    assert terms.term_days == 2
    assert terms.costs_if_unpaid == Decimal("46.00")
    assert terms.costs_rate_verified is False


def test_no_rate_on_file_means_no_costs_are_stated():
    CostRate.objects.filter(kind="aanmaning").delete()
    claim = claim_with_policy(regime=Regime.TAX)
    terms = terms_for_message(claim=claim, step=step_of(claim, StepKind.FORMAL_REMINDER), sent_on=date(2026, 3, 2))
    assert terms.costs_if_unpaid == 0


def test_overlapping_rates_are_found_for_the_admin_to_refuse():
    new = CostRate(
        regime=Regime.TAX,
        kind="aanmaning",
        valid_from=date(2026, 1, 1),
        band_from=Decimal("400"),
        band_below=Decimal("500"),
        amount=Decimal("10"),
    )
    assert cost_rate_overlaps(new).count() == 2  # both 2025 bands are open-ended and touch 400..500
    separate = CostRate(
        regime=Regime.TAX,
        kind="aanmaning",
        valid_from=date(2020, 1, 1),
        valid_until=date(2020, 12, 31),
        amount=Decimal("7"),
    )
    assert not cost_rate_overlaps(separate).exists()


def test_cost_rate_for_returns_none_outside_every_period():
    assert cost_rate_for(regime=Regime.TAX, kind="aanmaning", on=date(2010, 1, 1), amount=Decimal("100")) is None
