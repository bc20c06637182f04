"""Data-subject requests: a complete art. 15 export, erasure within the law, objection as an opt-out."""

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.core.management import call_command
from django.urls import reverse

from compliance.models import DataSubjectRequest
from compliance.selectors import subject_export
from compliance.services import (
    ANONYMISED_NAME,
    subject_request_erase,
    subject_request_export,
    subject_request_object,
    subject_request_register,
)
from customers.models import CareFlag, ChannelPreference, Debtor
from dunning.models import Claim, DeliveryEvent, EscalationProposal, Message, Pause, Payment
from tests.factories import make_care_flag, make_claim, make_debtor, make_policy, make_preference

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))


@pytest.fixture
def person():
    """A debtor with one of everything the system can hold about a person."""
    policy = make_policy()
    debtor = make_debtor(given_name="Sanne", surname="de Vries", email="sanne@example.nl")
    make_preference(debtor, note="Belt liever niet")
    make_care_flag(debtor, ends_on=date(2026, 12, 31))
    claim = make_claim(debtor, policy=policy, description="Afvalstoffenheffing 2026")
    message = Message.objects.create(
        claim=claim,
        step=policy.steps.first(),
        channel="email",
        tone="friendly",
        scheduled_for=NOW,
        status=Message.Status.SENT,
        recipient=debtor.email,
        subject="Herinnering",
        body="Beste Sanne de Vries, ...",
        sent_at=NOW,
    )
    DeliveryEvent.objects.create(message=message, kind="delivered", occurred_at=NOW, description="250 OK")
    EscalationProposal.objects.create(claim=claim, step=policy.steps.last(), decision_reason="Geen reactie")
    Payment.objects.create(
        source="api",
        external_id="p-1",
        amount=Decimal("25.00"),
        paid_at=NOW,
        payer_name="S. de Vries",
        payer_account="NL02RABO0123456789",
        claim=claim,
    )
    Pause.objects.create(claim=claim, reason=Pause.Reason.ARRANGEMENT, starts_at=NOW, ends_at=NOW + timedelta(days=1))
    Pause.objects.create(debtor=debtor, reason=Pause.Reason.OTHER, starts_at=NOW, ends_at=NOW + timedelta(days=1))
    DataSubjectRequest.objects.create(debtor=debtor, kind="access", received_on=date(2026, 5, 20))
    return debtor


def _keys_of(rows: list[dict]) -> set[str]:
    keys = set()
    for row in rows:
        keys |= set(row)
    return keys


def test_the_export_holds_every_field_of_every_model_about_the_person(person):
    data = json.loads(json.dumps(subject_export(debtor=person), default=str))
    claim = data["claims"][0]
    message = claim["messages"][0]
    sections = {
        Debtor: [data["debtor"]],
        ChannelPreference: [data["channel_preference"]],
        CareFlag: data["care_flags"],
        Claim: [claim],
        Payment: claim["payments"],
        Pause: claim["pauses"] + data["pauses"],
        Message: [message],
        DeliveryEvent: message["events"],
        EscalationProposal: claim["proposals"],
        DataSubjectRequest: data["subject_requests"],
    }
    for model, rows in sections.items():
        assert rows, model
        expected = {field.name for field in model._meta.concrete_fields}
        missing = expected - _keys_of(rows)
        assert not missing, f"{model.__name__}: {sorted(missing)} missing from the export"
    # And every model of the system that points at a claim or a debtor is in the export under its name.
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            target = getattr(field, "related_model", None)
            if field.many_to_one and target in (Claim, Debtor) and model is not LogEntry:
                accessor = field.remote_field.get_accessor_name()
                holder = claim if target is Claim else data
                assert accessor in holder, f"{model.__name__} ({accessor}) missing from the export"
    assert message["body"] == "Beste Sanne de Vries, ..."
    assert data["debtor"]["email"] == "sanne@example.nl"
    assert data["processing"]["retention"]


def test_the_export_is_itself_access_logged_and_lists_who_looked_by_role(person, client, clerk):
    client.force_login(clerk)
    client.get(reverse("admin:customers_debtor_change", args=[person.pk]))
    data = subject_export(debtor=person, actor=clerk)
    accesses = [e for e in data["audit_trail"] if e["action"] == "access"]
    assert accesses and all(e["by"] == "Clerk" for e in accesses)
    assert "clerk" not in json.dumps(data["audit_trail"])  # roles, not employee names
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_id=person.pk, actor=clerk).count() == 2


def test_export_subject_command_prints_json(person):
    out = StringIO()
    call_command("export_subject", str(person.pk), stdout=out)
    data = json.loads(out.getvalue())
    assert data["debtor"]["id"] == person.pk
    access = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_id=person.pk)
    assert access.filter(actor__username="system").exists()


