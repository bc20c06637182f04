"""The demo municipality: deterministic, every segment populated, templates within the allowlist."""

import re
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.core.management.color import no_style
from django.db import connection
from django.db.models import Sum
from django.template import Template
from django.template.base import FilterExpression, Variable, VariableNode
from django.template.defaulttags import ForNode, IfNode
from django.test import override_settings

from campaigns.models import DunningPolicy, MessageTemplate, Segment, StepKind, StepOverride, Tone
from campaigns.rules import evaluate_condition, validate_rules
from campaigns.variables import allowed_variables
from customers.models import CareFlag, Debtor
from dunning.models import ChannelCost, Claim, ClaimCost, DeliveryEvent, EscalationProposal, Message, Pause, Payment
from dunning.references import payment_reference_is_valid
from dunning.services.demo import DEMO_PASSWORD, SEGMENTS, DemoDataExists, demo_seed

TODAY = date(2026, 12, 3)

pytestmark = pytest.mark.django_db


def _snapshot():
    debtors = list(
        Debtor.objects.order_by("source_reference").values_list(
            "source_reference", "given_name", "surname_prefix", "surname", "email", "phone", "language", "postal_code"
        )
    )
    claims = list(
        Claim.objects.order_by("source_reference").values_list(
            "source_reference", "payment_reference", "kind", "principal", "open_amount", "due_on", "status"
        )
    )
    messages = list(
        Message.objects.order_by("claim__source_reference", "scheduled_for").values_list(
            "claim__source_reference",
            "step__order",
            "channel",
            "tone",
            "status",
            "scheduled_for",
            "cancel_reason",
            "experiment_variant__label",
            "cost",
            "body",
        )
    )
    payments = list(Payment.objects.order_by("external_id").values_list("external_id", "amount", "paid_at"))
    return debtors, claims, messages, payments


def _delete_demo_rows():
    """Back to an empty database (as far as the demo is concerned), ids included: the experiment assigns
    variants by claim id, so "the same municipality" means the same on an empty database."""
    DeliveryEvent.objects.all().delete()
    ClaimCost.objects.all().delete()
    EscalationProposal.objects.all().delete()
    # Fallbacks first: deleting a bounced message would null their fallback_for and clash on (claim, step).
    Message.objects.filter(fallback_for__isnull=False).delete()
    Message.objects.all().delete()
    Payment.objects.all().delete()
    Pause.objects.all().delete()
    Claim.objects.all().delete()
    Debtor.objects.all().delete()
    _reset_claim_ids()


def _reset_claim_ids():
    """Claim ids start afresh, as on an empty database (PostgreSQL keeps its sequence through rollbacks;
    the demo takes ids after the highest one on SQLite)."""
    statements = connection.ops.sequence_reset_sql(no_style(), [Claim])
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def test_the_same_seed_gives_the_same_municipality():
    _reset_claim_ids()
    demo_seed(debtors=60, seed=7, today=TODAY)
    first = _snapshot()
    _delete_demo_rows()
    demo_seed(debtors=60, seed=7, today=TODAY)
    assert _snapshot() == first
    assert len(first[0]) == 60 and first[1] and first[2] and first[3]


def test_another_seed_gives_other_people():
    demo_seed(debtors=30, seed=1, today=TODAY)
    names_one = _snapshot()[0]
    _delete_demo_rows()
    demo_seed(debtors=30, seed=2, today=TODAY)
    assert _snapshot()[0] != names_one


def _attributes(debtor: Debtor, today: date) -> dict:
    """The payment-history attributes as contracts.md defines them, computed the slow way."""
    since = today - timedelta(days=730)
    due = [c for c in debtor.claims.all() if since <= c.due_on < today]
    on_time = 0
    for claim in due:
        last = max((p.paid_at for p in claim.payments.all()), default=None)
        if claim.status == Claim.Status.PAID and last and last.date() <= claim.due_on:
            on_time += 1
    sent = Message.objects.filter(claim__debtor=debtor, sent_at__isnull=False).count()
    return {
        "on_time_share_24m": on_time / len(due) if due else None,
        "reminders_needed_24m": sent,
        "debtor_kind": debtor.kind,
        "language": debtor.language,
        "has_active_care_flag": any(flag.is_active_on(today) for flag in debtor.care_flags.all()),
    }


