"""Effect figures on a small hand-built history where every number is known in advance.

The history (period March-May 2026, judged on 30 June 2026):
- G1, segment "Op tijd", friendly e-mail reminder: 10 debtors, one claim and one message each, sent
  10 March 10:00. Claims settled 2, 2, 2, 10, 10, 20 and 40 days after; 3 never paid.
  Two messages have a recorded cost of 0.05, the others fall back to the e-mail price 0.001.
  One message bounced (status), one has a bounce event. Each paid claim has one payment of 100 euro.
- G2, same segment, neutral letter formal reminder: sent 24 March to the 3 unpaid G1 claims (so G1
  "needed a next step" 3 times), and cancelled because paid for 4 of the paid G1 claims: 7 people.
- G3, segment "Overig", friendly SMS reminder on a parking policy: 2 debtors, unpaid.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from campaigns.models import StepKind, Tone
from dunning.models import ChannelCost, Claim, ClaimKind, DeliveryEvent, Message, Payment
from dunning.selectors.effect import dashboard_figures, effect_figures, payment_curves
from tests.factories import make_claim, make_debtor, make_policy, make_segment

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 6, 30, 12, 0, tzinfo=AMS)
SENT_G1 = datetime(2026, 3, 10, 10, 0, tzinfo=AMS)
SENT_G2 = datetime(2026, 3, 24, 10, 0, tzinfo=AMS)
PERIOD = {"start": date(2026, 3, 1), "end": date(2026, 5, 31), "now": NOW}


def _message(claim, step, *, tone, channel, segment, sent_at=None, status=Message.Status.SENT, **extra):
    return Message.objects.create(
        claim=claim,
        step=step,
        tone=tone,
        channel=channel,
        segment=segment,
        scheduled_for=sent_at or extra.get("cancelled_at"),
        sent_at=sent_at,
        status=status,
        **extra,
    )


def _settle(claim, at):
    Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.PAID, open_amount=0, settled_at=at)
    Payment.objects.create(
        source="api",
        external_id=f"p-{claim.pk}",
        amount=Decimal("100.00"),
        paid_at=at,
        claim=claim,
        match_status=Payment.MatchStatus.MATCHED,
    )


@pytest.fixture
def history(db):
    tax = make_policy()
    parking = make_policy()
    reminder, formal = tax.steps.get(order=1), tax.steps.get(order=2)
    sms_reminder = parking.steps.get(order=1)
    on_time = make_segment(name="Op tijd")
    rest = make_segment(name="Overig", is_default=True)

    paid_after_days = [2, 2, 2, 10, 10, 20, 40, None, None, None]
    g1_messages = []
    for i, days in enumerate(paid_after_days):
        claim = make_claim(make_debtor(), principal=Decimal("100.00"))
        message = _message(
            claim,
            reminder,
            tone=Tone.FRIENDLY,
            channel="email",
            segment=on_time,
            sent_at=SENT_G1,
            cost=Decimal("0.05") if i in (0, 7) else Decimal("0"),
            status=Message.Status.BOUNCED if i == 8 else Message.Status.DELIVERED,
        )
        g1_messages.append(message)
        if days is not None:
            settled = SENT_G1 + timedelta(days=days)
            _settle(claim, settled)
            if i < 4:
                _message(
                    claim,
                    formal,
                    tone=Tone.NEUTRAL,
                    channel="letter",
                    segment=on_time,
                    status=Message.Status.CANCELLED,
                    cancel_reason="paid",
                    cancelled_at=settled,
                )
        else:
            _message(claim, formal, tone=Tone.NEUTRAL, channel="letter", segment=on_time, sent_at=SENT_G2)
    DeliveryEvent.objects.create(message=g1_messages[9], kind=DeliveryEvent.Kind.BOUNCED, occurred_at=SENT_G1)

    for _ in range(2):
        claim = make_claim(make_debtor(), kind=ClaimKind.PARKING, policy=parking)
        _message(claim, sms_reminder, tone=Tone.FRIENDLY, channel="sms", segment=rest, sent_at=SENT_G1)
    return {"tax": tax, "parking": parking, "on_time": on_time, "rest": rest}


def _only(report, **key):
    rows = [row for row in report.rows if all(row.key[name] == value for name, value in key.items())]
    assert len(rows) == 1, report.rows
    return rows[0]


def test_it_computes_the_figures_of_a_group_it_shows(history):
    report = effect_figures(**PERIOD)

    g1 = _only(report, tone=Tone.FRIENDLY, channel="email", step_kind=StepKind.REMINDER)
    assert g1.key["segment_name"] == "Op tijd"
    assert (g1.people, g1.sent) == (10, 10)
    assert (g1.paid[7], g1.paid[14], g1.paid[30]) == (3, 5, 6)
    assert (g1.share_paid_7, g1.share_paid_14, g1.share_paid_30) == (0.3, 0.5, 0.6)
    assert g1.median_days == pytest.approx(10.0)  # of 2, 2, 2, 10, 10, 20, 40
    assert g1.share_next_step == pytest.approx(0.3)
    assert g1.bounce_rate == pytest.approx(0.2)  # one by status, one by delivery event
    assert g1.cost == Decimal("0.108")  # 2 x 0.05 recorded + 8 x 0.001 e-mail price
    assert g1.cost_per_message == Decimal("0.0108")
    assert g1.collected == Decimal("600")  # the 40-day payment is outside the 30-day window
    assert g1.cost_per_euro == Decimal("0.000180")
    assert g1.cost_per_100_euro == Decimal("0.02")
    assert g1.avoided == 0


def test_small_groups_are_merged_into_other_or_suppressed(history):
    default = effect_figures(**PERIOD)  # EFFECT_MIN_GROUP_SIZE defaults to 10 people
    assert len(default.rows) == 1
    assert default.other is None  # G2 (7 people) + G3 (2 people) = 9 < 10: suppressed
    assert default.suppressed_groups == 2

    merged = effect_figures(**PERIOD, min_size=8)
    assert len(merged.rows) == 1
    other = merged.other
    assert other.is_other and merged.merged_groups == 2
    assert (other.people, other.sent, other.avoided) == (9, 5, 4)
    assert other.saved == Decimal("3.4")  # 4 avoided letters x 0.85
    assert other.cost == Decimal("2.69")  # 3 letters x 0.85 + 2 SMS x 0.07

    each = effect_figures(**PERIOD, min_size=2)
    g2 = _only(each, channel="letter")
    assert (g2.people, g2.sent, g2.avoided, g2.share_paid_30) == (7, 3, 4, 0.0)
    assert each.other is None and each.suppressed_groups == 0


def test_setting_changes_the_minimum(history, settings):
    settings.EFFECT_MIN_GROUP_SIZE = 11
    report = effect_figures(**PERIOD)
    assert report.rows == [] and report.min_group_size == 11
    # Distinct people: G2's 7 debtors are G1 debtors too, so 10 + 2, not 10 + 7 + 2.
    assert report.other.people == 12


def test_filters_by_policy_and_claim_kind(history):
    parking = effect_figures(**PERIOD, claim_kind=ClaimKind.PARKING, min_size=1)
    assert [(row.key["channel"], row.sent) for row in parking.rows] == [("sms", 2)]
    by_policy = effect_figures(**PERIOD, policy=history["tax"], min_size=1)
    assert sorted(row.key["channel"] for row in by_policy.rows) == ["email", "letter"]


def test_the_period_is_by_send_date(history):
    report = effect_figures(start=date(2026, 3, 20), end=date(2026, 3, 31), now=NOW, min_size=1)
    assert [(row.key["channel"], row.sent) for row in report.rows] == [("letter", 3)]


def test_recent_messages_do_not_count_for_windows_not_yet_passed(history):
    report = effect_figures(**{**PERIOD, "now": SENT_G1 + timedelta(days=10)}, min_size=1)
    g1 = _only(report, channel="email")
    assert g1.mature == {7: 10, 14: 0, 30: 0}
    assert g1.share_paid_7 == 0.3 and g1.share_paid_14 is None


def test_split_by_template_version(history):
    report = effect_figures(**PERIOD, by_template=True, min_size=1)
    assert "template_version" in report.keys and len(report.rows) == 3


def test_cost_uses_the_price_in_force_on_the_send_day(history):
    ChannelCost.objects.create(channel="sms", price_per_piece=Decimal("0.0900"), valid_from=date(2026, 3, 10))
    parking = effect_figures(**PERIOD, claim_kind=ClaimKind.PARKING, min_size=1)
    assert parking.rows[0].cost == Decimal("0.18")


def test_payment_curves_per_channel(history):
    curves = {curve.key: curve for curve in payment_curves(by="channel", **PERIOD, min_size=2)}
    email = curves["email"]
    assert len(email.points) == 31
    assert email.points[0] == 0 and email.points[2] == 0  # nobody within 2 days: the first pay at 2.0
    assert email.points[3] == pytest.approx(0.3)
    assert email.points[7] == pytest.approx(0.3)  # the same as "paid within 7 days"
    assert email.points[11] == pytest.approx(0.5)
    assert email.points[30] == pytest.approx(0.6)
    assert curves["sms"].points[30] == 0
    assert "letter" in curves
    assert set(c.key for c in payment_curves(by="tone", **PERIOD, min_size=10)) == {"friendly"}


def test_dashboard_figures(history):
    today = datetime(2026, 3, 24, 15, 0, tzinfo=AMS)
    figures = dashboard_figures(now=today)
    assert figures.claims_by_status == {"open": 5, "paid": 7}
    assert figures.open_amount == Decimal("550.00")  # 3 x 100 (tax) + 2 x 125 (parking)
    assert figures.outbox_today["letter"] == {"planned": 0, "sent": 3, "failed": 0}
    assert figures.payments_today_count == 0
    # March up to the 24th: 10 e-mails (0.108), 2 SMS, 3 letters; 4 letters avoided (settled 12-20 March)
    assert figures.cost_by_channel["email"]["cost"] == Decimal("0.11")
    assert figures.cost_by_channel["letter"]["avoided"] == 4
    assert figures.saved_total == Decimal("3.40")
