"""The payment link a message carries (owned by the payments work, issue 4).

This first version is the fallback without Mollie: the municipality's own payment page with the
reference. The payments work adds lazily created, reused Mollie payments when MOLLIE_API_KEY is set.
"""

from urllib.parse import urlencode

from django.conf import settings


def payment_link_for(*, claim) -> str:
    query = urlencode({"kenmerk": claim.payment_reference, "bedrag": f"{claim.total_due:.2f}"})
    return f"{settings.MUNICIPALITY['payment_page_url']}?{query}"
