"""E-mail through django-anymail: the ESP is chosen by settings.EMAIL_BACKEND (see docs/channels.md).

The provider's message id (`anymail_status.message_id`) is stored on the Message; the tracking webhook
finds the message by it. Errors: a refused recipient is permanent (and the address invalid); an API error
with a 4xx status other than 429 is permanent; everything else (5xx, 429, network) is retried.
"""

from __future__ import annotations

import smtplib
from email.utils import make_msgid

from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import EmailMessage

from dunning.channels.base import PermanentChannelError, SendResult, TransientChannelError


def email_send(*, to: str, subject: str, body: str, message_id: int, tags: list[str] | None = None) -> SendResult:
    email = EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to])
    # anymail extras (ignored by non-anymail backends): our id travels with the message and its events.
    email.metadata = {"message_id": str(message_id)}
    email.tags = tags or []
    try:
        email.send(fail_silently=False)
    except AnymailRecipientsRefused as error:
        raise PermanentChannelError(f"recipient refused by the ESP: {error}", invalid_recipient=True)
    except AnymailAPIError as error:
        status = getattr(error, "status_code", None)
        if status is not None and 400 <= status < 500 and status != 429:
            raise PermanentChannelError(f"ESP refused the message (HTTP {status}): {error}")
        raise TransientChannelError(f"ESP error (HTTP {status}): {error}")
    except (smtplib.SMTPException, OSError) as error:
        raise TransientChannelError(f"mail transport error: {error}")
    status = getattr(email, "anymail_status", None)
    if status is not None:
        if status.status and status.status & {"rejected", "invalid"}:
            raise PermanentChannelError(f"ESP status {sorted(status.status)}", invalid_recipient=True)
        provider_id = "" if status.message_id is None else status.message_id
    else:  # a plain Django backend (console, SMTP): our own Message-ID is the best handle
        provider_id = email.extra_headers.get("Message-ID") or make_msgid(domain="dunning.local")
    return SendResult(provider_id=str(provider_id), recipient=to)
