"""Bank statements: the real CAMT.053 and MT940 samples, matching, idempotency, and malformed files."""

from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from dunning.bankstatements import StatementError, statement_parse
from dunning.models import Claim, Message, Payment
from dunning.services.bank_statements import bank_statement_import
from tests.dunning.payment_helpers import plan_message
from tests.factories import make_claim, make_policy

pytestmark = pytest.mark.django_db

REAL = Path(settings.BASE_DIR).parent / "shared" / "testdata" / "real"


def real(relative: str) -> Path:
    path = REAL / relative
    if not path.exists():
        pytest.skip(f"real sample {path} is absent")
    return path


RABOBANK = "camt053/rabobank_real-export_mpdroog-invoiced_camt053.001.02.xml"
ABNAMRO = "camt053/oca_abnamro-style_camt053.001.02.xml"
BATCH_V04 = "camt053/oca_txdtls-batch_camt053.001.04.xml"
GENKGO_V2 = "camt053/genkgo_camt053.v2.minimal.xml"
GENKGO_V8 = "camt053/genkgo_camt053.v8.xml"
ING_940 = "mt940/oca_ing_structured.940"
ING_SCOR = "mt940/zilverline_ing_structured_scor-cur.txt"
RABO_940 = "mt940/zilverline_rabobank_structured_dutch-tax.swi"


@pytest.mark.parametrize(
    ("relative", "fmt", "expected"),
    [
        # (matched, unmatched, duplicate, skipped) on an empty database: the samples hold no claim of ours.
        (RABOBANK, "camt053", (0, 4, 0, 5)),  # 4 credits (3 invoices + 1 between own accounts), 5 debits
        (ABNAMRO, "camt053", (0, 1, 0, 3)),  # 1 credit without RmtInf; a debit and a reversed batch of 2
        (BATCH_V04, "camt053", (0, 0, 0, 2)),  # a CHF batch of 2: split, then skipped as not EUR
        (GENKGO_V2, "camt053", (0, 1, 0, 0)),
        (GENKGO_V8, "camt053", (0, 1, 0, 0)),
        (ING_940, "mt940", (0, 3, 0, 5)),  # 3 credits; debits and two /RTRN/ reversals skipped
        (ING_SCOR, "mt940", (0, 2, 0, 5)),
        (RABO_940, "mt940", (0, 0, 0, 1)),  # one debit to the tax office
    ],
)
def test_real_statements_import_their_credit_entries_once(relative, fmt, expected):
    content = real(relative).read_bytes()

    first = bank_statement_import(content=content, filename=relative)
    again = bank_statement_import(content=content, filename=relative)

    matched, unmatched, duplicate, skipped = expected
    assert first.format == fmt
    assert first.counts == {"matched": matched, "unmatched": unmatched, "duplicate": duplicate, "skipped": skipped}
    assert again.counts == {"matched": 0, "unmatched": 0, "duplicate": matched + unmatched, "skipped": skipped}
    assert Payment.objects.count() == matched + unmatched


def test_a_batch_entry_is_split_into_one_entry_per_transaction():
    _, entries = statement_parse(real(BATCH_V04).read_bytes())
    assert [(e.amount, e.currency, e.structured_reference) for e in entries] == [
        (Decimal("2187.00"), "CHF", "302388292000011111111111111"),
        (Decimal("1296.00"), "CHF", "302388292000022222222222222"),
    ]
    assert len({e.external_id for e in entries}) == 2
    assert entries[0].payer_account == "CH2222000000123456789"


def test_camt_v08_nested_status_and_v02_plain_status_read_alike():
    _, v2 = statement_parse(real(GENKGO_V2).read_bytes())
    _, v8 = statement_parse(real(GENKGO_V8).read_bytes())
    for entries in (v2, v8):
        (entry,) = entries
        assert entry.is_booked and entry.is_credit
        assert entry.amount == Decimal("8.85")  # the entry's amount, not the bogus "SEK 0" of its TxDtls
        assert entry.structured_reference == "4654654654654654"


def test_the_rabobank_export_reads_structured_and_unstructured_remittance():
    _, entries = statement_parse(real(RABOBANK).read_bytes())
    tax = entries[0]
    assert (tax.is_credit, tax.structured_reference) == (False, "1067931951601240")
    invoices = [e.remittance_text for e in entries if e.is_credit and e.remittance_text.startswith("2016Q3")]
    assert invoices == ["2016Q3-0004", "2016Q3-0005", "2016Q3-0006"]
    assert entries[2].payer_name == "XS NEWS B V" and entries[2].payer_account == "NL62ABNA0408441224"


def test_mt940_references_are_read_from_ing_and_rabobank_layouts():
    _, ing = statement_parse(real(ING_940).read_bytes())
    assert {e.structured_reference for e in ing if e.structured_reference} == {"9001123412341234", "1070123412341234"}
    assert ing[0].external_id.endswith("00000000001005")  # the bank reference, unwrapped
    _, scor = statement_parse(real(ING_SCOR).read_bytes())
    assert "8850426741301240" in {e.structured_reference for e in scor}
    _, rabo = statement_parse(real(RABO_940).read_bytes())
    assert rabo[0].structured_reference == "1234567899874563"


