from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction

from campaigns.experiments import (
    ExperimentError,
    experiment_stop,
    experiment_variants_check,
    running_experiments,
    sample_size_per_group,
    template_override_for,
    two_proportion_z,
    variant_for,
    verdict,
    wilson_interval,
)
from campaigns.models import Experiment, ExperimentVariant, MessageTemplate, Tone
from dunning.models import Claim, Message
from dunning.selectors.effect import experiment_figures
from tests.factories import make_claim, make_debtor, make_policy, make_segment, make_template

AMS = ZoneInfo("Europe/Amsterdam")
START = datetime(2026, 3, 1, 9, 0, tzinfo=AMS)


@pytest.fixture
def experiment(db):
    policy = make_policy()
    step = policy.steps.get(order=1)
    current = make_template(body="Beste {{ salutation }}, wilt u nog {{ open_amount }} betalen?")
    draft = make_template(body="Beste {{ salutation }}, u bent het vast vergeten.", is_active=False)
    experiment = Experiment.objects.create(step=step, name="Vergeten?", started_at=START)
    ExperimentVariant.objects.create(experiment=experiment, label="A", template=current, weight=1)
    ExperimentVariant.objects.create(experiment=experiment, label="B", template=draft, weight=1)
    return experiment


def test_the_same_claim_always_gets_the_same_variant(experiment):
    first = [variant_for(experiment, claim_id).label for claim_id in range(1, 200)]
    again = [variant_for(experiment, claim_id).label for claim_id in range(1, 200)]
    assert first == again
    assert set(first) == {"A", "B"}


def test_weights_are_respected_over_many_claims(experiment):
    experiment.variants.filter(label="B").update(weight=3)
    variants = list(experiment.variants.order_by("label"))
    counts = Counter(variant_for(experiment, claim_id, variants).label for claim_id in range(1, 20001))
    assert counts["B"] / 20000 == pytest.approx(0.75, abs=0.015)


def test_another_experiment_shuffles_differently(experiment):
    other = Experiment(pk=experiment.pk + 1000)
    variants = list(experiment.variants.order_by("label"))
    mine = [variant_for(experiment, claim_id, variants).label for claim_id in range(1, 100)]
    theirs = [variant_for(other, claim_id, variants).label for claim_id in range(1, 100)]
    assert mine != theirs


def test_the_planner_hook_overrides_only_the_experiments_combination(experiment):
    running = running_experiments()
    current = experiment.variants.get(label="A").template
    template, variant = template_override_for(experiment.step, 7, template=current, running=running)
    assert variant == variant_for(experiment, 7)
    assert template == variant.template
    sms = make_template(channel="sms", body="Nog {{ open_amount }} open.")
    assert template_override_for(experiment.step, 7, template=sms, running=running) is None
    other_step = experiment.step.policy.steps.get(order=2)
    assert template_override_for(other_step, 7, template=current, running=running) is None


def test_stopped_experiments_do_not_override(experiment):
    experiment_stop(experiment=experiment, winner=experiment.variants.get(label="A"))
    assert template_override_for(experiment.step, 7) is None


def test_wilson_interval_known_values():
    # Reference values (Wilson 1927; Newcombe 1998, table I).
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)


def test_sample_size_matches_the_textbook_formula():
    # p1 = 0.30, p2 = 0.40, two-sided 5%, 80% power: 356 per group (Fleiss, without continuity correction).
    assert sample_size_per_group(0.30, 0.40) == 356
    # Differences below 3 points are sized as 3 points.
    assert sample_size_per_group(0.30, 0.30) == sample_size_per_group(0.30, 0.33)


def test_verdict_says_which_is_better_with_95_percent_confidence():
    result = verdict("A", 300, 1000, "B", 360, 1000)
    assert result.significant and result.better == "B" and result.worse == "A"
    # z = 0.06 / sqrt(0.33 * 0.67 * 2 / 1000)
    assert two_proportion_z(300, 1000, 360, 1000) == pytest.approx(2.853, abs=1e-3)
    assert "B" in result.text and "95" in result.text


def test_verdict_says_how_many_more_messages_are_needed():
    result = verdict("A", 30, 100, "B", 40, 100)
    assert not result.significant
    assert result.more_needed == 2 * (356 - 100)
    assert str(result.more_needed) in result.text


def test_variants_must_share_one_combination(experiment):
    a = experiment.variants.get(label="A").template
    letter = make_template(channel="letter", body="Brief")
    with pytest.raises(ExperimentError):
        experiment_variants_check(step=experiment.step, templates=[a, letter])
    with pytest.raises(ExperimentError):
        experiment_variants_check(step=experiment.step, templates=[a])
    experiment_variants_check(step=experiment.step, templates=[a, experiment.variants.get(label="B").template])


def test_stopping_makes_the_winner_the_active_template(experiment):
    a, b = experiment.variants.get(label="A"), experiment.variants.get(label="B")
    stopped_at = START + timedelta(days=40)
    experiment_stop(experiment=experiment, winner=b, now=stopped_at)

    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.STOPPED
    assert experiment.stopped_at == stopped_at and experiment.winner == b
    active = MessageTemplate.objects.filter(
        step_kind=a.template.step_kind, tone=a.template.tone, channel="email", language="nl", is_active=True
    )
    assert list(active) == [b.template]
    # Stopping again changes nothing.
    experiment_stop(experiment=experiment, winner=a, now=stopped_at + timedelta(days=1))
    experiment.refresh_from_db()
    assert experiment.winner == b


def test_the_winner_must_be_one_of_its_variants(experiment):
    stranger = ExperimentVariant(pk=999999, experiment_id=experiment.pk + 1, template_id=1)
    with pytest.raises(ExperimentError):
        experiment_stop(experiment=experiment, winner=stranger)


def test_one_running_experiment_per_step(experiment):
    with pytest.raises(IntegrityError), transaction.atomic():
        Experiment.objects.create(step=experiment.step, name="Tweede", started_at=START)


def test_experiment_figures_per_variant(experiment):
    """12 claims on A (3 paid within 14 days), 12 on B (9 paid within 14 days): known rates and intervals."""
    segment = make_segment()
    a, b = experiment.variants.get(label="A"), experiment.variants.get(label="B")
    sent = START + timedelta(days=1)
    for variant, paid in ((a, 3), (b, 9)):
        for i in range(12):
            claim = make_claim(make_debtor())
            Message.objects.create(
                claim=claim,
                step=experiment.step,
                tone=Tone.FRIENDLY,
                channel="email",
                segment=segment,
                template=variant.template,
                experiment_variant=variant,
                scheduled_for=sent,
                sent_at=sent,
                status=Message.Status.DELIVERED,
            )
            if i < paid:
                Claim.objects.filter(pk=claim.pk).update(
                    status=Claim.Status.PAID, open_amount=Decimal("0"), settled_at=sent + timedelta(days=5)
                )
    figures = experiment_figures(experiment=experiment, now=START + timedelta(days=60))
    assert [(f.variant.label, f.n, f.paid) for f in figures] == [("A", 12, 3), ("B", 12, 9)]
    assert figures[0].interval == pytest.approx(wilson_interval(3, 12))
    assert figures[1].rate == 0.75
    assert verdict("A", 3, 12, "B", 9, 12).significant  # z = 2.45

    hidden = experiment_figures(experiment=experiment, now=START + timedelta(days=60), min_size=13)
    assert [f.row for f in hidden] == [None, None]
