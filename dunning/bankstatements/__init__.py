"""Bank-statement parsers: CAMT.053 and MT940 become a list of `BankEntry` rows, nothing stored.

`statement_parse(content, filename=...)` picks the format from the content. The import service
(`dunning.services.bank_statements`) decides what to record.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


class StatementError(ValueError):
    """The file is not a statement we can read; the message says what is wrong, for an operator."""


@dataclass(frozen=True)
class BankEntry:
    """One booking line (or one transaction of a batch booking) on a statement."""

    external_id: str  # stable per entry: a re-import of the same statement yields the same ids
    amount: Decimal  # always positive; `is_credit` says the direction
    currency: str
    booked_on: date
    is_credit: bool
    is_reversal: bool = False
    is_booked: bool = True  # False for pending (PDNG) or informational entries
    structured_reference: str = ""  # Strd/CdtrRefInf/Ref, /REMI/STRD/CUR/, SCOR/CUR/, /CDTRREF/
    remittance_text: str = ""  # Ustrd, AddtlTxInf, :86: text
    payer_name: str = ""
    payer_account: str = ""
    line: str = ""  # where in the file (for reports)
    notes: list[str] = field(default_factory=list)

    @property
    def reference_text(self) -> str:
        """What the matcher reads: the structured reference first, then the free text."""
        return " ".join(part for part in (self.structured_reference, self.remittance_text) if part)[:500]


def stable_id(*parts: object) -> str:
    """An id built from the given parts, hashed when it would not fit Payment.external_id."""
    raw = "|".join(str(p) for p in parts)
    if len(raw) <= 120:
        return raw
    return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()


def statement_parse(content: bytes, *, filename: str = "") -> tuple[str, list[BankEntry]]:
    """(format, entries) for a CAMT.053 or MT940 file; StatementError when it is neither or broken."""
    from dunning.bankstatements import camt053, swift_mt940

    head = content.lstrip()[:200]
    if head.startswith(b"<") or head.startswith(b"\xef\xbb\xbf<"):
        return "camt053", camt053.parse(content)
    if b":20:" in content[:2000] or head.startswith(b"{1:"):
        return "mt940", swift_mt940.parse(content)
    raise StatementError(f"{filename or 'the file'} is neither a CAMT.053 (XML) nor an MT940 statement.")
