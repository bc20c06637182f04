"""iDEAL through Mollie: create payments when a citizen clicks a claim's payment link, and sync a payment
when Mollie calls back.

Only what Mollie's API returns counts: the webhook body carries nothing but an id (no signature), so
`mollie_payment_sync` fetches the payment and records it through `payment_record` when it is paid
(source "mollie", external_id = the tr_ id; idempotent, so Mollie's retries change nothing).
"""

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import urlparse

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from mollie.api.client import Client
from mollie.api.error import NotFoundError

from dunning.models import Claim, MolliePayment, Payment
from dunning.services.payments import PaymentRecorded, payment_record

logger = logging.getLogger(__name__)

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "testserver"}
# iDEAL payments expire about 15 minutes after they are created; one closer than this to its end is
# not handed out again.
REUSE_MARGIN = timedelta(minutes=5)


def mollie_client() -> Client:
    client = Client(timeout=(2, 10))
    client.set_api_key(settings.MOLLIE_API_KEY)
    client.set_user_agent_component("Dunning", "1.0")
    return client


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _webhook_url() -> str | None:
    """Mollie refuses webhook URLs it cannot reach; on a local set-up we leave it out."""
    base = settings.PUBLIC_BASE_URL
    if (urlparse(base).hostname or "") in _LOCAL_HOSTS:
        return None
    return base + reverse("mollie-webhook")


def mollie_payment_create(*, claim: Claim, amount: Decimal) -> MolliePayment:
    """Create a payment at Mollie for `amount` with the claim's reference in its metadata, and store it."""
    data = {
        "amount": {"currency": "EUR", "value": f"{amount:.2f}"},
        "description": f"Betalingskenmerk {claim.payment_reference}",
        "redirectUrl": settings.MUNICIPALITY["payment_page_url"],
        "metadata": {"payment_reference": claim.payment_reference, "claim_id": claim.pk},
        "method": "ideal",
        "locale": "en_US" if claim.debtor.language == "en" else "nl_NL",
    }
    webhook = _webhook_url()
    if webhook:
        data["webhookUrl"] = webhook
    created = mollie_client().payments.create(data)
    return MolliePayment.objects.create(
        claim=claim,
        mollie_id=created.id,
        checkout_url=created.checkout_url or "",
        amount=Decimal(created.amount["value"]),
        status=created.status or "open",
        expires_at=_parse_time(created.expires_at),
    )


def mollie_checkout_url_for(*, claim: Claim, now: datetime | None = None) -> str:
    """The checkout URL of a valid open Mollie payment for the claim's total due, created when needed.

    Reused only while it is open, for exactly what is due now (a partial payment since makes a new one)
    and has REUSE_MARGIN left before it expires: the citizen still has to pick a bank and confirm.
    """
    now = now or timezone.now()
    amount = claim.total_due
    for existing in MolliePayment.objects.filter(claim=claim, status="open").order_by("-created_at", "-id")[:3]:
        if existing.is_reusable_for(amount=amount, moment=now + REUSE_MARGIN):
            return existing.checkout_url
    return mollie_payment_create(claim=claim, amount=amount).checkout_url


def mollie_payment_sync(*, mollie_id: str) -> PaymentRecorded | None:
    """Fetch `mollie_id` from Mollie, store its status, and record it as a payment when paid.

    Unknown ids (Mollie answers 404) are ignored. Returns what `payment_record` did, or None.
    """
    try:
        fetched = mollie_client().payments.get(mollie_id)
    except NotFoundError:
        logger.warning("Mollie webhook for unknown payment %s", mollie_id)
        return None
    local = MolliePayment.objects.filter(mollie_id=fetched.id).select_related("claim").first()
    if local is not None and local.status != fetched.status:
        local.status = fetched.status
        local.save(update_fields=["status", "updated_at"])
    if fetched.status != "paid":
        return None
    metadata = fetched.metadata if isinstance(fetched.metadata, dict) else {}
    reference = str(metadata.get("payment_reference") or "")
    if not reference and local is not None:
        reference = local.claim.payment_reference
    amount = fetched.amount or {}
    details = fetched.details or {}
    return payment_record(
        source=Payment.Source.MOLLIE,
        external_id=fetched.id,
        amount=Decimal(amount["value"]),
        currency=amount.get("currency", "EUR"),
        paid_at=_parse_time(fetched.paid_at) or timezone.now(),
        reference_text=reference,
        payer_name=details.get("consumerName") or "",
        payer_account=details.get("consumerAccount") or "",
    )
