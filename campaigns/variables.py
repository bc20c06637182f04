"""The single list of data a message may use: template variables, allowed per step kind.

This is the data-minimisation contract (GDPR art. 5(1)(c)): a template can only reference these
names, the renderer only puts these names in the context, and the admin shows per template which
personal fields it uses. Adding a name here is a privacy decision: say why in the `why` text.
"""

from dataclasses import dataclass

from campaigns.models import StepKind


@dataclass(frozen=True)
class Variable:
    name: str
    description: str
    personal: bool  # does it reveal something about the person (name, address, amounts owed)?
    why: str = ""


VARIABLES: dict[str, Variable] = {
    v.name: v
    for v in (
        Variable(
            "salutation", "Aanhef: 'heer/mevrouw Jansen' or the organisation's name", True, "To address the person."
        ),
        Variable("debtor_name", "Full name as on the claim", True, "Letters need the addressee's name."),
        Variable("postal_address", "Street, number, postal code and city (letters only)", True, "Letters are posted."),
        Variable("claim_reference", "Payment reference (betalingskenmerk), grouped by four", False),
        Variable("claim_description", "What the claim is for, e.g. 'Gemeentelijke belastingen 2026'", False),
        Variable("claim_kind", "Kind of claim, e.g. OZB, afvalstoffenheffing", False),
        Variable("principal", "Original amount, formatted as € 1.234,56", True, "The person must know what is owed."),
        Variable("open_amount", "What is still open (after partial payments)", True, "Same."),
        Variable("costs_amount", "Costs already charged on the claim", True, "Costs must be stated."),
        Variable("total_due", "Open amount plus costs", True, "Same."),
        Variable("issued_date", "Date the claim was issued", False),
        Variable("due_date", "Original due date", False),
        Variable("pay_before", "Date by which to pay to avoid the next step", False),
        Variable("term_days", "Days the law gives to pay (e.g. 14)", False),
        Variable("costs_if_unpaid", "Exact costs that will be charged if the term passes", True, "Legally required."),
        Variable("claims", "List of claims in a combined message (reference, description, open_amount)", True, ""),
        Variable("payment_link", "Link to pay online (iDEAL) for this claim", False),
        Variable("municipality_name", "The municipality's name", False),
        Variable("municipality_phone", "The municipality's phone number", False),
        Variable("municipality_email", "The municipality's e-mail address", False),
        Variable("municipality_address", "The municipality's postal address", False),
        Variable("municipality_iban", "IBAN to pay to", False),
        Variable("debt_help_contact", "Where to get help with debts", False),
    )
}

_COMMON = (
    "salutation",
    "claim_reference",
    "claim_description",
    "claim_kind",
    "open_amount",
    "total_due",
    "due_date",
    "payment_link",
    "municipality_name",
    "municipality_phone",
    "municipality_email",
    "municipality_address",
    "municipality_iban",
    "debt_help_contact",
    "claims",
)
_DEMAND = (*_COMMON, "debtor_name", "postal_address", "principal", "costs_amount", "issued_date", "pay_before")

ALLOWED_BY_STEP_KIND: dict[str, frozenset[str]] = {
    StepKind.REMINDER: frozenset((*_COMMON, "pay_before")),
    StepKind.FORMAL_REMINDER: frozenset((*_DEMAND, "term_days", "costs_if_unpaid")),
    StepKind.FINAL_NOTICE: frozenset((*_DEMAND, "term_days", "costs_if_unpaid")),
    StepKind.ESCALATION: frozenset((*_DEMAND, "term_days", "costs_if_unpaid")),
    StepKind.PAYMENT_CONFIRMATION: frozenset(
        (
            "salutation",
            "claim_reference",
            "claim_description",
            "open_amount",
            "municipality_name",
            "municipality_phone",
            "municipality_email",
        )
    ),
}


def allowed_variables(step_kind: str) -> frozenset[str]:
    return ALLOWED_BY_STEP_KIND[step_kind]


def personal_variables(names) -> list[str]:
    """Which of `names` are personal data, for the admin's per-template minimisation view."""
    return sorted(name for name in names if name in VARIABLES and VARIABLES[name].personal)