def test_a_structured_reference_matches_the_claim_and_stops_its_reminders():
    # The genkgo sample's creditor reference, given to one of our claims (as the bank copied it verbatim).
    policy = make_policy()
    claim = make_claim(policy=policy, payment_reference="4654654654654654", principal=Decimal("8.85"))
    message = plan_message(claim, policy.steps.first())

    report = bank_statement_import(content=real(GENKGO_V8).read_bytes())

    assert report.counts == {"matched": 1, "unmatched": 0, "duplicate": 0, "skipped": 0}
    claim.refresh_from_db()
    message.refresh_from_db()
    assert claim.status == Claim.Status.PAID
    assert message.status == Message.Status.CANCELLED and message.cancel_reason == "paid"
    payment = Payment.objects.get()
    assert (payment.source, payment.payer_account) == ("camt053", "NL56AGDH9619008421")


def test_a_betalingskenmerk_in_unstructured_text_matches():
    claim = make_claim(principal=Decimal("1405.31"))
    ref = claim.payment_reference
    content = (
        real(ABNAMRO)
        .read_text()
        .replace(
            "<AddtlTxInf>#RD PARTY MEDIA CUSNO 90782 4210773</AddtlTxInf>",
            f"<AddtlTxInf>BETALINGSKENM. {ref[:4]} {ref[4:8]} {ref[8:12]} {ref[12:]}</AddtlTxInf>",
        )
    )
    report = bank_statement_import(content=content.encode())
    assert report.matched == 1
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PAID


def test_a_dry_run_reports_the_same_counts_and_stores_nothing():
    claim = make_claim(payment_reference="4654654654654654", principal=Decimal("8.85"))
    report = bank_statement_import(content=real(GENKGO_V2).read_bytes(), dry_run=True)
    assert report.dry_run and report.counts == {"matched": 1, "unmatched": 0, "duplicate": 0, "skipped": 0}
    assert not Payment.objects.exists()
    claim.refresh_from_db()
    assert claim.status == Claim.Status.OPEN


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<Document><BkToCstmrStmt><Stmt><Ntry>", "not well-formed XML"),
        (b"<?xml version='1.0'?><html><body>hi</body></html>", "not a CAMT.053 document"),
        (b"just some text\n", "neither a CAMT.053"),
    ],
)
def test_a_malformed_file_is_a_clear_error(content, message):
    with pytest.raises(StatementError, match=message):
        bank_statement_import(content=content, filename="bad")
    assert not Payment.objects.exists()


def test_an_error_half_way_stores_nothing():
    # The second credit entry has a broken amount; the first (valid) one must not be stored either.
    content = real(RABOBANK).read_text().replace('<Amt Ccy="EUR">2982.99</Amt>', '<Amt Ccy="EUR">2.982,99</Amt>')
    with pytest.raises(StatementError, match="is not a number"):
        bank_statement_import(content=content.encode())
    assert not Payment.objects.exists()


def test_the_command_reports_counts_and_is_idempotent():
    path = real(ING_940)
    out = StringIO()
    call_command("import_bank_statement", str(path), stdout=out)
    assert "mt940 oca_ing_structured.940: matched 0, unmatched 3, duplicate 0, skipped 5" in out.getvalue()
    out = StringIO()
    call_command("import_bank_statement", str(path), stdout=out)
    assert "matched 0, unmatched 0, duplicate 3, skipped 5" in out.getvalue()
    out = StringIO()
    call_command("import_bank_statement", str(path), "--dry-run", stdout=out)
    assert out.getvalue().startswith("DRY RUN (nothing stored)")


def test_the_command_rejects_a_malformed_file(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<Document><oops>")
    with pytest.raises(CommandError, match=r"bad\.xml: not well-formed XML.*Nothing was stored"):
        call_command("import_bank_statement", str(bad))
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_bank_statement", str(tmp_path / "missing.xml"))


def _mt940_parts(text: str) -> tuple[list[str], list[list[str]], list[str]]:
    """(header up to the opening balance, one block per :61: entry with its :86:, footer from :62F:)."""
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(":61:"))
    last = next(i for i, line in enumerate(lines) if line.startswith(":62"))
    blocks: list[list[str]] = []
    for line in lines[first:last]:
        if line.startswith(":61:"):
            blocks.append([])
        blocks[-1].append(line)
    return lines[:first], blocks, lines[last:]


def _mt940_file(path: Path, header: list[str], blocks: list[list[str]], footer: list[str], *, ref: str) -> Path:
    header = [f":20:{ref}" if line.startswith(":20:") else line for line in header]
    path.write_text("\n".join(header + [line for block in blocks for line in block] + footer) + "\n")
    return path


