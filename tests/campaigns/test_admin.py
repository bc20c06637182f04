"""Team leads' pages: segments with validation and "explain", templates with allowlist, length and preview."""

import pytest
from django.urls import reverse
from django.utils import translation

from campaigns.models import MessageTemplate, Segment, StepKind
from tests.campaigns.personas import build_world, open_claim, punctual_debtor
from tests.conftest import PASSWORD
from tests.factories import make_template

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def lead_client(client, team_lead):
    client.login(username=team_lead.username, password=PASSWORD)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_changelists_render(lead_client):
    build_world()
    for name in ("segment", "messagetemplate", "dunningpolicy", "policystep"):
        assert lead_client.get(reverse(f"admin:campaigns_{name}_changelist")).status_code == 200


def test_change_pages_render(lead_client):
    world = build_world()
    template = MessageTemplate.objects.filter(channel="sms").first()
    for url in (
        reverse("admin:campaigns_segment_change", args=[world.on_time.pk]),
        reverse("admin:campaigns_messagetemplate_change", args=[template.pk]),
        reverse("admin:campaigns_dunningpolicy_change", args=[world.policy.pk]),
        reverse("admin:campaigns_policystep_change", args=[world.reminder.pk]),
    ):
        response = lead_client.get(url)
        assert response.status_code == 200, url
    response = lead_client.get(reverse("admin:campaigns_messagetemplate_change", args=[template.pk]))
    assert "GSM-7" in response.content.decode() and "heer Van der Berg" in response.content.decode()


def test_segment_form_names_the_bad_attribute(lead_client):
    response = lead_client.post(
        reverse("admin:campaigns_segment_add"),
        {
            "name": "Rijk",
            "purpose": "x",
            "rules": '[{"attribute": "income", "operator": "gt", "value": 100000}]',
            "priority": 5,
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "unknown attribute &#x27;income&#x27;" in response.content.decode()
    assert not Segment.objects.filter(name="Rijk").exists()


def test_segment_edit_bumps_the_version(lead_client):
    world = build_world()
    response = lead_client.post(
        reverse("admin:campaigns_segment_change", args=[world.chronic.pk]),
        {
            "name": world.chronic.name,
            "purpose": world.chronic.purpose,
            "rules": '[{"attribute": "on_time_share_24m", "operator": "lt", "value": 0.4}]',
            "priority": world.chronic.priority,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    world.chronic.refresh_from_db()
    assert world.chronic.version == 2 and world.chronic.rules[0]["value"] == 0.4


def test_template_with_unknown_variable_cannot_be_saved_in_the_admin(lead_client):
    response = lead_client.post(
        reverse("admin:campaigns_messagetemplate_add"),
        {
            "step_kind": StepKind.REMINDER,
            "tone": "friendly",
            "channel": "email",
            "language": "nl",
            "subject": "Herinnering",
            "body": "Beste {{ salutation }}, uw saldo is {{ bank_balance }}.",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "bank_balance" in response.content.decode()
    assert not MessageTemplate.objects.exists()


def test_template_edit_makes_a_new_version(lead_client):
    template = make_template()
    response = lead_client.post(
        reverse("admin:campaigns_messagetemplate_change", args=[template.pk]),
        {
            "step_kind": template.step_kind,
            "tone": template.tone,
            "channel": template.channel,
            "language": template.language,
            "subject": template.subject,
            "body": "Beste {{ salutation }}, wilt u {{ open_amount }} betalen?",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.version == 2


def test_explain_for_a_debtor(lead_client):
    world = build_world()
    debtor = punctual_debtor()
    open_claim(debtor, world)
    response = lead_client.get(reverse("admin:campaigns_segment_explain"), {"debtor": debtor.source_reference})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="chosen-segment">Altijd op tijd' in page
    assert "on_time_share_24m" in page and "1.0" in page
