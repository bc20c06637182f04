"""Segment rules: validation names what is wrong; compiled SQL and explanation agree; versions go up."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from campaigns.rules import validate_rules
from campaigns.services import segment_update
from customers.models import Debtor
from dunning.selectors.segments import debtors_with_segment, segment_explain, segment_values
from tests.campaigns.personas import REMINDER_DAY, build_world, care_debtor, chronic_debtor, open_claim, punctual_debtor
from tests.factories import make_claim, make_debtor


@pytest.fixture(autouse=True)
def in_english():
    # Error texts are translated (Dutch first); the assertions read the English source strings.
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([{"attribute": "shoe_size", "operator": "eq", "value": 42}], "unknown attribute 'shoe_size'"),
        ([{"attribute": "language", "operator": "gte", "value": "nl"}], "operator 'gte' does not apply to language"),
        ([{"attribute": "on_time_share_24m", "operator": "gte", "value": "high"}], "needs a number"),
        ([{"attribute": "has_active_care_flag", "operator": "eq", "value": 1}], "needs true or false"),
        ([{"attribute": "reminders_needed_24m", "operator": "lt", "value": 2.5}], "needs a whole number"),
        ([{"attribute": "debtor_kind", "operator": "eq", "value": "company"}], "'company' is not a valid debtor_kind"),
        ([{"attribute": "claim_kind", "operator": "in", "value": "ozb"}], "needs a non-empty list"),
        ([{"attribute": "open_amount", "operator": "gt"}], "value is missing"),
        ({"attribute": "open_amount"}, "must be a list"),
    ],
)
def test_invalid_rules_are_named(rules, message):
    with pytest.raises(ValidationError) as caught:
        validate_rules(rules)
    assert message in " ".join(caught.value.messages)


def test_valid_rules_pass():
    rules = [
        {"attribute": "open_amount", "operator": "gte", "value": 500},
        {"attribute": "claim_kind", "operator": "in", "value": ["ozb", "parking"]},
        {"attribute": "has_active_care_flag", "operator": "ne", "value": True},
    ]
    assert validate_rules(rules) == rules


@pytest.mark.django_db
def test_segment_assignment_is_one_query_for_all_debtors(django_assert_num_queries):
    world = build_world()
    for make in (punctual_debtor, chronic_debtor, care_debtor, make_debtor):
        open_claim(make(), world)
    with django_assert_num_queries(2):  # the active segments, then one annotated query for everyone
        chosen = dict(
            debtors_with_segment(Debtor.objects.all(), now=REMINDER_DAY).values_list("pk", "chosen_segment_id")
        )
    assert sorted(chosen.values()) == sorted([world.on_time.pk, world.chronic.pk, world.care.pk, world.default.pk])


@pytest.mark.django_db
def test_attribute_values_are_computed_in_sql():
    world = build_world()
    debtor = chronic_debtor()
    open_claim(debtor, world)
    make_claim(debtor, principal="75.00")
    values, _chosen = segment_values(debtor=debtor, now=REMINDER_DAY)
    assert values["on_time_share_24m"] == 0.0
    assert values["avg_days_late_24m"] == 20.0
    assert str(values["open_amount"]) in ("200.00", "200")
    assert values["language"] == "nl" and values["debtor_kind"] == "person"
    assert values["has_active_care_flag"] is False or values["has_active_care_flag"] == 0
    assert values["reminders_needed_24m"] == 0


@pytest.mark.django_db
def test_explain_names_the_segment_and_each_condition_with_its_value():
    world = build_world()
    debtor = punctual_debtor()
    open_claim(debtor, world)
    explanation = segment_explain(debtor=debtor, now=REMINDER_DAY)
    assert explanation.chosen == world.on_time
    care_result, on_time_result = explanation.tried
    assert care_result.segment == world.care and not care_result.matched
    assert [(c.attribute, c.actual, c.matched) for c in on_time_result.conditions] == [
        ("on_time_share_24m", 1.0, True),
        ("debtor_kind", "person", True),
    ]


@pytest.mark.django_db
def test_default_segment_catches_the_rest():
    world = build_world()
    debtor = make_debtor(kind=Debtor.Kind.ORGANISATION)
    explanation = segment_explain(debtor=debtor, now=timezone.now())
    assert explanation.chosen == world.default


@pytest.mark.django_db
def test_version_goes_up_only_when_rules_change():
    world = build_world()
    segment = world.on_time
    segment_update(segment=segment, purpose="Nieuwe omschrijving")
    assert segment.version == 1
    segment_update(segment=segment, rules=[{"attribute": "on_time_share_24m", "operator": "gte", "value": 0.95}])
    assert segment.version == 2
    segment.refresh_from_db()
    assert segment.version == 2
    with pytest.raises(ValidationError):
        segment_update(segment=segment, rules=[{"attribute": "iq", "operator": "gt", "value": 1}])
