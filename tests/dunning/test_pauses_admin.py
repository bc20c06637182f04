"""Pauses, arrangements and cost rates in the admin."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Regime, StepKind
from dunning.models import CostRate, Message, Pause, PaymentArrangement
from tests.conftest import PASSWORD
from tests.dunning.legal_helpers import claim_with_policy

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def test_a_clerk_sets_a_pause_and_planned_messages_are_cancelled(client, clerk):
    claim = claim_with_policy(regime=Regime.TAX)
    message = Message.objects.create(
        claim=claim,
        step=claim.policy.steps.get(kind=StepKind.REMINDER),
        channel="email",
        tone="friendly",
        scheduled_for=timezone.now() + timedelta(days=1),
    )
    login(client, clerk)
    now = timezone.localtime()
    response = client.post(
        reverse("admin:dunning_pause_add"),
        {
            "claim": claim.pk,
            "reason": Pause.Reason.OBJECTION,
            "starts_at_0": now.strftime("%Y-%m-%d"),
            "starts_at_1": (now - timedelta(minutes=1)).strftime("%H:%M:%S"),
            "note": "Bezwaar per brief",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    pause = Pause.objects.get()
    assert pause.created_by == clerk
    message.refresh_from_db()
    assert message.status == Message.Status.CANCELLED

    client.post(reverse("admin:dunning_pause_changelist"), {"action": "end_now", "_selected_action": [pause.pk]})
    pause.refresh_from_db()
    assert pause.ends_at is not None and pause.ended_by == clerk and pause.resumed_at is not None
    assert client.get(reverse("admin:dunning_pause_changelist")).status_code == 200


def test_a_clerk_agrees_an_arrangement_in_the_admin(client, clerk):
    claim = claim_with_policy(regime=Regime.TAX, principal="120.00")
    login(client, clerk)
    response = client.post(
        reverse("admin:dunning_paymentarrangement_add"),
        {"claims": str(claim.pk), "count": "4", "first_due_on": (date.today() + timedelta(days=14)).isoformat()},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    arrangement = PaymentArrangement.objects.get()
    assert arrangement.instalments.count() == 4
    assert arrangement.created_by == clerk
    page = client.get(reverse("admin:dunning_paymentarrangement_change", args=[arrangement.pk]))
    assert page.status_code == 200
    assert client.get(reverse("admin:dunning_paymentarrangement_changelist")).status_code == 200


def test_a_team_lead_cannot_enter_an_overlapping_cost_rate(client, team_lead):
    login(client, team_lead)
    response = client.post(
        reverse("admin:dunning_costrate_add"),
        {
            "regime": Regime.TAX,
            "kind": "aanmaning",
            "amount": "10.00",
            "valid_from": "2026-01-01",
            "band_from": "0",
            "band_below": "454",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert errors and "2025-01-01" in errors[0]  # names the clashing row, whatever language the admin speaks
    response = client.post(
        reverse("admin:dunning_costrate_add"),
        {
            "regime": Regime.TAX,
            "kind": "aanmaning",
            "amount": "8.00",
            "valid_from": "2024-01-01",
            "valid_until": "2024-12-31",
            "band_from": "0",
            "band_below": "454",
        },
    )
    assert response.status_code == 302
    assert CostRate.objects.filter(valid_from=date(2024, 1, 1), amount=Decimal("8.00")).exists()
    for name in ("costrate", "legalnotice", "claimcost"):
        assert client.get(reverse(f"admin:dunning_{name}_changelist")).status_code == 200
