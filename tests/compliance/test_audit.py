"""The audit trail: every change to personal data recorded, values masked completely, entries tagged with the debtor."""

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.apps import apps
from django.db import models
from django.urls import reverse

from compliance.audit import AUDITED_MODELS, EXCLUDED_FIELDS, MASK, NON_PERSONAL_TEXT_FIELDS, PERSONAL_FIELDS
from compliance.selectors import audit_entries
from compliance.services import bulk_change_record
from config.actors import system_user
from customers.models import Debtor
from dunning.models import Claim, Message, Payment
from tests.conftest import PASSWORD
from tests.factories import make_claim, make_debtor, make_policy

pytestmark = pytest.mark.django_db


def test_every_audited_model_is_registered_with_auditlog():
    for label in AUDITED_MODELS:
        assert auditlog.contains(apps.get_model(label)), label


def test_every_text_field_of_an_audited_model_is_classified_personal_or_not():
    """A new text field forces a decision: mask it in the trail (personal) or say why not."""
    text_fields = (models.CharField, models.TextField, models.JSONField, models.FileField)
    for label in PERSONAL_FIELDS:
        model = apps.get_model(label)
        classified = set(PERSONAL_FIELDS[label]) | set(NON_PERSONAL_TEXT_FIELDS.get(label, ()))
        classified |= set(EXCLUDED_FIELDS.get(label, ()))
        unclassified = {
            f.name for f in model._meta.concrete_fields if isinstance(f, text_fields) and f.name not in classified
        }
        assert not unclassified, f"{label}: classify {sorted(unclassified)} in compliance/audit.py"


def test_creating_and_changing_a_debtor_is_logged_with_values_masked_completely():
    with set_actor(system_user()):
        debtor = make_debtor(given_name="Fatima", surname="El Amrani", email="fatima@example.nl")
        debtor.email = "f.elamrani@example.nl"
        debtor.save()
    created, updated = LogEntry.objects.get_for_object(debtor).order_by("id")
    assert created.action == LogEntry.Action.CREATE
    assert updated.changes == {"email": [MASK, MASK]}
    assert updated.actor.username == "system"
    stored = str(created.changes) + created.object_repr + str(updated.changes) + updated.object_repr
    for secret in ("Fatima", "Amrani", "fatima@", "f.elamrani", debtor.source_reference):
        assert secret not in stored
    assert updated.object_repr == f"customers.debtor #{debtor.pk}"
    assert updated.additional_data == {"debtor_id": debtor.pk}


def test_blank_stays_visible_so_the_trail_shows_a_field_was_filled_or_cleared():
    debtor = make_debtor(phone="")
    debtor.phone = "+31612345678"
    debtor.save()
    entry = LogEntry.objects.get_for_object(debtor).latest("id")
    assert entry.changes["phone"] == ["", MASK]


def test_entries_on_claims_and_payments_are_tagged_with_the_debtor():
    debtor = make_debtor()
    claim = make_claim(debtor)
    claim.description = "Aanslag 2026"
    claim.save()
    Payment.objects.create(
        source="api", external_id="x1", amount=1, paid_at=claim.created_at, payer_name="J. Jansen", claim=claim
    )
    other = make_claim()
    entries = audit_entries(debtor_id=debtor.pk)
    models_seen = {e.content_type.model for e in entries}
    assert {"debtor", "claim", "payment"} <= models_seen
    assert not entries.filter(content_type__model="claim", object_id=other.pk).exists()
    payment_entry = entries.get(content_type__model="payment")
    assert payment_entry.changes["payer_name"] == ["None", MASK]


def test_arrangements_and_their_instalments_are_logged_and_tagged_with_the_debtor():
    from datetime import date
    from decimal import Decimal

    from dunning.models import Instalment, PaymentArrangement

    debtor = make_debtor()
    arrangement = PaymentArrangement.objects.create(
        debtor=debtor, total=Decimal("300.00"), starts_on=date(2026, 5, 1), note="Afspraak aan de balie"
    )
    instalment = Instalment.objects.create(
        arrangement=arrangement, number=1, due_on=date(2026, 5, 1), amount=Decimal("100.00")
    )
    entries = audit_entries(debtor_id=debtor.pk)
    assert {"paymentarrangement", "instalment"} <= {e.content_type.model for e in entries}
    assert entries.get(content_type__model="paymentarrangement").changes["note"] == ["None", MASK]
    assert entries.get(content_type__model="instalment", object_id=instalment.pk).action == LogEntry.Action.CREATE


def test_changes_to_cost_rates_are_logged():
    from datetime import date
    from decimal import Decimal

    from dunning.models import CostRate

    rate = CostRate.objects.create(
        regime="tax", kind="aanmaning", valid_from=date(2030, 1, 1), band_from=Decimal("0"), amount=Decimal("9.50")
    )
    assert LogEntry.objects.get_for_object(rate).get().changes["amount"] == ["None", "9.50"]


def test_message_bodies_never_enter_the_trail():
    claim = make_claim(policy=make_policy())
    message = Message.objects.create(
        claim=claim,
        step=claim.policy.steps.first(),
        channel="email",
        tone="friendly",
        scheduled_for=claim.created_at,
        body="Beste Jan, u moet nog 125 euro betalen",
        recipient="jan@example.nl",
    )
    entry = LogEntry.objects.get_for_object(message).get()
    assert "body" not in entry.changes
    assert entry.changes["recipient"] == ["None", MASK]
    assert entry.additional_data == {"debtor_id": claim.debtor_id}


def test_bulk_change_record_summarises_without_personal_data():
    entry = bulk_change_record(model=Claim, action="update", count=1234, reason="engine: costs charged")
    assert entry.action == LogEntry.Action.UPDATE
    assert entry.object_pk == "" and entry.object_id is None
    assert entry.additional_data["count"] == 1234 and entry.additional_data["bulk"] is True
    assert entry.actor.username == "system"


def test_bulk_change_record_takes_the_actor_from_the_auditlog_context(clerk):
    with set_actor(clerk):
        entry = bulk_change_record(model=Claim, action="delete", count=2, reason="test")
    assert entry.actor == clerk and entry.action == LogEntry.Action.DELETE


def test_opening_a_debtor_in_the_admin_writes_an_access_entry_with_the_clerk(client, clerk):
    debtor = make_debtor()
    client.login(username="clerk", password=PASSWORD)
    response = client.get(reverse("admin:customers_debtor_change", args=[debtor.pk]))
    assert response.status_code == 200
    access = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, content_type__model="debtor", object_id=debtor.pk)
    assert access.count() == 1
    assert access.get().actor == clerk
    assert access.get().remote_addr == "127.0.0.1"


def test_opening_a_claim_in_the_admin_writes_an_access_entry_tagged_with_the_debtor(client, clerk):
    claim = make_claim()
    client.login(username="clerk", password=PASSWORD)
    assert client.get(reverse("admin:dunning_claim_change", args=[claim.pk])).status_code == 200
    access = LogEntry.objects.get(action=LogEntry.Action.ACCESS, content_type__model="claim")
    assert access.actor == clerk and access.additional_data == {"debtor_id": claim.debtor_id}


def test_changes_made_in_the_admin_name_the_person(client, superuser):
    debtor = make_debtor()
    client.login(username="admin", password=PASSWORD)
    client.get(reverse("admin:customers_debtor_change", args=[debtor.pk]))
    LogEntry.objects.all().delete()
    with set_actor(superuser):
        Debtor.objects.get(pk=debtor.pk).save()  # no change: no entry
    assert not LogEntry.objects.exclude(action=LogEntry.Action.ACCESS).exists()