def test_access_request_export_closes_the_request(person, compliance_officer):
    request = subject_request_register(debtor=person, kind="access", received_on=date(2026, 1, 31))
    assert request.deadline == date(2026, 2, 28)
    subject_request_export(request=request, now=NOW, actor=compliance_officer)
    request.refresh_from_db()
    assert request.status == DataSubjectRequest.Status.DONE and request.handled_by == compliance_officer


def test_admin_action_downloads_the_export(person, client, compliance_officer):
    request = DataSubjectRequest.objects.filter(debtor=person).get()
    client.force_login(compliance_officer)
    response = client.post(
        reverse("admin:compliance_datasubjectrequest_changelist"),
        {"action": "export_json", "_selected_action": [request.pk]},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert json.loads(response.content)["debtor"]["surname"] == "de Vries"


def test_erasure_is_refused_with_reason_while_a_claim_is_open(person):
    request = subject_request_register(debtor=person, kind="erasure")
    outcome = subject_request_erase(request=request, now=NOW)
    assert not outcome.done
    request.refresh_from_db()
    assert request.status == DataSubjectRequest.Status.REFUSED
    assert "vordering open" in request.outcome and "claim is still open" in request.outcome
    person.refresh_from_db()
    assert person.surname == "de Vries"


def test_erasure_anonymises_but_keeps_the_financial_history(person, compliance_officer):
    claim = person.claims.get()
    Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.PAID, open_amount=0, settled_at=NOW)
    DataSubjectRequest.objects.filter(debtor=person).update(status=DataSubjectRequest.Status.DONE)
    request = subject_request_register(debtor=person, kind="erasure")
    later = NOW + timedelta(days=3)
    outcome = subject_request_erase(request=request, now=later, actor=compliance_officer)
    assert outcome.done
    person.refresh_from_db()
    assert person.surname == ANONYMISED_NAME and person.email == "" and person.anonymised_at == later
    assert person.source_reference == f"ANON-{person.pk}"
    claim.refresh_from_db()
    assert claim.principal == Decimal("125.00") and claim.status == Claim.Status.PAID
    payment = Payment.objects.get(claim=claim)
    assert payment.amount == Decimal("25.00") and payment.payer_name == "" and payment.payer_account == ""
    message = Message.objects.get(claim=claim)
    assert message.body == "" and message.recipient == "" and message.sent_at == NOW
    assert DeliveryEvent.objects.get(message=message).description == ""
    assert not CareFlag.objects.filter(debtor=person).exists()
    assert ChannelPreference.objects.get(debtor=person).note == ""
    request.refresh_from_db()
    assert request.status == DataSubjectRequest.Status.DONE and "7 jaar" in request.outcome
    summary = LogEntry.objects.filter(additional_data__bulk=True, content_type__model="debtor").get()
    assert summary.actor == compliance_officer and f"#{request.pk}" in summary.additional_data["reason"]


def test_objection_to_sms_becomes_an_opt_out(person, compliance_officer):
    ChannelPreference.objects.filter(debtor=person).update(preferred_channels=["sms", "email"])
    request = subject_request_register(debtor=person, kind="objection", channel="sms")
    outcome = subject_request_object(request=request, now=NOW, actor=compliance_officer)
    assert outcome.done
    preference = ChannelPreference.objects.get(debtor=person)
    assert preference.sms_opt_out and preference.preferred_channels == ["email"]
    assert preference.recorded_by == compliance_officer
    assert LogEntry.objects.get_for_object(preference).filter(changes__has_key="sms_opt_out").exists()


def test_objection_to_letters_is_refused_with_the_reason(person):
    request = subject_request_register(debtor=person, kind="objection", channel="letter")
    outcome = subject_request_object(request=request, now=NOW)
    assert not outcome.done and "aanmaning" in outcome.message


def test_an_open_request_is_a_hold_and_overdue_after_a_month(person):
    request = DataSubjectRequest.objects.get(debtor=person)
    assert request.deadline == date(2026, 6, 20)
    assert not request.is_overdue(date(2026, 6, 20)) and request.is_overdue(date(2026, 6, 21))


def test_clerk_can_register_a_request_but_not_carry_it_out(person, client, clerk):
    client.force_login(clerk)
    response = client.post(
        reverse("admin:compliance_datasubjectrequest_add"),
        {"debtor": person.pk, "kind": "erasure", "channel": "", "received_on": "2026-06-01", "details": "per telefoon"},
    )
    assert response.status_code == 302
    request = DataSubjectRequest.objects.get(kind="erasure")
    assert request.deadline == date(2026, 7, 1)
    response = client.post(
        reverse("admin:compliance_datasubjectrequest_changelist"),
        {"action": "carry_out_erasure", "_selected_action": [request.pk]},
    )
    request.refresh_from_db()
    assert request.status == DataSubjectRequest.Status.OPEN
