"""The payment link a message carries (renderer hook, docs/contracts: `payment_link_for(claim=)`).

With MOLLIE_API_KEY set: the checkout URL of an iDEAL payment at Mollie for the claim's total due,
created lazily and reused while it is open, unexpired and for the same amount (`dunning.services.mollie`).
Without it, or when Mollie cannot be reached: the municipality's own payment page with the reference
and amount, so a message never goes out without a way to pay.
"""

import logging
from urllib.parse import urlencode

from django.conf import settings

logger = logging.getLogger(__name__)


def municipality_payment_page_for(*, claim) -> str:
    query = urlencode({"kenmerk": claim.payment_reference, "bedrag": f"{claim.total_due:.2f}"})
    return f"{settings.MUNICIPALITY['payment_page_url']}?{query}"


def payment_link_for(*, claim) -> str:
    if settings.MOLLIE_API_KEY and claim.is_open and claim.total_due > 0:
        from dunning.services.mollie import mollie_checkout_url_for

        try:
            url = mollie_checkout_url_for(claim=claim)
        except Exception:  # Mollie down or refusing: the message still gets a working link
            logger.exception("Mollie payment for claim %s failed; using the municipality's page", claim.pk)
        else:
            if url:
                return url
    return municipality_payment_page_for(claim=claim)
