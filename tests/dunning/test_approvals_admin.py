"""The approval queue in the admin: the list, the page that shows why, deciding, and bulk approval."""

from datetime import date

import pytest
from django.urls import reverse

from campaigns.models import Regime, StepKind
from compliance.roles import TEAM_LEAD
from dunning.models import EscalationProposal, Message
from dunning.services.costs import legal_notice_record
from tests.conftest import PASSWORD, _user_with_role
from tests.dunning.legal_helpers import at, claim_with_policy, escalation_awaiting, sent_message
from tests.factories import make_care_flag

pytestmark = pytest.mark.django_db


def ready_proposal(*, care=False):
    claim = claim_with_policy(regime=Regime.TAX, principal="300.00", due_on=date(2026, 1, 1))
    legal_notice_record(message=sent_message(claim, StepKind.FORMAL_REMINDER, sent_at=at(date(2026, 1, 15))))
    if care:
        make_care_flag(claim.debtor, starts_on=date(2026, 1, 1))
    return escalation_awaiting(claim)


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def test_the_queue_lists_proposals_and_marks_care_flagged_debtors(client, team_lead):
    ready_proposal()
    ready_proposal(care=True)
    login(client, team_lead)
    response = client.get(reverse("admin:dunning_escalationproposal_changelist"))
    assert response.status_code == 200
    assert response.content.decode().count('class="care-flag"') == 1
    filtered = client.get(reverse("admin:dunning_escalationproposal_changelist"), {"care": "yes"})
    assert filtered.status_code == 200


def test_the_proposal_page_shows_why_and_the_care_banner(client, team_lead):
    proposal, _message = ready_proposal(care=True)
    login(client, team_lead)
    response = client.get(reverse("admin:dunning_escalationproposal_change", args=[proposal.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="care-banner"' in body
    assert "Messages and delivery" in body or "Berichten" in body
    assert 'id="decide-form"' in body
    assert "placeholder" in body  # the dwangbevel rate is not verified yet


def test_deciding_on_the_page_approves_in_the_users_name(client, team_lead):
    proposal, message = ready_proposal()
    login(client, team_lead)
    response = client.post(
        reverse("admin:dunning_escalationproposal_decide", args=[proposal.pk]),
        {"decision": "approve", "reason": "No reaction to the aanmaning"},
    )
    assert response.status_code == 302
    proposal.refresh_from_db()
    message.refresh_from_db()
    assert proposal.status == EscalationProposal.Status.APPROVED
    assert proposal.first_decided_by == team_lead
    assert message.status == Message.Status.PLANNED


def test_rejecting_on_the_page_without_a_reason_changes_nothing(client, team_lead):
    proposal, _message = ready_proposal()
    login(client, team_lead)
    client.post(reverse("admin:dunning_escalationproposal_decide", args=[proposal.pk]), {"decision": "reject"})
    proposal.refresh_from_db()
    assert proposal.status == EscalationProposal.Status.PENDING


def test_a_clerk_cannot_decide_on_the_page(client, clerk):
    proposal, _message = ready_proposal()
    login(client, clerk)
    page = client.get(reverse("admin:dunning_escalationproposal_change", args=[proposal.pk]))
    assert page.status_code == 200 and 'id="decide-form"' not in page.content.decode()
    response = client.post(reverse("admin:dunning_escalationproposal_decide", args=[proposal.pk]), {})
    assert response.status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == EscalationProposal.Status.PENDING


def test_bulk_approval_gives_only_the_first_approval_for_a_care_flagged_debtor(client, team_lead):
    plain, _ = ready_proposal()
    cared, _ = ready_proposal(care=True)
    login(client, team_lead)
    changelist = reverse("admin:dunning_escalationproposal_changelist")
    client.post(changelist, {"action": "approve_selected", "_selected_action": [plain.pk, cared.pk]})
    client.post(changelist, {"action": "approve_selected", "_selected_action": [cared.pk]})
    plain.refresh_from_db()
    cared.refresh_from_db()
    assert plain.status == EscalationProposal.Status.APPROVED
    assert cared.status == EscalationProposal.Status.PENDING
    assert cared.first_decided_by == team_lead and cared.second_decided_by is None

    other = _user_with_role("teamlead2", TEAM_LEAD)
    client.logout()
    login(client, other)
    client.post(changelist, {"action": "approve_selected", "_selected_action": [cared.pk]})
    cared.refresh_from_db()
    assert cared.status == EscalationProposal.Status.APPROVED
    assert cared.second_decided_by == other