def test_every_demo_segment_has_members():
    demo_seed(debtors=250, seed=3, today=TODAY)
    segments = list(Segment.objects.order_by("priority"))
    assert [s.name for s in segments] == [spec["name"] for spec in SEGMENTS]
    members = Counter()
    for debtor in Debtor.objects.prefetch_related("claims__payments", "care_flags"):
        values = _attributes(debtor, TODAY)
        chosen = next(
            s
            for s in segments
            if s.is_default or all(evaluate_condition(rule, values[rule["attribute"]]) for rule in s.rules)
        )
        members[chosen.name] += 1
    assert set(members) == {spec["name"] for spec in SEGMENTS}, members
    assert members["Altijd op tijd"] > members["Chronische laatbetaler"] > 0


def test_the_engine_puts_demo_debtors_in_every_segment():
    """The same check through the engine's set-based SQL (dunning.selectors.segments)."""
    from dunning.selectors.segments import CHOSEN_SEGMENT, debtors_with_segment

    demo_seed(debtors=250, seed=3, today=TODAY)
    now = datetime(TODAY.year, TODAY.month, TODAY.day, 8, tzinfo=ZoneInfo("Europe/Amsterdam"))
    chosen = Counter(debtors_with_segment(Debtor.objects.all(), now=now).values_list(CHOSEN_SEGMENT, flat=True))
    names = dict(Segment.objects.values_list("pk", "name"))
    assert {names[pk] for pk in chosen} == {spec["name"] for spec in SEGMENTS}, chosen


def test_segment_rules_follow_the_contract_format():
    demo_seed(debtors=0, seed=1, today=TODAY)
    for segment in Segment.objects.all():
        assert validate_rules(segment.rules) == segment.rules
        assert len(segment.purpose) > 60  # every segment states why it exists (in Dutch)
    assert Segment.objects.get(is_default=True).name == "Overig"
    help_segment = Segment.objects.get(name="Heeft hulp nodig")
    assert help_segment.rules == [{"attribute": "has_active_care_flag", "operator": "eq", "value": True}]
    assert help_segment.priority == min(Segment.objects.values_list("priority", flat=True))


def test_three_policies_with_their_legal_ladders():
    demo_seed(debtors=0, seed=1, today=TODAY)
    policies = {p.regime: p for p in DunningPolicy.objects.prefetch_related("steps")}
    assert set(policies) == {"tax", "administrative", "private"}
    for policy in policies.values():
        steps = list(policy.steps.order_by("order"))
        kinds = [s.kind for s in steps]
        assert StepKind.FORMAL_REMINDER in kinds
        assert steps[-1].kind == StepKind.ESCALATION and steps[-1].needs_approval
        assert not any(s.needs_approval for s in steps[:-1])
        assert [s.offset_days for s in steps] == sorted(s.offset_days for s in steps)
    on_time = StepOverride.objects.filter(segment__name="Altijd op tijd", step__policy=policies["tax"])
    assert on_time.exists() and all(o.tone == Tone.FRIENDLY and o.channels[0] == "sms" for o in on_time)
    assert set(StepOverride.objects.filter(segment__name="Heeft hulp nodig").values_list("tone", flat=True)) == {
        Tone.EMPATHETIC
    }


def test_if_empty_does_nothing_when_debtors_exist():
    demo_seed(debtors=5, seed=1, today=TODAY)
    result = demo_seed(debtors=50, seed=1, today=TODAY, if_empty=True)
    assert result.skipped
    assert Debtor.objects.count() == 5


def test_a_second_seed_without_if_empty_is_refused():
    demo_seed(debtors=5, seed=1, today=TODAY)
    with pytest.raises(DemoDataExists):
        demo_seed(debtors=5, seed=1, today=TODAY)
    with pytest.raises(CommandError):
        call_command("seed_demo", "--debtors", "5")


def test_the_command_prints_counts(capsys):
    call_command("seed_demo", "--debtors", "20", "--seed", "4", "--today", "2026-12-03")
    out = capsys.readouterr().out
    assert "20 debtors" in out and "simulated" in out
    call_command("seed_demo", "--if-empty")
    assert "already exist" in capsys.readouterr().out


