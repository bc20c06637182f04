"""The payments admin: the clerk queue renders, a clerk matches a payment, a statement is uploaded."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dunning.models import Claim, Message, MolliePayment, Payment
from dunning.services.payments import payment_record
from tests.conftest import PASSWORD
from tests.dunning.payment_helpers import plan_message
from tests.factories import make_claim, make_policy

pytestmark = pytest.mark.django_db
REAL = Path(settings.BASE_DIR).parent / "shared" / "testdata" / "real"


def unmatched_payment(amount="125.00", external_id="u1"):
    from django.utils import timezone

    return payment_record(
        source="bank-x",
        external_id=external_id,
        amount=Decimal(amount),
        paid_at=timezone.now(),
        reference_text="onbekende betaling",
        payer_name="J. Jansen",
    ).payment


@pytest.fixture
def clerk_client(client, clerk):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # assertions read the English texts
    client.login(username=clerk.username, password=PASSWORD)
    return client


def test_the_changelists_render_with_the_queue_filter(clerk_client):
    unmatched_payment()
    claim = make_claim()
    MolliePayment.objects.create(claim=claim, mollie_id="tr_x1", amount=Decimal("1.00"))
    url = reverse("admin:dunning_payment_changelist")
    for query in ("", "?queue=unmatched", "?queue=refund"):
        response = clerk_client.get(url + query)
        assert response.status_code == 200
    response = clerk_client.get(url + "?queue=unmatched")
    assert b"J. Jansen" in response.content
    assert b"Import bank statement" in response.content
    assert clerk_client.get(reverse("admin:dunning_payment_change", args=[Payment.objects.get().pk])).status_code == 200


def test_a_clerk_matches_a_payment_and_the_reminders_stop(clerk_client, clerk):
    policy = make_policy()
    claim = make_claim(policy=policy)
    message = plan_message(claim, policy.steps.first())
    payment = unmatched_payment()
    url = reverse("admin:dunning_payment_match", args=[payment.pk])
    assert clerk_client.get(url).status_code == 200

    spaced = " ".join(claim.payment_reference[i : i + 4] for i in range(0, 16, 4))
    response = clerk_client.post(url, {"claim_reference": spaced})

    assert response.status_code == 302
    payment.refresh_from_db()
    claim.refresh_from_db()
    message.refresh_from_db()
    assert payment.claim == claim and payment.matched_by == clerk
    assert claim.status == Claim.Status.PAID
    assert message.status == Message.Status.CANCELLED


def test_matching_to_an_unknown_reference_shows_the_error(clerk_client):
    payment = unmatched_payment()
    response = clerk_client.post(reverse("admin:dunning_payment_match", args=[payment.pk]), {"claim_reference": "1234"})
    assert response.status_code == 200
    assert b"No claim has this payment reference" in response.content
    payment.refresh_from_db()
    assert payment.match_status == Payment.MatchStatus.UNMATCHED


def test_the_match_action_redirects_to_the_form_for_one_payment(clerk_client):
    payment = unmatched_payment()
    response = clerk_client.post(
        reverse("admin:dunning_payment_changelist"),
        {"action": "match_selected", "_selected_action": [payment.pk]},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:dunning_payment_match", args=[payment.pk])


def test_without_the_match_permission_the_form_is_forbidden(client, compliance_officer):
    client.login(username=compliance_officer.username, password=PASSWORD)
    payment = unmatched_payment()
    assert client.get(reverse("admin:dunning_payment_match", args=[payment.pk])).status_code == 403
    assert client.get(reverse("admin:dunning_payment_import_statement")).status_code == 403


def test_a_statement_upload_previews_then_imports(clerk_client):
    path = REAL / "mt940" / "oca_ing_structured.940"
    if not path.exists():
        pytest.skip("real MT940 sample absent")
    url = reverse("admin:dunning_payment_import_statement")
    assert clerk_client.get(url).status_code == 200

    preview = clerk_client.post(url, {"file": SimpleUploadedFile("ing.940", path.read_bytes())})
    assert preview.status_code == 200
    assert preview.context["report"].counts == {"matched": 0, "unmatched": 3, "duplicate": 0, "skipped": 5}
    assert not Payment.objects.exists()

    content = preview.context["form"].initial["content"]
    done = clerk_client.post(url, {"content": content, "filename": "ing.940", "confirm": "1"})
    assert done.status_code == 302
    assert Payment.objects.filter(source="mt940").count() == 3


def test_a_malformed_upload_is_reported_and_nothing_stored(clerk_client):
    url = reverse("admin:dunning_payment_import_statement")
    response = clerk_client.post(url, {"file": SimpleUploadedFile("x.xml", b"<Document><broken>")}, follow=True)
    assert response.status_code == 200
    assert b"Nothing was stored" in response.content
    assert not Payment.objects.exists()


def test_superuser_sees_the_mollie_payments(client, superuser):
    client.login(username=superuser.username, password=PASSWORD)
    MolliePayment.objects.create(claim=make_claim(), mollie_id="tr_abc", amount=Decimal("1.00"))
    assert client.get(reverse("admin:dunning_molliepayment_changelist")).status_code == 200
