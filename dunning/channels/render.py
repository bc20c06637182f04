"""Turn a planned Message into text: pick the template, build the allowlisted context, render.

The context holds only what `campaigns.variables` allows for the step kind (`context_from_allowlist`):
whatever is computed here, a template cannot reach anything else. Legal terms come from
`dunning.legal.terms_for_message`, the payment link from `dunning.services.payment_links.payment_link_for`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.utils import timezone, translation
from django.utils.formats import date_format

from campaigns.models import MessageTemplate, Tone
from campaigns.templating import DEFAULT_LANGUAGE, context_from_allowlist, render, sms_length
from customers.models import Channel, Debtor
from dunning import legal
from dunning.channels.base import PermanentChannelError
from dunning.models import Claim, Message
from dunning.services import payment_links


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    template: MessageTemplate
    context: dict
    sms_parts: int = 1


def money(amount: Decimal, language: str) -> str:
    amount = Decimal(amount).quantize(Decimal("0.01"))
    whole, cents = f"{amount:,.2f}".split(".")
    if language == "en":
        return f"€{whole}.{cents}"
    return f"€ {whole.replace(',', '.')},{cents}"


def day(value: date | None, language: str) -> str:
    if value is None:
        return ""
    with translation.override(language):
        return date_format(value, "j F Y")


def grouped_reference(reference: str) -> str:
    if reference.isdigit():
        return " ".join(reference[i : i + 4] for i in range(0, len(reference), 4))
    return reference


def salutation(debtor: Debtor) -> str:
    return debtor.display_name


def postal_address(debtor: Debtor) -> str:
    street = " ".join(part for part in (debtor.street, debtor.house_number) if part)
    city = "  ".join(part for part in (debtor.postal_code, debtor.city.upper()) if part)
    lines = [street, city]
    if debtor.country and debtor.country != "NL":
        lines.append(debtor.country)
    return "\n".join(line for line in lines if line)


def template_lookup(*, step_kind: str, tone: str, channel: str, language: str) -> MessageTemplate | None:
    """The active template, falling back to Dutch, then to the neutral tone (never to formal for empathetic)."""
    tones = [tone] if tone == Tone.NEUTRAL else [tone, Tone.NEUTRAL]
    languages = [language] if language == DEFAULT_LANGUAGE else [language, DEFAULT_LANGUAGE]
    active = {
        (t.tone, t.language): t
        for t in MessageTemplate.objects.filter(step_kind=step_kind, channel=channel, is_active=True)
    }
    for candidate_tone in tones:
        for candidate_language in languages:
            if (candidate_tone, candidate_language) in active:
                return active[(candidate_tone, candidate_language)]
    return None


def message_claims(message: Message) -> list[Claim]:
    """The claim of the message plus the claims bundled into it (same debtor, same day)."""
    bundled = [m.claim for m in message.bundled_messages.select_related("claim").order_by("claim__due_on", "pk")]
    return [message.claim, *[c for c in bundled if c.pk != message.claim_id]]


def message_context(*, message: Message, claims: list[Claim], now) -> dict:
    claim = claims[0]
    debtor = claim.debtor
    language = message.language or DEFAULT_LANGUAGE
    sent_on = timezone.localdate(now)
    terms = legal.terms_for_message(claim=claim, step=message.step, sent_on=sent_on)
    municipality = settings.MUNICIPALITY
    open_total = sum((c.open_amount for c in claims), Decimal("0.00"))
    due_total = sum((c.total_due for c in claims), Decimal("0.00"))
    values = {
        "salutation": salutation(debtor),
        "debtor_name": debtor.display_name,
        "postal_address": postal_address(debtor),
        "claim_reference": grouped_reference(claim.payment_reference),
        "claim_description": claim.description or claim.get_kind_display(),
        "claim_kind": claim.get_kind_display(),
        "principal": money(claim.principal, language),
        "open_amount": money(open_total, language),
        "costs_amount": money(sum((c.costs_amount for c in claims), Decimal("0.00")), language),
        "total_due": money(due_total, language),
        "issued_date": day(claim.issued_on, language),
        "due_date": day(claim.due_on, language),
        "pay_before": day(terms.pay_before, language),
        "term_days": terms.term_days,
        "costs_if_unpaid": money(terms.costs_if_unpaid, language),
        "claims": [
            {
                "reference": grouped_reference(c.payment_reference),
                "description": c.description or c.get_kind_display(),
                "open_amount": money(c.open_amount, language),
                "due_date": day(c.due_on, language),
            }
            for c in claims
        ],
        "payment_link": payment_links.payment_link_for(claim=claim),
        "municipality_name": municipality["name"],
        "municipality_phone": municipality["phone"],
        "municipality_email": municipality["email"],
        "municipality_address": municipality["address"],
        "municipality_iban": municipality["iban"],
        "debt_help_contact": municipality["debt_help"],
    }
    return context_from_allowlist(step_kind=message.step.kind, values=values)


def message_render(*, message: Message, claims: list[Claim], now) -> Rendered:
    template = message.template
    # An experiment variant keeps its own (inactive) template; otherwise a retired template gives way.
    if template is None or (not template.is_active and message.experiment_variant_id is None):
        template = template_lookup(
            step_kind=message.step.kind, tone=message.tone, channel=message.channel, language=message.language
        )
    if template is None:
        raise PermanentChannelError(
            f"no active template for {message.step.kind} / {message.tone} / {message.channel} / {message.language}"
        )
    context = message_context(message=message, claims=claims, now=now)
    with translation.override(message.language or DEFAULT_LANGUAGE):
        subject = render(template.subject, context) if template.subject else ""
        body = render(template.body, context)
    parts = 1
    if message.channel == Channel.SMS:
        length = sms_length(body)
        if not length.fits:
            raise PermanentChannelError(f"SMS too long: {length}")
        parts = length.parts
    return Rendered(subject=subject, body=body, template=template, context=context, sms_parts=parts)