def test_demo_users_only_when_debug():
    demo_seed(debtors=0, seed=1, today=TODAY)
    assert not get_user_model().objects.filter(username__in=["clerk", "admin"]).exists()


@override_settings(DEBUG=True)
def test_demo_users_for_each_role_when_debug():
    result = demo_seed(debtors=0, seed=1, today=TODAY)
    assert result.users == ["clerk", "team-lead", "compliance", "admin"]
    users = {u.username: u for u in get_user_model().objects.filter(username__in=result.users)}
    assert users["clerk"].groups.get().name == "Clerk"
    assert users["team-lead"].groups.get().name == "Team lead"
    assert users["compliance"].groups.get().name == "Compliance officer"
    assert users["admin"].is_superuser
    assert all(u.is_staff and u.check_password(DEMO_PASSWORD) for u in users.values())


# ----------------------------------------------------------------------------------------- history


NOON = datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=ZoneInfo("Europe/Amsterdam"))


def test_history_is_consistent_with_the_engine_rules():
    demo_seed(debtors=200, seed=5, today=TODAY)
    # The history runs up to noon of the seeding day: nothing was sent, paid or decided after it.
    assert Message.objects.filter(sent_at__gte=NOON).count() == 0
    assert Payment.objects.filter(paid_at__gte=NOON).count() == 0
    assert Message.objects.filter(sent_at__date=TODAY).exists()
    # One message per claim and step, except bounce fallbacks which point at the bounced message.
    pairs = Counter(Message.objects.filter(fallback_for__isnull=True).values_list("claim_id", "step_id"))
    assert max(pairs.values()) == 1
    for fallback in Message.objects.filter(fallback_for__isnull=False).select_related("fallback_for"):
        assert fallback.fallback_for.status == Message.Status.BOUNCED and fallback.channel == "letter"
    # Paid claims: payments cover the principal and the costs charged; nothing was sent after the payment
    # settled them and nothing is still waiting to go.
    charged = dict(ClaimCost.objects.values("claim").annotate(total=Sum("amount")).values_list("claim", "total"))
    for claim in Claim.objects.filter(status=Claim.Status.PAID).annotate(paid=Sum("payments__amount")):
        assert claim.paid == claim.principal + charged.get(claim.pk, 0)
        assert claim.open_amount == Decimal("0.00") and claim.costs_amount == Decimal("0.00")
        assert not claim.messages.filter(sent_at__gt=claim.settled_at).exists()
        assert not claim.messages.filter(status__in=Message.PENDING_STATUSES).exists()
    for claim in Claim.objects.filter(status=Claim.Status.OPEN).annotate(paid=Sum("payments__amount")):
        assert claim.open_amount == claim.principal - (claim.paid or 0)
        assert claim.costs_amount == charged.get(claim.pk, 0)
    # Every payment reference is a valid betalingskenmerk.
    assert all(payment_reference_is_valid(r) for r in Claim.objects.values_list("payment_reference", flat=True))
    # Proposals waiting for a person have a message waiting with them; approved dwangbevels charged costs.
    for proposal in EscalationProposal.objects.filter(status="pending").select_related("message"):
        assert proposal.message.status == Message.Status.AWAITING_APPROVAL
    costs = ClaimCost.objects.select_related("proposal")
    assert costs.exists() and all(c.proposal.status == "approved" and c.kind == "dwangbevel" for c in costs)
    # Care flags get the empathetic tone.
    flagged = CareFlag.objects.filter(ends_on__isnull=True).values_list("debtor_id", flat=True)
    assert set(Message.objects.filter(claim__debtor__in=flagged).values_list("tone", flat=True)) <= {"empathetic"}
    # Delivered e-mails have their events.
    delivered = Message.objects.filter(channel="email", status=Message.Status.DELIVERED).first()
    assert set(delivered.events.values_list("kind", flat=True)) >= {"sent", "delivered"}
    # Claims span about fourteen months and the history has reminders on every channel and tone.
    assert Claim.objects.earliest("issued_on").issued_on >= TODAY - timedelta(days=430)
    assert set(Message.objects.values_list("channel", flat=True)) == {"email", "sms", "letter"}
    assert set(Message.objects.values_list("tone", flat=True)) == set(Tone.values)