def test_overlapping_mt940_files_record_each_entry_once(tmp_path):
    """Entries without a bank reference (NONREF) get ids from their content, not their position: the
    second of two overlapping statements records only what is new, and two identical transfers on one
    day stay two payments."""
    header, blocks, footer = _mt940_parts(real(ING_SCOR).read_text())
    savings = blocks[1]  # 01-07 C 300,00 NONREF "VAN Zkl Kwartaal Spaarrekening"
    assert savings[0].startswith(":61:130701C300,00") and "NONREF" in savings[0]
    twin = list(savings)  # the same transfer again that day: a real second payment
    # The first file ends on the twin, with its own statement totals after the closing balance (which
    # the library would otherwise glue onto the last entry's text).
    first_footer = [line if not line.startswith(":86:D") else ":86:D000001C000002D10,00C600,00" for line in footer]
    first = _mt940_file(tmp_path / "week27.940", header, [blocks[0], savings, twin], first_footer, ref="W27")
    # The second file starts on 01-07 again, wraps that :86: at another width, and runs to 30-09.
    rewrapped = [savings[0], ":86:0001234567 VAN Zkl Kwartaal", "Spaarrekening"]
    second = _mt940_file(tmp_path / "q3.940", header, [blocks[0], rewrapped, twin, *blocks[2:]], footer, ref="Q3")

    out = StringIO()
    call_command("import_bank_statement", str(first), stdout=out)
    assert "matched 0, unmatched 2, duplicate 0, skipped 1" in out.getvalue()
    out = StringIO()
    call_command("import_bank_statement", str(second), stdout=out)
    assert "matched 0, unmatched 1, duplicate 2, skipped 5" in out.getvalue()  # only 15-07 C 400,00 is new
    # The original statement (one 300,00 on 01-07) holds nothing new either.
    report = bank_statement_import(content=real(ING_SCOR).read_bytes())
    assert report.counts == {"matched": 0, "unmatched": 0, "duplicate": 2, "skipped": 5}

    payments = Payment.objects.order_by("paid_at", "id")
    assert [(p.amount, timezone.localdate(p.paid_at).isoformat()) for p in payments] == [
        (Decimal("300.00"), "2013-07-01"),
        (Decimal("300.00"), "2013-07-01"),
        (Decimal("400.00"), "2013-07-15"),
    ]
    assert not any("W27" in p.external_id or "Q3" in p.external_id for p in payments)  # no statement id
    assert {p.reference_text for p in payments} == {"0001234567 VAN Zkl Kwartaal Spaarrekening"}


def test_identical_entries_are_numbered_and_a_statement_trailer_is_not_entry_text():
    _, entries = statement_parse(real(ING_SCOR).read_bytes())
    assert entries[-1].remittance_text == "NL57ABNA0987654321 ABNANL2A J AAP kilometervergoeding 3e kwartaal"
    ids = [e.external_id for e in entries]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("mt940|0001234567|c|") and i.endswith("|1") for i in ids)
    _, ing = statement_parse(real(ING_940).read_bytes())
    assert ing[-1].remittance_text.endswith("/REMI/STRD/CUR/1070123412341234/")  # no "/SUM/4/4/..." glued on


def test_overlapping_camt053_exports_without_bank_references_record_each_entry_once(tmp_path):
    """The real Rabobank export has no AcctSvcrRef: its entries get content-based ids too, so a daily
    export followed by an overlapping one (other statement ids) records only what is new."""
    from lxml import etree

    def export(keep: slice, *, suffix: str) -> bytes:
        root = etree.fromstring(real(RABOBANK).read_bytes())
        statements = [e for e in root.iter() if etree.QName(e).localname == "Stmt"]
        for stmt in statements:
            if stmt not in statements[keep]:
                stmt.getparent().remove(stmt)
            else:
                stmt_id = next(c for c in stmt if etree.QName(c).localname == "Id")
                stmt_id.text += suffix
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    # Statements 0-59 hold the credits of 15-08, 28-09 and 11-10; statements 40-131 those of 28-09,
    # 11-10 and the one of 26-07 that is booked last.
    (tmp_path / "july-october.xml").write_bytes(export(slice(0, 60), suffix="-A"))
    (tmp_path / "september-december.xml").write_bytes(export(slice(40, None), suffix="-B"))

    out = StringIO()
    call_command("import_bank_statement", str(tmp_path / "july-october.xml"), stdout=out)
    assert "matched 0, unmatched 3, duplicate 0" in out.getvalue()
    out = StringIO()
    call_command("import_bank_statement", str(tmp_path / "september-december.xml"), stdout=out)
    assert "matched 0, unmatched 1, duplicate 2" in out.getvalue()
    again = bank_statement_import(content=real(RABOBANK).read_bytes())
    assert again.counts == {"matched": 0, "unmatched": 0, "duplicate": 4, "skipped": 5}
    assert Payment.objects.count() == 4
