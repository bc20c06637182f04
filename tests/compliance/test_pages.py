"""Compliance pages: the audit trail by debtor, its CSV export, the register, minimisation per template."""

import csv
import io
import json

import pytest
from auditlog.models import LogEntry
from django.test import override_settings
from django.urls import reverse

from compliance.admin import debtor_trail_url
from compliance.models import RetentionRule
from compliance.selectors import template_minimisation, template_variables
from tests.factories import make_claim, make_debtor, make_segment, make_template

pytestmark = pytest.mark.django_db


def test_who_viewed_or_changed_debtor_x_in_one_click(client, clerk, compliance_officer):
    debtor = make_debtor()
    claim = make_claim(debtor)
    other = make_debtor()
    client.force_login(clerk)
    client.get(reverse("admin:dunning_claim_change", args=[claim.pk]))
    client.force_login(compliance_officer)
    response = client.get(debtor_trail_url(debtor.pk))
    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert {e.content_type.model for e in shown} >= {"debtor", "claim"}
    assert any(e.action == LogEntry.Action.ACCESS and e.actor == clerk for e in shown)
    assert not any(e.object_id == other.pk and e.content_type.model == "debtor" for e in shown)


def test_the_trail_filters_by_actor_model_action_and_period(client, clerk, compliance_officer):
    debtor = make_debtor()
    client.force_login(clerk)
    client.get(reverse("admin:customers_debtor_change", args=[debtor.pk]))
    client.force_login(compliance_officer)
    url = reverse("admin:auditlog_logentry_changelist")
    response = client.get(url, {"actor": clerk.pk, "model": "customers.debtor", "action__exact": 3})
    shown = list(response.context["cl"].result_list)
    assert len(shown) == 1 and shown[0].actor == clerk
    entry = shown[0]
    day = entry.timestamp
    response = client.get(url, {"timestamp__year": day.year, "timestamp__month": day.month, "timestamp__day": day.day})
    assert entry in list(response.context["cl"].result_list)
    response = client.get(url, {"timestamp__year": day.year - 3})
    assert not list(response.context["cl"].result_list)
    # The change page shows the entry; no save button exists.
    page = client.get(reverse("admin:auditlog_logentry_change", args=[entry.pk]))
    assert page.status_code == 200 and b'name="_save"' not in page.content


def test_csv_export_follows_the_filters_and_is_itself_recorded(client, compliance_officer):
    debtor = make_debtor(given_name="Zeynep")
    make_debtor()
    client.force_login(compliance_officer)
    response = client.get(reverse("admin:auditlog_logentry_export"), {"debtor": debtor.pk})
    assert response.status_code == 200
    content = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(content)))
    assert rows and all(row["debtor_id"] == str(debtor.pk) or row["object_id"] == str(debtor.pk) for row in rows)
    assert "Zeynep" not in content
    record = LogEntry.objects.get(content_type__model="logentry", action=LogEntry.Action.ACCESS)
    assert record.actor == compliance_officer and record.additional_data["count"] == len(rows)


@override_settings(EMAIL_BACKEND="anymail.backends.brevo.EmailBackend", SMS_BACKEND="acme.sms.MessageBird")
def test_register_of_processing_is_generated_from_the_system(client, compliance_officer):
    make_segment(name="Heeft hulp nodig", purpose="Mensen die hulp nodig hebben vriendelijk benaderen")
    RetentionRule.objects.filter(category="care_flags").update(period=4)
    client.force_login(compliance_officer)
    page = client.get(reverse("compliance-register"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Heeft hulp nodig" in text and "vriendelijk benaderen" in text
    assert "brevo" in text and "acme.sms.MessageBird" in text and "Mollie" in text
    assert "4 months" in text or "4 maanden" in text
    exported = json.loads(client.get(reverse("compliance-register"), {"format": "json"}).content)
    debtor_fields = next(c for c in exported["personal_data"] if c["model"] == "customers.debtor")["fields"]
    assert {"email", "phone", "surname"} <= {f["field"] for f in debtor_fields}
    exported_csv = client.get(reverse("compliance-register"), {"format": "csv"}).content.decode()
    csv_rows = list(csv.reader(io.StringIO(exported_csv)))
    assert csv_rows[0] == ["section", "item", "detail"]
    assert any(row[0] == "recipient" and "brevo" in row[1] for row in csv_rows)


def test_minimisation_shows_the_personal_fields_each_template_uses(client, clerk):
    template = make_template(
        subject="Herinnering {{ claim_reference }}",
        body="Beste {{ salutation }}, {% if open_amount %}nog {{ open_amount|default:'' }}{% endif %} "
        "{{ postal_address }}",
    )
    result = template_minimisation(template)
    assert result["personal"] == ["open_amount", "postal_address", "salutation"]
    assert "claim_reference" in result["used"]
    assert result["not_allowed"] == ["postal_address"]  # a reminder may not use the postal address
    client.force_login(clerk)
    page = client.get(reverse("compliance-minimisation"))
    assert page.status_code == 200 and b"postal_address" in page.content


def test_template_variables_ignores_filters_strings_and_keywords():
    names = template_variables("{{ a.b|date:'j F' }} {% if x and not y %}{{ 'lit' }}{% endif %} {% for c in claims %}")
    assert {"a", "x", "y", "claims"} <= names
    assert not names & {"date", "and", "not", "lit", "in"}