def test_a_payment_cancels_the_next_step_as_the_engine_would():
    demo_seed(debtors=200, seed=5, today=TODAY)
    stopped = Message.objects.filter(status=Message.Status.CANCELLED, cancel_reason="paid").select_related("claim")
    assert stopped.count() > 50
    for message in stopped:
        assert message.claim.status == Claim.Status.PAID and message.cancelled_at == message.claim.settled_at
        assert message.sent_at is None and message.cost == 0 and message.created_at < message.cancelled_at
        # It is the step after one that went out before the payment.
        earlier = message.claim.messages.filter(sent_at__isnull=False, step__order__lt=message.step.order)
        assert earlier.filter(sent_at__lt=message.cancelled_at).exists()
    withdrawn = EscalationProposal.objects.filter(status="withdrawn").select_related("message")
    assert all(p.message.cancel_reason == "paid" for p in withdrawn)


def test_sent_messages_cost_the_channel_price_and_recent_ones_have_their_text():
    demo_seed(debtors=200, seed=5, today=TODAY)
    prices = {c.channel: c.price_per_piece for c in ChannelCost.objects.all()}
    places = Message._meta.get_field("cost").decimal_places
    sent = Message.objects.filter(sent_at__isnull=False)
    for message in sent.exclude(channel="sms"):
        assert message.cost == prices[message.channel].quantize(Decimal(1).scaleb(-places))
    assert all(m.cost in (prices["sms"], 2 * prices["sms"]) for m in sent.filter(channel="sms"))
    assert not Message.objects.filter(sent_at__isnull=True, cost__gt=0).exists()
    recent = sent.filter(sent_at__gte=NOON - timedelta(days=14)).select_related("claim")
    assert recent.exists()
    for message in recent:
        assert message.body and "{" not in message.body, message
        assert message.claim.payment_reference[-4:] in message.body.replace(" ", "")
    assert not sent.filter(sent_at__lt=NOON - timedelta(days=60)).exclude(body="").exists()


def test_the_dashboard_has_something_to_show_on_the_seeding_day():
    from dunning.selectors.effect import dashboard_figures, effect_figures

    demo_seed(debtors=300, seed=8, today=TODAY)
    afternoon = NOON + timedelta(hours=4)
    figures = dashboard_figures(now=afternoon)
    outbox = figures.outbox_today
    assert sum(row["sent"] for row in outbox.values()) > 0
    assert sum(row["planned"] for row in outbox.values()) > 0  # letters for the afternoon print run
    assert (
        sum(row["failed"] for row in outbox.values()) > 0
        or Message.objects.filter(status=Message.Status.BOUNCED, sent_at__date=TODAY).exists()
    )
    assert figures.payments_today_count > 0 and figures.payments_today_amount > 0
    assert figures.cost_total > 0
    assert sum(row["avoided"] for row in figures.cost_by_channel.values()) > 0
    # Over the year: reminders avoided by payments, and what that saved.
    report = effect_figures(start=TODAY - timedelta(days=365), end=TODAY, now=afternoon, min_size=1)
    assert sum(row.avoided for row in report.all_rows) > 0 and sum(row.saved for row in report.all_rows) > 0
    assert sum(row.cost for row in report.all_rows) > 0


def test_right_after_seeding_the_planner_has_little_to_add():
    from dunning.services.planning import plan

    demo_seed(debtors=300, seed=8, today=TODAY)
    before = Message.objects.count()
    result = plan(now=NOON + timedelta(minutes=30))
    assert result.planned + result.bundled + result.awaiting_approval <= 10, result.as_dict()
    assert Message.objects.count() - before == result.planned + result.bundled + result.awaiting_approval
    assert not Message.objects.filter(claim__status=Claim.Status.PAID, status__in=Message.PENDING_STATUSES).exists()


