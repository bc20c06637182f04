"""The payment link a message carries (renderer hook, docs/contracts: `payment_link_for(claim=)`).

A letter or e-mail is read days or weeks after it was rendered, and an iDEAL payment at Mollie expires
after about 15 minutes. So the message carries a stable link to this system, `/pay/<token>/`, and the
Mollie payment is made (or reused) only when the citizen clicks it (`payment_target_for`):

- the claim is open: a valid Mollie payment for what is due *now* (after any partial payment), or,
  without MOLLIE_API_KEY or when Mollie fails, the municipality's own payment page with the reference;
- nothing is due any more: no redirect, the view says so (`dunning.views_pay`).

The token is the claim's id (base 36) and an HMAC of it (SECRET_KEY, own salt, 120 bits): not
guessable, no personal data, and short enough for an SMS. It never expires, because a printed letter
cannot be re-sent; rotate SECRET_KEY with SECRET_KEY_FALLBACKS to keep the links already out working.
"""

import base64
import logging
from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.http import base36_to_int, int_to_base36

logger = logging.getLogger(__name__)

TOKEN_SALT = "dunning.payment-link"  # noqa: S105 (a salt, not a secret)
_SIGNATURE_BYTES = 15  # 120 bits; 20 characters of URL-safe base64 without padding
_SIGNATURE_LENGTH = 20


def _signature(value: str, *, secret: str) -> str:
    digest = salted_hmac(TOKEN_SALT, value, secret=secret, algorithm="sha256").digest()[:_SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).decode()


def payment_token_for(*, claim_id: int) -> str:
    value = int_to_base36(claim_id)
    return f"{value}-{_signature(value, secret=settings.SECRET_KEY)}"


def claim_id_for_payment_token(token: str) -> int | None:
    """The claim id a token names, or None when it was not made here (tampered, truncated, made up)."""
    value, sep, signature = (token or "").partition("-")
    if not sep or not value or len(value) > 13 or len(signature) != _SIGNATURE_LENGTH:
        return None
    for secret in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS):
        if constant_time_compare(signature, _signature(value, secret=secret)):
            try:
                return base36_to_int(value)
            except ValueError:
                return None
    return None


def payment_link_for(*, claim) -> str:
    """The link a message carries: stable, cheap (no call to Mollie while rendering), valid for ever."""
    return settings.PUBLIC_BASE_URL + reverse("pay", kwargs={"token": payment_token_for(claim_id=claim.pk)})


def municipality_payment_page_for(*, claim) -> str:
    query = urlencode({"kenmerk": claim.payment_reference, "bedrag": f"{claim.total_due:.2f}"})
    return f"{settings.MUNICIPALITY['payment_page_url']}?{query}"


def payment_target_for(*, claim, now: datetime | None = None) -> str | None:
    """Where a click on the claim's payment link goes right now; None when nothing is left to pay.

    With MOLLIE_API_KEY: the checkout of an open, unexpired Mollie payment for the claim's current total
    due, created when there is none (`mollie_checkout_url_for`). Without it, or when Mollie cannot be
    reached or refuses: the municipality's own payment page, so a click never ends in an error.
    """
    if not claim.is_open or claim.total_due <= 0:
        return None
    if settings.MOLLIE_API_KEY:
        from dunning.services.mollie import mollie_checkout_url_for

        try:
            url = mollie_checkout_url_for(claim=claim, now=now)
        except Exception:  # Mollie down or refusing: the citizen still gets a way to pay
            logger.exception("Mollie payment for claim %s failed; using the municipality's page", claim.pk)
        else:
            if url:
                return url
    return municipality_payment_page_for(claim=claim)
