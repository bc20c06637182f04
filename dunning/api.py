"""HTTP entry points for money arriving: the signed payments API and Mollie's webhook.

Views stay thin: authenticate, validate, call `dunning.services.payments.payment_record`, answer.

`POST /api/v1/payments/` (docs/CONTRACTS.md): JSON body signed with HMAC-SHA256 over the raw bytes,
header `X-Signature: sha256=<hex>`. 201 recorded and matched to a claim; 200 already recorded (same
source + external_id; nothing happens again, the body describes the stored payment); 202 recorded but
no claim matches (a clerk matches it); 400 with {"errors": {field: [messages]}}; 401 bad signature;
405 not POST; 413 body larger than MAX_BODY_BYTES.
"""

import hashlib
import hmac
import json
import logging
import re
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dunning.models import Payment
from dunning.services.mollie import mollie_payment_sync
from dunning.services.payments import payment_record

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024
FUTURE_SKEW = timedelta(minutes=5)
MAX_AMOUNT = Decimal("9999999999.99")  # fits DecimalField(max_digits=12, decimal_places=2)
# Sources this system writes itself; an API caller may not pose as them (it could block a real id).
RESERVED_SOURCES = {Payment.Source.MOLLIE, Payment.Source.CAMT053, Payment.Source.MT940, Payment.Source.CLERK}
_SOURCE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
_REQUIRED = "This field is required."


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def signature_for(body: bytes, secret: str) -> str:
    """The X-Signature header value for `body`; senders (and tests, and the bench) use the same."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _signature_ok(request: HttpRequest, body: bytes) -> bool:
    secret = settings.PAYMENTS_WEBHOOK_SECRET
    given = request.headers.get("X-Signature", "")
    if not secret or not given:
        return False
    return hmac.compare_digest(signature_for(body, secret).encode(), given.strip().encode())


def _str_field(data: dict, name: str, errors: dict, *, max_length: int, required: bool = True) -> str:
    value = data.get(name)
    if value is None:
        if required:
            errors[name] = [_REQUIRED]
        return ""
    if not isinstance(value, str):
        errors[name] = ["Must be a string."]
        return ""
    value = value.strip()
    if required and not value:
        errors[name] = ["Must not be empty."]
    elif len(value) > max_length:
        errors[name] = [f"At most {max_length} characters."]
    return value


def _validate(data: dict, *, now: datetime) -> tuple[dict, dict]:
    """Clean fields and an errors dict naming every bad field (empty when all is well)."""
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    cleaned["external_id"] = _str_field(data, "external_id", errors, max_length=120)
    cleaned["reference_text"] = _str_field(data, "reference", errors, max_length=500, required=False)
    if "reference" not in data:
        errors["reference"] = [_REQUIRED]
    source = _str_field(data, "source", errors, max_length=40)
    if "source" not in errors:
        if not _SOURCE_RE.match(source):
            errors["source"] = ["Use lower-case letters, digits, '.', '_' or '-' (at most 40)."]
        elif source in RESERVED_SOURCES:
            errors["source"] = [f"'{source}' is reserved for payments this system records itself."]
    cleaned["source"] = source

    raw_amount = data.get("amount")
    if raw_amount is None:
        errors["amount"] = [_REQUIRED]
    elif isinstance(raw_amount, bool) or not isinstance(raw_amount, str | int | Decimal):
        errors["amount"] = ['Must be a decimal string, e.g. "12.34".']
    else:
        try:
            amount = Decimal(str(raw_amount).strip())
        except InvalidOperation:
            errors["amount"] = ['Must be a decimal number, e.g. "12.34".']
        else:
            if not amount.is_finite():
                errors["amount"] = ["Must be a finite number."]
            elif amount <= 0:
                errors["amount"] = ["Must be greater than zero."]
            elif amount > MAX_AMOUNT:
                errors["amount"] = [f"At most {MAX_AMOUNT}."]
            elif amount != amount.quantize(Decimal("0.01")):
                errors["amount"] = ["At most 2 decimal places."]
            else:
                cleaned["amount"] = amount.quantize(Decimal("0.01"))

    currency = data.get("currency")
    if currency is None:
        errors["currency"] = [_REQUIRED]
    elif currency != "EUR":
        errors["currency"] = ['Only "EUR" is accepted.']
    cleaned["currency"] = "EUR"

    raw_paid_at = data.get("paid_at")
    if raw_paid_at is None:
        errors["paid_at"] = [_REQUIRED]
    elif not isinstance(raw_paid_at, str):
        errors["paid_at"] = ["Must be an ISO 8601 date-time string."]
    else:
        try:
            paid_at = datetime.fromisoformat(raw_paid_at.strip())
        except ValueError:
            errors["paid_at"] = ["Must be an ISO 8601 date-time, e.g. 2026-03-01T12:00:00+01:00."]
        else:
            if paid_at.tzinfo is None or paid_at.utcoffset() is None:
                errors["paid_at"] = ["Must include a time-zone offset (e.g. +01:00 or Z)."]
            elif paid_at > now + FUTURE_SKEW:
                errors["paid_at"] = ["Must not be in the future."]
            else:
                cleaned["paid_at"] = paid_at
    return cleaned, errors


def _payment_body(payment: Payment) -> dict:
    """What we answer about a stored payment; the same for the first request and every repeat."""
    return {
        "id": payment.pk,
        "source": payment.source,
        "external_id": payment.external_id,
        "amount": f"{payment.amount:.2f}",
        "currency": payment.currency,
        "match_status": payment.match_status,
        "claim_reference": payment.claim.payment_reference if payment.claim_id else None,
        "refund_amount": f"{payment.refund_amount:.2f}",
    }


@csrf_exempt
def payments_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        response = _error(405, "Only POST is allowed.")
        response["Allow"] = "POST"
        return response
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _error(400, "Invalid Content-Length.")
    if declared > MAX_BODY_BYTES:
        return _error(413, f"Body larger than {MAX_BODY_BYTES} bytes.")
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return _error(413, f"Body larger than {MAX_BODY_BYTES} bytes.")
    if not _signature_ok(request, body):
        return _error(401, "Missing or invalid X-Signature (sha256=<hex HMAC-SHA256 of the raw body>).")
    try:
        data = json.loads(body, parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return JsonResponse({"errors": {"body": ["Not valid JSON."]}}, status=400)
    if not isinstance(data, dict):
        return JsonResponse({"errors": {"body": ["Must be a JSON object."]}}, status=400)

    cleaned, errors = _validate(data, now=timezone.now())
    if errors:
        return JsonResponse({"errors": errors}, status=400)

    result = payment_record(
        source=cleaned["source"],
        external_id=cleaned["external_id"],
        amount=cleaned["amount"],
        paid_at=cleaned["paid_at"],
        currency=cleaned["currency"],
        reference_text=cleaned["reference_text"],
    )
    payment = result.payment
    if not result.created:
        status = 200
    elif payment.claim_id is None:
        status = 202
    else:
        status = 201
    return JsonResponse(_payment_body(payment), status=status)


@csrf_exempt
@require_POST
def mollie_webhook(request: HttpRequest) -> HttpResponse:
    """Mollie posts `id=tr_...`; only what Mollie's API says about that id counts.

    Mollie's advice: answer 200 even for unknown ids (nothing leaks). A failure to reach Mollie answers
    503 so that Mollie retries (10 attempts over about 26 hours).
    """
    mollie_id = (request.POST.get("id") or "").strip()
    if not re.fullmatch(r"tr_[A-Za-z0-9]{1,64}", mollie_id):
        return HttpResponse(status=200)
    try:
        mollie_payment_sync(mollie_id=mollie_id)
    except Exception:
        logger.exception("Mollie webhook: could not process %s", mollie_id)
        return HttpResponse(status=503)
    return HttpResponse(status=200)