def test_a_running_experiment_with_both_variants_assigned_by_claim():
    from campaigns.experiments import variant_for
    from campaigns.models import Experiment
    from dunning.selectors.effect import experiment_figures

    demo_seed(debtors=400, seed=9, today=TODAY)
    experiment = Experiment.objects.get()
    assert experiment.is_running and experiment.step.kind == StepKind.REMINDER
    variants = {v.label: v for v in experiment.variants.select_related("template")}
    assert set(variants) == {"A", "B"}
    assert variants["A"].template.is_active and not variants["B"].template.is_active
    messages = Message.objects.filter(experiment_variant__experiment=experiment)
    assert {m.experiment_variant.label for m in messages.select_related("experiment_variant")} == {"A", "B"}
    for message in messages.select_related("experiment_variant"):
        assert message.experiment_variant == variant_for(experiment, message.claim_id)
        assert message.template_id == message.experiment_variant.template_id
        assert message.step_id == experiment.step_id and message.scheduled_for >= experiment.started_at
    figures = experiment_figures(experiment=experiment, now=NOON, min_size=1)
    assert all(f.n > 10 for f in figures), [(f.variant.label, f.n) for f in figures]


def test_demo_e_mail_addresses_use_reserved_domains_and_phones_are_e164():
    demo_seed(debtors=100, seed=6, today=TODAY)
    emails = [e for e in Debtor.objects.values_list("email", flat=True) if e]
    assert emails and all(re.search(r"@([a-z0-9-]+\.)*example\.(nl|com|org|net)$", e) for e in emails)
    phones = [p for p in Debtor.objects.values_list("phone", flat=True) if p]
    assert phones and all(re.fullmatch(r"\+316\d{8}", p) for p in phones)
    assert Debtor.objects.filter(email="", phone="").exists()  # letters are needed for some
    assert Debtor.objects.filter(kind="organisation").exists() and Debtor.objects.filter(language="en").exists()


# --------------------------------------------------------------------------------------- templates

CLAIM_ITEM_FIELDS = {"reference", "description", "open_amount"}


def _names(nodelist, loop_vars=frozenset()):
    """Every variable a template reads, as (root, attribute path); loop variables resolved to 'claims'."""
    found = set()

    def from_expression(expression):
        items = [expression.var] + [arg for _, args in expression.filters for _, arg in args]
        for var in items:
            if isinstance(var, Variable) and var.lookups:
                root, *rest = var.lookups
                found.add(("claims", tuple(rest)) if root in loop_vars else (root, tuple(rest)))

    def from_condition(condition):
        value = getattr(condition, "value", None)
        if isinstance(value, FilterExpression):
            from_expression(value)
        for side in ("first", "second"):
            if getattr(condition, side, None) is not None:
                from_condition(getattr(condition, side))

    for node in nodelist:
        if isinstance(node, VariableNode):
            from_expression(node.filter_expression)
        elif isinstance(node, ForNode):
            from_expression(node.sequence)
            inner = loop_vars | set(node.loopvars)
            found |= _names(node.nodelist_loop, inner) | _names(node.nodelist_empty, loop_vars)
            continue
        elif isinstance(node, IfNode):
            for condition, _ in node.conditions_nodelists:
                if condition is not None:
                    from_condition(condition)
        for attr in getattr(node, "child_nodelists", ()):
            found |= _names(getattr(node, attr, None) or [], loop_vars)
    return found


def test_name_walker_sees_loops_filters_and_conditions():
    template = Template(
        "{{ a }}{% if b|length > 1 %}{% for x in claims %}{{ x.reference }}{% endfor %}{% endif %}{{ c|default:d }}"
    )
    assert _names(template.nodelist) == {
        ("a", ()),
        ("b", ()),
        ("claims", ()),
        ("claims", ("reference",)),
        ("c", ()),
        ("d", ()),
    }


def test_every_template_exists_and_uses_only_allowed_variables():
    demo_seed(debtors=0, seed=1, today=TODAY)
    templates = list(MessageTemplate.objects.filter(is_active=True))
    combos = {(t.step_kind, t.tone, t.channel, t.language) for t in templates}
    assert len(combos) == len(StepKind.values) * 4 * 3 * 2 == len(templates)
    for template in templates:
        allowed = allowed_variables(template.step_kind)
        for source in (template.subject, template.body):
            for root, rest in _names(Template(source).nodelist):
                assert root in allowed, f"{template}: {root} not allowed"
                if root == "claims" and rest:
                    assert rest[0] in CLAIM_ITEM_FIELDS, f"{template}: claims item field {rest}"


