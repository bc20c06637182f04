"""Import debtors and claims from the tax or financial system's CSV export (docs/import-format.md).

1. Decode (UTF-8, with or without BOM), detect the delimiter (comma or semicolon), check the header:
   a wrong file fails as a whole with one error naming the missing or unknown columns.
2. Validate every row on its own (amounts, dates, e-mail, phone, payment reference check digit, kind,
   policy) and against the rest of the file (duplicate claim references, one debtor described two
   ways) and the database (a payment reference used by another claim, an anonymised debtor).
3. Store in one transaction: upsert debtors and claims by their source reference. A row whose values
   equal what is stored is "unchanged" and not written, so importing the same file twice changes
   nothing. By default any bad row means nothing is stored; `skip_invalid` stores the good rows.
"""

from __future__ import annotations

import csv
import io
import re
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

import phonenumbers
from auditlog.context import set_actor
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from campaigns.models import DunningPolicy, Regime
from customers.models import Debtor, Language
from dunning.models import Claim, ClaimKind
from dunning.references import payment_reference_is_valid, payment_reference_normalise

COLUMNS = (
    "debtor_reference",
    "debtor_kind",
    "given_name",
    "surname_prefix",
    "surname",
    "street",
    "house_number",
    "postal_code",
    "city",
    "country",
    "email",
    "phone",
    "language",
    "claim_reference",
    "payment_reference",
    "kind",
    "description",
    "principal",
    "open_amount",
    "issued_on",
    "due_on",
    "policy",
)
REQUIRED_COLUMNS = (
    "debtor_reference",
    "surname",
    "claim_reference",
    "payment_reference",
    "kind",
    "principal",
    "issued_on",
    "due_on",
)
ADDRESS_COLUMNS = ("street", "house_number", "postal_code", "city")
DEBTOR_FIELDS = (
    "kind",
    "given_name",
    "surname_prefix",
    "surname",
    "street",
    "house_number",
    "postal_code",
    "city",
    "country",
    "email",
    "phone",
    "language",
)
CLAIM_FIELDS = ("payment_reference", "kind", "regime", "description", "principal", "issued_on", "due_on", "policy_id")
REGIME_BY_KIND = {
    ClaimKind.OZB: Regime.TAX,
    ClaimKind.WASTE: Regime.TAX,
    ClaimKind.SEWAGE: Regime.TAX,
    ClaimKind.PARKING: Regime.ADMINISTRATIVE,
    ClaimKind.RENT: Regime.PRIVATE,
}
_AMOUNT = re.compile(r"^(\d{1,10})(?:[.,](\d{1,2}))?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_POSTAL_CODE_NL = re.compile(r"^([1-9]\d{3})\s?([A-Za-z]{2})$")


class ImportFileError(Exception):
    """The file as a whole cannot be read: encoding, empty, wrong columns."""


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = _("line %(line)s") % {"line": self.line}
        if self.column:
            where += f", {self.column}"
        return f"{where}: {self.message}"


@dataclass
class ImportRow:
    line: int
    raw: dict[str, str]
    errors: list[RowError] = field(default_factory=list)
    debtor: dict = field(default_factory=dict)
    claim: dict = field(default_factory=dict)

    def error(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.line, column, message))


@dataclass
class ImportResult:
    columns: list[str]
    rows: list[ImportRow]
    dry_run: bool = False
    stored: bool = False
    debtors: dict[str, int] = field(default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0})
    claims: dict[str, int] = field(default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0})

    @property
    def rejected(self) -> list[ImportRow]:
        return [row for row in self.rows if row.errors]

    @property
    def accepted(self) -> list[ImportRow]:
        return [row for row in self.rows if not row.errors]

    @property
    def errors(self) -> list[RowError]:
        return [error for row in self.rows for error in row.errors]


# ------------------------------------------------------------------------------------------- entry


