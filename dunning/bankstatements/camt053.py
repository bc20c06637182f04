"""CAMT.053 (ISO 20022 bank-to-customer statement), any version from camt.053.001.02 on.

Namespace-agnostic: elements are found by local name, so .001.02, .001.04 and .001.08 read alike
(v08 nests the entry status as <Sts><Cd>BOOK</Cd></Sts>; v02 writes <Sts>BOOK</Sts>).
A batch booking (one <Ntry> with several <TxDtls>) becomes one entry per transaction.
An entry's id is the bank's AcctSvcrRef/NtryRef, or else built from its content (`_content_base`).
"""

import hashlib
import re
from collections import Counter
from datetime import date
from decimal import Decimal, InvalidOperation

from lxml import etree

from dunning.bankstatements import BankEntry, StatementError, stable_id

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


def _local(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _children(element, name: str) -> list:
    return [c for c in element if _local(c) == name] if element is not None else []


def _child(element, *path: str):
    for name in path:
        if element is None:
            return None
        found = _children(element, name)
        element = found[0] if found else None
    return element


def _text(element, *path: str) -> str:
    node = _child(element, *path)
    return (node.text or "").strip() if node is not None and node.text else ""


def _descendants(element, name: str) -> list:
    return [e for e in element.iter() if _local(e) == name] if element is not None else []


def _amount(element, where: str) -> tuple[Decimal, str]:
    node = _child(element, "Amt")
    if node is None:
        # v02 TxDtls carry the amount in AmtDtls/TxAmt/Amt (or InstdAmt/Amt)
        node = _child(element, "AmtDtls", "TxAmt", "Amt")
    if node is None:
        node = _child(element, "AmtDtls", "InstdAmt", "Amt")
    if node is None or not (node.text or "").strip():
        raise StatementError(f"{where}: no amount")
    try:
        value = Decimal(node.text.strip())
    except InvalidOperation as exc:
        raise StatementError(f"{where}: amount {node.text.strip()!r} is not a number") from exc
    if not value.is_finite() or value < 0:
        raise StatementError(f"{where}: amount {node.text.strip()!r} is not a positive number")
    return value, (node.get("Ccy") or "").strip().upper()


def _date(element, where: str) -> date:
    for path in (("BookgDt", "Dt"), ("BookgDt", "DtTm"), ("ValDt", "Dt"), ("ValDt", "DtTm")):
        value = _text(element, *path)
        if value:
            try:
                return date.fromisoformat(value[:10])
            except ValueError as exc:
                raise StatementError(f"{where}: date {value!r} is not a date") from exc
    raise StatementError(f"{where}: no booking or value date")


def _status(entry) -> str:
    sts = _child(entry, "Sts")
    if sts is None:
        return "BOOK"
    return (_text(sts, "Cd") or _text(sts, "Prtry") or (sts.text or "")).strip().upper()


def _remittance(tx) -> tuple[str, str]:
    """(structured reference, free text) of one transaction."""
    structured = ""
    for ref_info in _descendants(_child(tx, "RmtInf"), "CdtrRefInf"):
        ref = _text(ref_info, "Ref")
        if ref:
            structured = ref
            break
    texts = [(u.text or "").strip() for u in _descendants(_child(tx, "RmtInf"), "Ustrd") if u.text]
    additional = _text(tx, "AddtlTxInf")
    if additional:
        texts.append(additional)
    return structured, " ".join(t for t in texts if t)


def _payer(tx) -> tuple[str, str]:
    parties = _child(tx, "RltdPties")
    name = _text(parties, "Dbtr", "Nm") or _text(parties, "Dbtr", "Pty", "Nm") or _text(parties, "UltmtDbtr", "Nm")
    account = _text(parties, "DbtrAcct", "Id", "IBAN") or _text(parties, "DbtrAcct", "Id", "Othr", "Id")
    return name, account


def _content_base(entry, txs: list, *, account: str, booked_on: date, occurrences: Counter) -> tuple:
    """The id of an entry without AcctSvcrRef/NtryRef (the Rabobank export has none), from its content.

    Statements overlap (a monthly export after daily ones), so nothing positional (statement id, entry
    number) may go in: what the entry says, plus a counter among identical entries of the same file
    (two identical transfers on one day are two payments; a later file holding that day records
    neither again). The same scheme as MT940 (`swift_mt940`).
    """
    parts = [
        booked_on.isoformat(),
        _text(entry, "ValDt", "Dt") or _text(entry, "ValDt", "DtTm"),
        _text(entry, "CdtDbtInd").upper(),
        _text(entry, "Amt"),
        (_child(entry, "Amt").get("Ccy") or "") if _child(entry, "Amt") is not None else "",
        _text(entry, "RvslInd").lower(),
        _text(entry, "AddtlNtryInf"),
    ]
    for tx in txs:
        parts += [*_remittance(tx), *_payer(tx), _text(tx, "Refs", "EndToEndId"), _text(tx, "Refs", "TxId")]
    # Without whitespace: an export may indent or wrap texts differently.
    digest = hashlib.sha256("|".join(re.sub(r"\s+", "", p) for p in parts).encode()).hexdigest()[:40]
    occurrences[(account, digest)] += 1
    return ("camt", account, "c", digest, occurrences[(account, digest)])


def parse(content: bytes) -> list[BankEntry]:
    try:
        root = etree.fromstring(content, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise StatementError(f"not well-formed XML: {exc}") from exc
    statements = _descendants(root, "Stmt")
    if _local(root) != "Document" or not _descendants(root, "BkToCstmrStmt"):
        raise StatementError("not a CAMT.053 document (no Document/BkToCstmrStmt)")
    entries: list[BankEntry] = []
    occurrences: Counter = Counter()
    for s_index, stmt in enumerate(statements, start=1):
        stmt_id = _text(stmt, "Id") or f"stmt{s_index}"
        account = _text(stmt, "Acct", "Id", "IBAN") or _text(stmt, "Acct", "Id", "Othr", "Id")
        for n_index, entry in enumerate(_children(stmt, "Ntry"), start=1):
            where = f"statement {stmt_id}, entry {n_index} (line {entry.sourceline})"
            amount, currency = _amount(entry, where)
            indicator = _text(entry, "CdtDbtInd").upper()
            if indicator not in ("CRDT", "DBIT"):
                raise StatementError(f"{where}: CdtDbtInd {indicator!r} is neither CRDT nor DBIT")
            booked_on = _date(entry, where)
            reversal = _text(entry, "RvslInd").lower() == "true"
            booked = _status(entry) == "BOOK"
            entry_ref = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
            txs = [tx for details in _children(entry, "NtryDtls") for tx in _children(details, "TxDtls")]
            base = (
                ("camt", account, entry_ref)
                if entry_ref
                else _content_base(entry, txs, account=account, booked_on=booked_on, occurrences=occurrences)
            )
            # One payment per transaction of a batch, when every transaction states its own amount.
            split = len(txs) > 1 and all(
                _child(tx, "Amt") is not None or _child(tx, "AmtDtls") is not None for tx in txs
            )
            parts = list(enumerate(txs, start=1)) if split else [(0, txs[0] if txs else None)]
            for t_index, tx in parts:
                tx_where = f"{where}, transaction {t_index}" if split else where
                tx_amount, tx_currency = _amount(tx, tx_where) if split else (amount, currency)
                structured, text = _remittance(tx) if tx is not None else ("", "")
                if not text:
                    text = _text(entry, "AddtlNtryInf")
                name, payer_account = _payer(tx) if tx is not None else ("", "")
                entries.append(
                    BankEntry(
                        external_id=stable_id(*base, t_index) if split else stable_id(*base),
                        amount=tx_amount,
                        currency=tx_currency or currency,
                        booked_on=booked_on,
                        is_credit=(_text(tx, "CdtDbtInd").upper() or indicator) == "CRDT"
                        if split
                        else indicator == "CRDT",
                        is_reversal=reversal,
                        is_booked=booked,
                        structured_reference=structured,
                        remittance_text=text,
                        payer_name=name,
                        payer_account=payer_account,
                        line=f"line {entry.sourceline}",
                    )
                )
    return entries
