"""SMS behind a small backend interface; settings.SMS_BACKEND picks the class.

- ConsoleSMSBackend: development; logs the text.
- InMemorySMSBackend: tests; keeps every SMS in `InMemorySMSBackend.outbox`.
- CMSMSBackend: CM.com's Business Messaging JSON API (EU provider, Dutch numbers), via `requests`.
"""

from __future__ import annotations

import itertools
import logging
import uuid
from dataclasses import dataclass

import requests
from django.conf import settings
from django.utils.module_loading import import_string

from campaigns.templating import SMS_MAX_PARTS, sms_length
from dunning.channels.base import PermanentChannelError, SendResult, TransientChannelError

logger = logging.getLogger(__name__)


class SMSBackend:
    def send(self, *, to: str, body: str, reference: str) -> SendResult:  # pragma: no cover - interface
        raise NotImplementedError


def get_sms_backend() -> SMSBackend:
    return import_string(settings.SMS_BACKEND)()


class ConsoleSMSBackend(SMSBackend):
    def send(self, *, to: str, body: str, reference: str) -> SendResult:
        logger.info("SMS to %s (%s):\n%s", to, reference, body)
        return SendResult(provider_id=f"console-{uuid.uuid4().hex}", recipient=to, parts=sms_length(body).parts)


@dataclass(frozen=True)
class SentSMS:
    to: str
    body: str
    reference: str
    provider_id: str


class InMemorySMSBackend(SMSBackend):
    """For tests: `outbox` collects what was sent; put exceptions in `fail_next` to make sends fail."""

    outbox: list[SentSMS] = []
    fail_next: list[Exception] = []
    _ids = itertools.count(1)

    @classmethod
    def reset(cls) -> None:
        cls.outbox.clear()
        cls.fail_next.clear()

    def send(self, *, to: str, body: str, reference: str) -> SendResult:
        if self.fail_next:
            raise self.fail_next.pop(0)
        provider_id = f"mem-sms-{next(self._ids)}"
        self.outbox.append(SentSMS(to=to, body=body, reference=reference, provider_id=provider_id))
        return SendResult(provider_id=provider_id, recipient=to, parts=sms_length(body).parts)


# CM.com error codes (Business Messaging API): which ones make a retry pointless.
CM_RETRYABLE = {102, 500, 999}  # insufficient balance (a clerk tops up), CM internal / unknown errors
CM_INVALID_RECIPIENT = {302, 303}  # invalid "to", invalid MSISDN


class CMSMSBackend(SMSBackend):
    """POST https://gw.messaging.cm.com/v1.0/message with the product token (settings.SMS_CM_PRODUCT_TOKEN)."""

    timeout = 10

    def send(self, *, to: str, body: str, reference: str) -> SendResult:
        token = settings.SMS_CM_PRODUCT_TOKEN
        if not token:
            raise PermanentChannelError("SMS_CM_PRODUCT_TOKEN is not set")
        payload = {
            "messages": {
                "authentication": {"producttoken": token},
                "msg": [
                    {
                        "allowedChannels": ["SMS"],
                        "from": settings.SMS_SENDER,
                        "to": [{"number": to}],
                        "body": {"type": "auto", "content": body},
                        "reference": reference,
                        "minimumNumberOfMessageParts": 1,
                        "maximumNumberOfMessageParts": SMS_MAX_PARTS,
                    }
                ],
            }
        }
        try:
            response = requests.post(settings.SMS_CM_URL, json=payload, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as error:
            raise TransientChannelError(f"CM.com unreachable: {error}")
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientChannelError(f"CM.com HTTP {response.status_code}: {response.text[:200]}")
        error_code = data.get("errorCode", 0 if response.ok else None)
        message = (data.get("messages") or [{}])[0]
        message_error = message.get("messageErrorCode") or 0
        if response.ok and error_code == 0 and message_error == 0:
            parts = message.get("parts") or sms_length(body).parts
            return SendResult(provider_id=message.get("reference") or reference, recipient=to, parts=int(parts))
        code = message_error or error_code
        detail = message.get("messageDetails") or data.get("details") or response.text[:200]
        text = f"CM.com error {code} (HTTP {response.status_code}): {detail}"
        if code in CM_RETRYABLE:
            raise TransientChannelError(text)
        raise PermanentChannelError(text, invalid_recipient=code in CM_INVALID_RECIPIENT)
