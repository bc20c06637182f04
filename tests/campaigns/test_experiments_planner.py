"""The planner takes the template from a running experiment and records the variant on the message."""

import pytest

from campaigns.experiments import experiment_stop, variant_for
from campaigns.models import Experiment, ExperimentVariant, MessageTemplate, StepKind, Tone
from dunning.models import Message
from dunning.services.planning import plan
from tests.campaigns.personas import REMINDER_DAY, build_world, chronic_debtor, open_claim
from tests.factories import make_debtor, make_template

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def experiment(world):
    """Neutral e-mail reminder (what newcomers in the default segment get): current text vs a draft."""
    current = MessageTemplate.objects.get(
        step_kind=StepKind.REMINDER, tone=Tone.NEUTRAL, channel="email", language="nl", is_active=True
    )
    draft = make_template(
        step_kind=StepKind.REMINDER,
        tone=Tone.NEUTRAL,
        channel="email",
        subject="Nog open: {{ claim_reference }}",
        body="[B] Beste {{ salutation }}, er staat nog {{ open_amount }} open.",
        is_active=False,
    )
    experiment = Experiment.objects.create(step=world.reminder, name="Korter", started_at=REMINDER_DAY)
    ExperimentVariant.objects.create(experiment=experiment, label="A", template=current)
    ExperimentVariant.objects.create(experiment=experiment, label="B", template=draft)
    return experiment


def test_messages_record_the_claims_variant_and_use_its_template(world, experiment):
    claims = [open_claim(make_debtor(), world) for _ in range(16)]

    plan(now=REMINDER_DAY)

    labels = set()
    for claim in claims:
        message = Message.objects.get(claim=claim)
        expected = variant_for(experiment, claim.pk)
        assert message.experiment_variant == expected
        assert message.template == expected.template
        labels.add(expected.label)
    assert labels == {"A", "B"}  # 16 claims: both variants in use (2^-15 chance of a false alarm)


def test_other_combinations_are_not_in_the_experiment(world, experiment):
    claim = open_claim(chronic_debtor(), world)  # formal tone by segment override
    plan(now=REMINDER_DAY)
    message = Message.objects.get(claim=claim)
    assert message.experiment_variant is None and message.tone == Tone.FORMAL


def test_after_stopping_the_winner_is_simply_the_template(world, experiment):
    b = experiment.variants.get(label="B")
    experiment_stop(experiment=experiment, winner=b)
    claim = open_claim(make_debtor(), world)
    plan(now=REMINDER_DAY)
    message = Message.objects.get(claim=claim)
    assert message.experiment_variant is None and message.template == b.template


def test_the_dispatcher_sends_each_variants_own_text(world, experiment, settings):
    from django.core import mail

    from dunning.services.dispatch import dispatch

    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    claims = [open_claim(make_debtor(), world) for _ in range(16)]
    plan(now=REMINDER_DAY)
    dispatch(now=REMINDER_DAY)

    for claim in claims:
        message = Message.objects.get(claim=claim)
        assert message.status == Message.Status.SENT
        assert message.body.startswith("[B]") == (message.experiment_variant.label == "B")
    assert len(mail.outbox) == 16
