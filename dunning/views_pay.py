"""The citizen's payment link, `/pay/<token>/` (see `dunning.services.payment_links`).

Public and unauthenticated: the token is the only key, so a wrong one is a plain 404 that says nothing
about which claims exist. Nothing here is cached (the target changes as payments arrive), the URL is
not sent on as a referrer, and search engines are asked to stay away.
"""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from dunning.models import Claim
from dunning.services.payment_links import claim_id_for_payment_token, payment_target_for


@never_cache
@require_safe
def pay(request: HttpRequest, token: str) -> HttpResponse:
    claim_id = claim_id_for_payment_token(token)
    claim = Claim.objects.select_related("debtor").filter(pk=claim_id).first() if claim_id else None
    if claim is None:
        raise Http404("No such payment link.")
    target = payment_target_for(claim=claim)
    if target is not None:
        response: HttpResponse = HttpResponseRedirect(target)
    else:
        context = {"paid": claim.status == Claim.Status.PAID, "municipality": settings.MUNICIPALITY}
        response = render(request, "dunning/pay_closed.html", context)
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
