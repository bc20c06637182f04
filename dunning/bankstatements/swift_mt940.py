"""MT940 (SWIFT customer statement) through the `mt-940` package, with Dutch bank conventions.

Banks wrap field values across lines (ING at 65 characters, even inside a statement number), so the
text is normalised before parsing: SWIFT header blocks are dropped, continuation lines of plain tags are
joined, and :86: information is read joined without line breaks. References come from ING's
/REMI/STRD/CUR/<ref>/ and SCOR/CUR/<ref>, Rabobank's /CDTRREF/<ref>/, or any valid betalingskenmerk in
the text.

Entry ids must be the same in every file an entry appears in, because statements overlap (a monthly
export after daily ones, a re-download of last week). The bank's own reference is used when there is
one; otherwise (NONREF, EREF, ...) the id is a hash of what the entry says (account, dates, direction,
amount, transaction code, customer reference, the whole :86: text) plus an occurrence counter among
identical entries of that booking date, so two identical transfers on one day stay two payments, and
a later file holding the same day records neither again. Nothing positional (statement number, index)
goes into the id.
"""

import hashlib
import re
from collections import Counter
from datetime import date
from decimal import Decimal

import mt940

from dunning.bankstatements import BankEntry, StatementError, stable_id

_TAG = re.compile(r"^:(\d{2}[A-Z]?):")
_STRUCTURED = re.compile(r"(?:/STRD/CUR/|SCOR/CUR/|/CDTRREF/)(\d{7,16})")
_USTD = re.compile(r"/REMI/USTD//(.*?)(?:/(?:[A-Z]{4})/|/$|$)")
_CNTP = re.compile(r"/CNTP/([^/]*)/[^/]*/([^/]*)/")
_NAME = re.compile(r"/NAME/([^/]*)/")
_IBAN = re.compile(r"\b([A-Z]{2}\d{2}[A-Z]{4}\d{10})\b")
# Tags that close a statement: an :86: after them is information for the account owner about the
# whole statement (ING's /SUM/ totals), not part of the last entry.
_CLOSING = ("62F", "62M", "64", "65")


def _normalise(text: str) -> str:
    """Plain MT940 text: no SWIFT blocks, and continuation lines joined where the format allows."""
    lines = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.rstrip()
        if line.startswith("{1:") or line.startswith("{2:") or line in ("{4:", "-}", "}", "-"):
            continue
        line = re.sub(r"^\{[1-5]:[^}]*\}(\{[1-5]:[^}]*\})*(\{4:)?", "", line)
        if not line:
            continue
        lines.append(line)
    out: list[str] = []
    current_tag = None
    previous_tag = None
    continuation = 0
    supplementary = False
    dropping = False
    for line in lines:
        match = _TAG.match(line)
        if match:
            previous_tag, current_tag = current_tag, match.group(1)
            continuation = 0
            supplementary = False
            # The library would glue a statement-level :86: onto the last entry's details, which
            # would change that entry's text (and id) with every statement's totals.
            dropping = current_tag == "86" and previous_tag in _CLOSING
            if not dropping:
                out.append(line)
            continue
        if not out or dropping:
            continue
        continuation += 1
        if current_tag == "86":
            out[-1] += line  # wrapped at a fixed width: no separator was there
        elif current_tag == "61" and not supplementary:
            if "//" in out[-1] and not line.startswith("/"):
                out[-1] += line  # the bank reference itself was wrapped (ING)
            else:
                out.append(line)  # the supplementary-details line of :61:
                supplementary = True
        else:
            out[-1] += line
    return "\n".join(out) + "\n"


def _statements(text: str) -> list[str]:
    """The normalised text cut into statements (each from its :20:), so each keeps its own :25: account."""
    chunks: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith(":20:") or not chunks:
            chunks.append([])
        chunks[-1].append(line)
    return ["\n".join(chunk) + "\n" for chunk in chunks if any(line.startswith(":61:") for line in chunk)]


def _content_id(*, account: str, occurrences: Counter, parts: tuple) -> str:
    """An id from what the entry says, numbered among identical entries (see the module docstring)."""
    digest = hashlib.sha256("|".join(str(p) for p in (account, *parts)).encode()).hexdigest()[:40]
    occurrences[digest] += 1
    return stable_id("mt940", account, "c", digest, occurrences[digest])


def parse(content: bytes) -> list[BankEntry]:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        text = content.decode("latin-1")
    if ":61:" not in text and ":20:" not in text:
        raise StatementError("not an MT940 statement (no :20: or :61: fields)")
    statements = _statements(_normalise(text))
    if not statements and ":61:" in text:
        raise StatementError("MT940 could not be read: no statement with entries found")
    entries: list[BankEntry] = []
    occurrences: Counter = Counter()  # per file: a day is whole in every statement that holds it
    index = 0
    for statement in statements:
        try:
            transactions = mt940.parse(statement)
        except Exception as exc:  # the library raises RuntimeError/ValueError/KeyError on bad input
            raise StatementError(f"MT940 could not be read: {exc}") from exc
        account = str(transactions.data.get("account_identification") or "")
        for transaction in transactions:
            index += 1
            entries.append(_entry(transaction.data, account=account, index=index, occurrences=occurrences))
    return entries


def _entry(data: dict, *, account: str, index: int, occurrences: Counter) -> BankEntry:
    status = str(data.get("status") or "")
    amount_obj = data.get("amount")
    if amount_obj is None or not status:
        raise StatementError(f"transaction {index}: no amount or debit/credit mark")
    amount = abs(Decimal(amount_obj.amount))
    currency = str(getattr(amount_obj, "currency", "") or data.get("currency") or "").upper()
    booked = data.get("entry_date") or data.get("date")
    booked_on = date(booked.year, booked.month, booked.day)
    value = data.get("date") or booked
    details = str(data.get("transaction_details") or "").replace("\n", "")
    customer_reference = str(data.get("customer_reference") or "")
    structured = _STRUCTURED.search(details) or _STRUCTURED.search(customer_reference)
    ustd = _USTD.search(details)
    free_text = ustd.group(1) if ustd else details
    name_match = _CNTP.search(details) or None
    payer_account = name_match.group(1) if name_match else ""
    payer_name = name_match.group(2) if name_match else ""
    if not payer_name and (name := _NAME.search(details)):
        payer_name = name.group(1)
    if not payer_account and (iban := _IBAN.search(details)):
        payer_account = iban.group(1)
    bank_reference = str(data.get("bank_reference") or "").strip()
    if len(bank_reference) >= 8 and bank_reference.upper() != "NONREF":
        external_id = stable_id("mt940", account, bank_reference)
    else:
        external_id = _content_id(
            account=account,
            occurrences=occurrences,
            parts=(
                booked_on.isoformat(),
                date(value.year, value.month, value.day).isoformat(),
                status,
                currency,
                f"{amount:.2f}",
                str(data.get("id") or "").strip(),
                customer_reference.strip(),
                payer_account,
                # Without any whitespace: banks wrap :86: at fixed widths, and a file cut elsewhere
                # may lose or keep a space at the wrap.
                re.sub(r"\s+", "", details),
            ),
        )
    return BankEntry(
        external_id=external_id,
        amount=amount,
        currency=currency or "EUR",
        booked_on=booked_on,
        is_credit=status in ("C", "RD"),
        is_reversal=status.startswith("R") or "/RTRN/" in details,
        structured_reference=structured.group(1) if structured else "",
        remittance_text=free_text.strip()[:400],
        payer_name=payer_name.strip()[:200],
        payer_account=payer_account.strip()[:34],
        line=f"transaction {index}",
    )