def claims_import(*, data: bytes, dry_run: bool = False, skip_invalid: bool = False, actor=None) -> ImportResult:
    """Validate and (unless `dry_run`, or a row is bad without `skip_invalid`) store. See the module doc."""
    columns, rows = _read(data)
    result = ImportResult(columns=columns, rows=rows, dry_run=dry_run)
    policies = list(DunningPolicy.objects.filter(is_active=True).order_by("name"))
    for row in rows:
        _validate_row(row, policies)
    _validate_across_rows(rows)
    _validate_against_database(rows)
    if result.rejected and not skip_invalid:
        # Count what would happen to the good rows, but store nothing.
        with transaction.atomic():
            _store(result, actor=actor)
            transaction.set_rollback(True)
        return result
    with transaction.atomic():
        _store(result, actor=actor)
        if dry_run:
            transaction.set_rollback(True)
        else:
            result.stored = True
    return result


def claims_import_errors_csv(result: ImportResult) -> str:
    """The rejected rows as CSV: line number, the reasons, then the row as it was in the file."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["line", "errors", *result.columns])
    for row in result.rejected:
        reasons = "; ".join(f"{e.column}: {e.message}" if e.column else e.message for e in row.errors)
        writer.writerow([row.line, reasons, *(row.raw.get(c, "") for c in result.columns)])
    return out.getvalue()


# -------------------------------------------------------------------------------------------- read


def _read(data: bytes) -> tuple[list[str], list[ImportRow]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ImportFileError(
            _("The file is not valid UTF-8 (byte 0x%(byte)02x on line %(line)s). Save it as 'CSV UTF-8' and try again.")
            % {"byte": data[error.start], "line": line}
        )
    if not text.strip():
        raise ImportFileError(_("The file is empty."))
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
        while not any(cell.strip() for cell in header):
            header = next(reader)
    except csv.Error as error:
        raise ImportFileError(_("The header line cannot be read: %(error)s") % {"error": error})
    columns = [cell.strip().lower() for cell in header]
    _check_columns(columns)
    rows: list[ImportRow] = []
    line = reader.line_num
    try:
        for cells in reader:
            start = line + 1
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            row = ImportRow(line=start, raw={c: v.strip() for c, v in zip(columns, cells, strict=False)})
            if len(cells) != len(columns):
                row.error(
                    "",
                    _("expected %(expected)s fields, found %(found)s (check the delimiter and quotes)")
                    % {"expected": len(columns), "found": len(cells)},
                )
            rows.append(row)
    except csv.Error as error:
        raise ImportFileError(_("Line %(line)s cannot be read: %(error)s") % {"line": reader.line_num, "error": error})
    if not rows:
        raise ImportFileError(_("The file has a header but no rows."))
    return columns, rows


def _check_columns(columns: list[str]) -> None:
    problems = []
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    unknown = [c for c in columns if c not in COLUMNS]
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if missing:
        problems.append(_("missing required columns: %(names)s") % {"names": ", ".join(missing)})
    if unknown:
        problems.append(_("unknown columns: %(names)s") % {"names": ", ".join(repr(c) for c in unknown)})
    if duplicates:
        problems.append(_("columns given twice: %(names)s") % {"names": ", ".join(duplicates)})
    if problems:
        raise ImportFileError(
            _("The columns are not right (%(problems)s). Expected columns: %(expected)s.")
            % {"problems": "; ".join(problems), "expected": ", ".join(COLUMNS)}
        )


# ---------------------------------------------------------------------------------------- validate


def _validate_row(row: ImportRow, policies: list[DunningPolicy]) -> None:
    raw = row.raw
    for column in REQUIRED_COLUMNS:
        if not raw.get(column):
            row.error(column, _("required"))
    for column, model, name in (
        ("debtor_reference", Debtor, "source_reference"),
        ("given_name", Debtor, "given_name"),
        ("surname_prefix", Debtor, "surname_prefix"),
        ("surname", Debtor, "surname"),
        ("street", Debtor, "street"),
        ("house_number", Debtor, "house_number"),
        ("city", Debtor, "city"),
        ("claim_reference", Claim, "source_reference"),
        ("description", Claim, "description"),
    ):
        limit = model._meta.get_field(name).max_length
        if len(raw.get(column, "")) > limit:
            row.error(column, _("longer than %(limit)s characters") % {"limit": limit})

    debtor_kind = (raw.get("debtor_kind") or Debtor.Kind.PERSON).lower()
    if debtor_kind not in Debtor.Kind.values:
        row.error("debtor_kind", _("must be one of: %(choices)s") % {"choices": ", ".join(Debtor.Kind.values)})
    language = (raw.get("language") or Language.DUTCH).lower()
    if language not in Language.values:
        row.error("language", _("must be one of: %(choices)s") % {"choices": ", ".join(Language.values)})
    country = (raw.get("country") or "NL").upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        row.error("country", _("must be a two-letter country code such as NL"))

    address = {c: raw.get(c, "") for c in ADDRESS_COLUMNS}
    if any(address.values()) and not all(address.values()):
        missing = ", ".join(c for c, v in address.items() if not v)
        row.error(
            "street", _("an address needs street, house_number, postal_code and city; missing: %(m)s") % {"m": missing}
        )
    postal_code = address["postal_code"]
    if postal_code and country == "NL":
        match = _POSTAL_CODE_NL.match(postal_code)
        if match:
            postal_code = f"{match.group(1)} {match.group(2).upper()}"
        else:
            row.error("postal_code", _("not a Dutch postal code (e.g. 1234 AB)"))

    email = raw.get("email", "")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            row.error("email", _("not a valid e-mail address"))
    phone = _phone(row, raw.get("phone", ""))

    kind_text = raw.get("kind", "").lower()
    kind = kind_text if kind_text in ClaimKind.values else None
    if kind_text and kind is None:
        row.error("kind", _("unknown claim kind; use one of: %(choices)s") % {"choices": ", ".join(ClaimKind.values)})
    payment_reference = payment_reference_normalise(raw.get("payment_reference", ""))
    if payment_reference and not payment_reference_is_valid(payment_reference):
        if payment_reference.isdigit() and len(payment_reference) == 16:
            row.error("payment_reference", _("the check digit does not match: a digit is probably mistyped"))
        else:
            row.error("payment_reference", _("not a payment reference (betalingskenmerk of 16 digits)"))
    principal = _amount(row, "principal")
    open_amount = _amount(row, "open_amount") if raw.get("open_amount") else principal
    if principal is not None and open_amount is not None and open_amount > principal:
        row.error("open_amount", _("cannot be more than the principal"))
    issued_on = _date(row, "issued_on")
    due_on = _date(row, "due_on")
    if issued_on and due_on and due_on < issued_on:
        row.error("due_on", _("is before issued_on"))
    policy, regime = _policy(row, kind, policies)

    row.debtor = {
        "source_reference": raw.get("debtor_reference", ""),
        "kind": debtor_kind,
        "given_name": raw.get("given_name", ""),
        "surname_prefix": raw.get("surname_prefix", ""),
        "surname": raw.get("surname", ""),
        "street": address["street"],
        "house_number": address["house_number"],
        "postal_code": postal_code,
        "city": address["city"],
        "country": country,
        "email": email,
        "phone": phone,
        "language": language,
    }
    row.claim = {
        "source_reference": raw.get("claim_reference", ""),
        "payment_reference": payment_reference,
        "kind": kind,
        "regime": regime,
        "description": raw.get("description", ""),
        "principal": principal,
        "open_amount": open_amount,
        "issued_on": issued_on,
        "due_on": due_on,
        "policy_id": policy.pk if policy else None,
    }


def _amount(row: ImportRow, column: str) -> Decimal | None:
    text = row.raw.get(column, "").replace("€", "").strip()
    if not text:
        return None
    if text.startswith("-"):
        row.error(column, _("must not be negative"))
        return None
    match = _AMOUNT.match(text)
    if not match:
        row.error(column, _("not an amount: write 1234.56 or 1234,56 (no thousands separator, at most 2 decimals)"))
        return None
    try:
        return Decimal(f"{match.group(1)}.{match.group(2) or '0'}").quantize(Decimal("0.01"))
    except InvalidOperation:  # pragma: no cover - the pattern already guarantees a number
        row.error(column, _("not an amount"))
        return None


def _date(row: ImportRow, column: str) -> date | None:
    text = row.raw.get(column, "")
    if not text:
        return None
    try:
        if not _ISO_DATE.match(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        row.error(column, _("not a date: write YYYY-MM-DD, e.g. 2026-03-31"))
        return None


def _phone(row: ImportRow, text: str) -> str:
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, "NL")
    except phonenumbers.NumberParseException:
        row.error("phone", _("not a phone number"))
        return ""
    if not phonenumbers.is_valid_number(number):
        row.error("phone", _("not a valid phone number"))
        return ""
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        row.error("phone", _("not a mobile number (text messages need one)"))
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _policy(row: ImportRow, kind: str | None, policies: list[DunningPolicy]) -> tuple[DunningPolicy | None, str | None]:
    """The claim's policy (by name, or the one active policy of the kind's regime) and its regime."""
    name = row.raw.get("policy", "")
    regime = REGIME_BY_KIND.get(kind) if kind else None
    if name:
        matches = [p for p in policies if p.name.lower() == name.lower()]
        if not matches:
            row.error(
                "policy",
                _("unknown policy; active policies are: %(names)s") % {"names": ", ".join(p.name for p in policies)},
            )
            return None, regime
        policy = matches[0]
        if regime and policy.regime != regime:
            row.error(
                "policy",
                _("is for %(policy_regime)s claims, but a %(kind)s claim is %(regime)s")
                % {"policy_regime": policy.regime, "kind": kind, "regime": regime},
            )
        return policy, policy.regime if kind == ClaimKind.OTHER else regime
    if kind == ClaimKind.OTHER:
        row.error("policy", _("required for claims of kind 'other' (it decides the legal regime)"))
        return None, None
    if regime is None:
        return None, None
    candidates = [p for p in policies if p.regime == regime]
    if len(candidates) != 1:
        row.error("policy", _("required: there is no single active policy for %(regime)s claims") % {"regime": regime})
        return None, regime
    return candidates[0], regime


def _validate_across_rows(rows: list[ImportRow]) -> None:
    claims_seen: dict[str, int] = {}
    references_seen: dict[str, int] = {}
    debtors_seen: dict[str, ImportRow] = {}
    for row in rows:
        reference = row.claim.get("source_reference")
        if reference:
            if reference in claims_seen:
                row.error(
                    "claim_reference",
                    _("duplicate: the same claim reference is on line %(line)s") % {"line": claims_seen[reference]},
                )
            else:
                claims_seen[reference] = row.line
        payment_reference = row.claim.get("payment_reference")
        if payment_reference and reference and claims_seen.get(reference) == row.line:
            if payment_reference in references_seen:
                row.error(
                    "payment_reference",
                    _("duplicate: the same payment reference is on line %(line)s")
                    % {"line": references_seen[payment_reference]},
                )
            else:
                references_seen[payment_reference] = row.line
        debtor_reference = row.debtor.get("source_reference")
        if debtor_reference:
            first = debtors_seen.setdefault(debtor_reference, row)
            if first is not row:
                different = [name for name in DEBTOR_FIELDS if row.debtor[name] != first.debtor[name]]
                if different:
                    row.error(
                        different[0],
                        _("debtor %(ref)s is described differently on line %(line)s (%(fields)s)")
                        % {"ref": debtor_reference, "line": first.line, "fields": ", ".join(different)},
                    )


def _validate_against_database(rows: list[ImportRow]) -> None:
    valid = [row for row in rows if not row.errors]
    debtors = _in_chunks(Debtor.objects, "source_reference", {r.debtor["source_reference"] for r in valid})
    claims = _in_chunks(
        Claim.objects.select_related("debtor"), "source_reference", {r.claim["source_reference"] for r in valid}
    )
    by_payment_reference = _in_chunks(Claim.objects, "payment_reference", {r.claim["payment_reference"] for r in valid})
    with_payments = set(
        Claim.objects.filter(pk__in=[c.pk for c in claims.values()], payments__isnull=False).values_list(
            "pk", flat=True
        )
    )
    for row in valid:
        debtor = debtors.get(row.debtor["source_reference"])
        if debtor is not None and debtor.is_anonymised:
            row.error(
                "debtor_reference", _("this debtor was erased on request (GDPR); personal data is not re-imported")
            )
        claim = claims.get(row.claim["source_reference"])
        other = by_payment_reference.get(row.claim["payment_reference"])
        if other is not None and (claim is None or other.pk != claim.pk):
            row.error("payment_reference", _("already used by claim %(ref)s") % {"ref": other.source_reference})
        if claim is None:
            continue
        if claim.debtor.source_reference != row.debtor["source_reference"]:
            row.error(
                "debtor_reference",
                _("claim %(claim)s belongs to debtor %(debtor)s in this system")
                % {"claim": claim.source_reference, "debtor": claim.debtor.source_reference},
            )
        if claim.principal != row.claim["principal"] and claim.pk in with_payments:
            row.error(
                "principal",
                _("differs from the stored %(stored)s, and payments are booked on this claim: correct it by hand")
                % {"stored": claim.principal},
            )


def _in_chunks(queryset, field_name: str, values: set[str], size: int = 500) -> dict:
    found = {}
    values = sorted(v for v in values if v)
    for start in range(0, len(values), size):
        for obj in queryset.filter(**{f"{field_name}__in": values[start : start + size]}):
            found[getattr(obj, field_name)] = obj
    return found


# ------------------------------------------------------------------------------------------- store


def _store(result: ImportResult, *, actor=None) -> None:
    rows = result.accepted
    debtors = _in_chunks(Debtor.objects, "source_reference", {r.debtor["source_reference"] for r in rows})
    claims = _in_chunks(Claim.objects, "source_reference", {r.claim["source_reference"] for r in rows})
    with set_actor(actor) if actor is not None else nullcontext():
        done_debtors: set[str] = set()
        for row in rows:
            reference = row.debtor["source_reference"]
            if reference in done_debtors:
                continue
            done_debtors.add(reference)
            debtor = debtors.get(reference)
            values = {name: row.debtor[name] for name in DEBTOR_FIELDS}
            if debtor is None:
                debtor = Debtor(source_reference=reference, **values)
                debtor.save()
                debtors[reference] = debtor
                result.debtors["created"] += 1
                continue
            changed = [name for name, value in values.items() if getattr(debtor, name) != value]
            if not changed:
                result.debtors["unchanged"] += 1
                continue
            # A new address or number has not bounced yet.
            if "email" in changed:
                debtor.email_invalid_since = None
                changed.append("email_invalid_since")
            if "phone" in changed:
                debtor.phone_invalid_since = None
                changed.append("phone_invalid_since")
            for name, value in values.items():
                setattr(debtor, name, value)
            debtor.save(update_fields=[*changed, "updated_at"])
            result.debtors["updated"] += 1

        for row in rows:
            data = row.claim
            claim = claims.get(data["source_reference"])
            values = {name: data[name] for name in CLAIM_FIELDS}
            if claim is None:
                claim = Claim(
                    source_reference=data["source_reference"],
                    debtor=debtors[row.debtor["source_reference"]],
                    open_amount=data["open_amount"],
                    **values,
                )
                claim.save()
                claims[claim.source_reference] = claim
                result.claims["created"] += 1
                continue
            changed = [name for name, value in values.items() if getattr(claim, name) != value]
            if not changed:
                result.claims["unchanged"] += 1
                continue
            if "principal" in changed:
                # Only possible without payments (checked above): the open amount follows the file.
                claim.open_amount = data["open_amount"]
                changed.append("open_amount")
            for name, value in values.items():
                setattr(claim, name, value)
            claim.save(update_fields=[*changed, "updated_at"])
            result.claims["updated"] += 1