def test_every_template_passes_the_template_check_and_renders_for_the_demo_debtor():
    """The same guarantees the template editor enforces (campaigns.templating), plus a real render."""
    from campaigns.templating import render_preview, sms_length, template_check

    demo_seed(debtors=0, seed=1, today=TODAY)
    for template in MessageTemplate.objects.all():
        template_check(
            step_kind=template.step_kind, channel=template.channel, subject=template.subject, body=template.body
        )
        subject, body = render_preview(step_kind=template.step_kind, subject=template.subject, body=template.body)
        assert "{" not in subject + body and "}" not in subject + body, template
        if template.channel == "sms":
            assert sms_length(body).encoding == "GSM-7" and sms_length(body).parts <= 2, template
        elif template.step_kind != StepKind.PAYMENT_CONFIRMATION:
            assert "1234 5678 9012 3456" in body and "€ 65,00" in body, template  # bundled claims listed


GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€")

LONG_CONTEXT = {
    "salutation": "heer/mevrouw Van der Heijden-Bakker",
    "claim_reference": "9990 0000 0000 1234",
    "claim_description": "Naheffing parkeren 14-03-2026, Stationsplein",
    "claim_kind": "Parkeerbelasting",
    "open_amount": "€ 12.345,67",
    "total_due": "€ 12.345,67",
    "principal": "€ 12.345,67",
    "costs_amount": "€ 1.234,56",
    "costs_if_unpaid": "€ 1.234,56",
    "due_date": "28 september 2026",
    "pay_before": "28 september 2026",
    "term_days": "14",
    "payment_link": "https://example.nl/betalen?kenmerk=9990000000001234&bedrag=12345.67",
    "municipality_name": "Gemeente Voorbeeld",
    "municipality_phone": "14 020",
    "debt_help_contact": "Schuldhulp Voorbeeld, 14 020, www.example.nl/schuldhulp",
}


def _septets(text: str) -> int:
    return sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)


def test_sms_templates_are_gsm7_and_fit_two_parts():
    demo_seed(debtors=0, seed=1, today=TODAY)
    from django.template import Context

    for template in MessageTemplate.objects.filter(channel="sms"):
        literal = re.sub(r"{{.*?}}|{%.*?%}", "", template.body)
        assert set(literal) <= GSM7 | GSM7_EXTENDED, f"{template}: {set(literal) - GSM7 - GSM7_EXTENDED}"
        rendered = Template(template.body).render(Context(LONG_CONTEXT, autoescape=False))
        assert _septets(rendered) <= 306, f"{template}: {_septets(rendered)} septets: {rendered}"


def test_letters_and_e_mails_state_what_the_law_and_the_citizen_need():
    demo_seed(debtors=0, seed=1, today=TODAY)
    for template in MessageTemplate.objects.exclude(channel="sms").exclude(step_kind=StepKind.PAYMENT_CONFIRMATION):
        body = template.body
        for name in ("claim_reference", "total_due", "pay_before", "payment_link", "municipality_phone"):
            assert "{{ " + name + " }}" in body, f"{template} lacks {name}"
        if template.step_kind in (StepKind.FORMAL_REMINDER, StepKind.FINAL_NOTICE, StepKind.ESCALATION):
            assert "{{ term_days }}" in body and "{{ costs_if_unpaid }}" in body, template
        if template.tone == Tone.EMPATHETIC:
            assert "{{ debt_help_contact }}" in body, template
    for template in MessageTemplate.objects.filter(step_kind__in=[StepKind.FORMAL_REMINDER, StepKind.FINAL_NOTICE]):
        assert "{{ term_days }}" in template.body and "{{ costs_if_unpaid }}" in template.body, template
    for template in MessageTemplate.objects.filter(channel="sms", tone=Tone.EMPATHETIC).exclude(
        step_kind=StepKind.PAYMENT_CONFIRMATION
    ):
        assert "{{ debt_help_contact }}" in template.body, template
