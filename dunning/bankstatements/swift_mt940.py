"""MT940 (SWIFT customer statement) through the `mt-940` package, with Dutch bank conventions.

Banks wrap field values across lines (ING at 65 characters, even inside a statement number), so the
text is normalised before parsing: SWIFT header blocks are dropped, continuation lines of plain tags are
joined, and :86: information is read joined without line breaks. References come from ING's
/REMI/STRD/CUR/<ref>/ and SCOR/CUR/<ref>, Rabobank's /CDTRREF/<ref>/, or any valid betalingskenmerk in
the text.
"""

import re
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
    continuation = 0
    supplementary = False
    for line in lines:
        match = _TAG.match(line)
        if match:
            current_tag = match.group(1)
            continuation = 0
            supplementary = False
            out.append(line)
            continue
        if not out:
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


def parse(content: bytes) -> list[BankEntry]:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        text = content.decode("latin-1")
    if ":61:" not in text and ":20:" not in text:
        raise StatementError("not an MT940 statement (no :20: or :61: fields)")
    try:
        transactions = mt940.parse(_normalise(text))
    except Exception as exc:  # the library raises RuntimeError/ValueError/KeyError on bad input
        raise StatementError(f"MT940 could not be read: {exc}") from exc
    account = str(transactions.data.get("account_identification") or "")
    statement_ref = str(transactions.data.get("transaction_reference") or "")
    entries: list[BankEntry] = []
    for index, transaction in enumerate(transactions, start=1):
        data = transaction.data
        status = str(data.get("status") or "")
        amount_obj = data.get("amount")
        if amount_obj is None or not status:
            raise StatementError(f"transaction {index}: no amount or debit/credit mark")
        amount = abs(Decimal(amount_obj.amount))
        currency = str(getattr(amount_obj, "currency", "") or data.get("currency") or "").upper()
        booked = data.get("entry_date") or data.get("date")
        booked_on = date(booked.year, booked.month, booked.day)
        details = str(data.get("transaction_details") or "").replace("\n", "")
        structured = _STRUCTURED.search(details) or _STRUCTURED.search(str(data.get("customer_reference") or ""))
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
            external_id = stable_id(
                "mt940",
                account,
                statement_ref,
                data.get("statement_number") or "",
                index,
                booked_on.isoformat(),
                status,
                f"{amount:.2f}",
            )
        entries.append(
            BankEntry(
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
        )
    return entries
