"""The CSV claim import: every error path with bad files, all-or-nothing, idempotent re-import, admin."""

import base64
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone, translation

from customers.models import Debtor
from dunning.models import Claim, Payment
from dunning.services.claim_import import ImportFileError, claims_import
from dunning.services.demo import policies_ensure, segments_ensure
from tests.factories import make_claim, make_debtor

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "import"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def policies(db):
    return policies_ensure(segments=segments_ensure())


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English (the admin and commands speak Dutch by default)."""
    with translation.override("en"):
        yield


def _data(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _errors(result) -> set[tuple[int, str]]:
    return {(e.line, e.column) for e in result.errors}


def _csv(
    *rows: str, header="debtor_reference,surname,claim_reference,payment_reference,kind,principal,issued_on,due_on"
):
    return ("\n".join([header, *rows]) + "\n").encode()


# ------------------------------------------------------------------------------------- good files


def test_a_good_file_creates_debtors_and_claims_with_normalised_values():
    result = claims_import(data=_data("good.csv"))
    assert result.stored and not result.errors
    assert result.debtors == {"created": 3, "updated": 0, "unchanged": 0}
    assert result.claims == {"created": 4, "updated": 0, "unchanged": 0}
    anna = Debtor.objects.get(source_reference="D-1001")
    assert (anna.surname_prefix, anna.surname, anna.postal_code) == ("de", "Vries", "1011 AB")
    assert anna.phone == "+31612345678"
    ozb = Claim.objects.get(source_reference="AS-2026-0001")
    assert ozb.payment_reference == "1100000000000001"  # spaces removed
    assert ozb.principal == ozb.open_amount == Decimal("412.50")
    assert ozb.regime == "tax" and ozb.policy.regime == "tax"  # the one tax policy, policy column empty
    rent = Claim.objects.get(source_reference="HU-2026-Q1")
    assert rent.principal == Decimal("1850.00") and rent.regime == "private"
    assert rent.debtor.kind == "organisation" and rent.debtor.language == "en"
    assert Claim.objects.get(source_reference="PK-2026-0099").regime == "administrative"


def test_excel_export_with_bom_semicolons_and_decimal_commas():
    result = claims_import(data=_data("excel_semicolon_bom.csv"))
    assert result.stored, result.errors
    claim = Claim.objects.get(source_reference="AS-2026-1001")
    assert claim.principal == Decimal("236.52") and claim.open_amount == Decimal("100.00")


def test_re_importing_the_same_file_changes_nothing():
    claims_import(data=_data("good.csv"))
    before = {c.pk: c.updated_at for c in Claim.objects.all()}
    result = claims_import(data=_data("good.csv"))
    assert result.debtors == {"created": 0, "updated": 0, "unchanged": 3}
    assert result.claims == {"created": 0, "updated": 0, "unchanged": 4}
    assert {c.pk: c.updated_at for c in Claim.objects.all()} == before


def test_a_changed_row_updates_by_source_reference_and_keeps_the_open_amount_after_payments():
    claims_import(data=_data("good.csv"))
    claim = Claim.objects.get(source_reference="AS-2026-0001")
    Payment.objects.create(
        source="clerk", external_id="p1", amount=Decimal("12.50"), paid_at=timezone.now(), claim=claim
    )
    claim.open_amount = Decimal("400.00")
    claim.save()
    debtor = claim.debtor
    debtor.email_invalid_since = timezone.now()
    debtor.save()
    changed = (
        _data("good.csv")
        .replace(b"OZB woning 2026", b"OZB woning 2026 (gecorrigeerd)")
        .replace(b"anna.devries@example.nl", b"anna@example.nl")
    )
    result = claims_import(data=changed)
    assert result.claims["updated"] == 1 and result.debtors["updated"] == 1
    claim.refresh_from_db()
    assert claim.description == "OZB woning 2026 (gecorrigeerd)"
    assert claim.open_amount == Decimal("400.00")  # payments booked here own the open amount
    debtor.refresh_from_db()
    assert debtor.email == "anna@example.nl" and debtor.email_invalid_since is None


def test_a_changed_principal_on_a_claim_with_payments_is_refused():
    claims_import(data=_data("good.csv"))
    claim = Claim.objects.get(source_reference="AS-2026-0001")
    Payment.objects.create(source="clerk", external_id="p1", amount=Decimal("1"), paid_at=timezone.now(), claim=claim)
    result = claims_import(data=_data("good.csv").replace(b"412.50", b"500.00"))
    assert not result.stored
    assert (2, "principal") in _errors(result)


def test_dry_run_stores_nothing_but_counts():
    result = claims_import(data=_data("good.csv"), dry_run=True)
    assert not result.stored and result.claims["created"] == 4
    assert not Claim.objects.exists() and not Debtor.objects.exists()


# -------------------------------------------------------------------------------------- bad files


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "empty"),
        ("header_only.csv", "no rows"),
        ("latin1.csv", "not valid UTF-8"),
        (
            "bad_columns.csv",
            "missing required columns: claim_reference, principal; unknown columns: 'claim_ref', 'amount'",
        ),
    ],
)
def test_a_file_that_cannot_be_read_fails_as_a_whole_with_one_clear_error(name, message):
    with pytest.raises(ImportFileError, match=message.replace("(", r"\(")):
        claims_import(data=_data(name))
    assert not Claim.objects.exists()


def test_broken_encoding_names_the_line():
    with pytest.raises(ImportFileError, match="byte 0xfc on line 2"):
        claims_import(data=_data("latin1.csv"))


def test_bad_amounts_are_reported_per_line_and_nothing_is_stored():
    result = claims_import(data=_data("bad_amounts.csv"))
    assert _errors(result) == {(2, "principal"), (3, "principal"), (4, "principal"), (5, "principal")}
    messages = {e.line: e.message for e in result.errors}
    assert "negative" in messages[2] and "thousands separator" in messages[3]
    assert not result.stored and not Claim.objects.exists()  # line 6 was good, but nothing is stored


def test_bad_dates():
    result = claims_import(data=_data("bad_dates.csv"))
    assert _errors(result) == {(2, "issued_on"), (3, "issued_on"), (4, "due_on")}
    assert "YYYY-MM-DD" in result.errors[0].message


def test_duplicate_references_within_the_file():
    result = claims_import(data=_data("duplicate_references.csv"))
    assert _errors(result) == {(4, "claim_reference"), (5, "payment_reference")}
    assert "line 2" in next(e.message for e in result.errors if e.line == 4)


def test_bad_e_mail_and_phone():
    result = claims_import(data=_data("bad_contact.csv"))
    assert _errors(result) == {(2, "email"), (3, "phone"), (4, "phone")}
    assert "mobile" in next(e.message for e in result.errors if e.line == 3)


def test_bad_payment_reference_check_digit_unknown_kind_and_policy():
    result = claims_import(data=_data("bad_reference_and_kind.csv"))
    assert _errors(result) == {
        (2, "payment_reference"),
        (3, "payment_reference"),
        (4, "kind"),
        (5, "policy"),
        (6, "policy"),
    }
    by_line = {e.line: e.message for e in result.errors}
    assert "check digit" in by_line[2]
    assert "ozb" in by_line[4]
    assert "is for tax claims" in by_line[6]


def test_required_values_missing_and_a_debtor_described_twice_differently():
    data = _csv(
        "D-1,,AS-1,1100000000000001,ozb,10.00,2026-02-27,2026-04-30",
        "D-2,Jansen,AS-2,8100000000000002,ozb,10.00,2026-02-27,2026-04-30",
        "D-2,Janssen,AS-3,6100000000000003,ozb,10.00,2026-02-27,2026-04-30",
        "D-4,Smit,AS-4,4100000000000004,ozb,10.00,2026-02-27",
    )
    result = claims_import(data=data)
    assert _errors(result) == {(2, "surname"), (4, "surname"), (5, ""), (5, "due_on")}


def test_database_conflicts_payment_reference_taken_and_erased_debtor():
    make_claim(source_reference="OLD-1", payment_reference="1100000000000001")
    make_debtor(source_reference="D-9", anonymised_at=timezone.now())
    result = claims_import(
        data=_csv(
            "D-1,Jansen,AS-1,1100000000000001,ozb,10.00,2026-02-27,2026-04-30",
            "D-9,Weg,AS-9,8100000000000002,ozb,10.00,2026-02-27,2026-04-30",
        )
    )
    assert _errors(result) == {(2, "payment_reference"), (3, "debtor_reference")}
    assert "OLD-1" in result.errors[0].message


def test_skip_invalid_stores_the_good_rows_only():
    result = claims_import(data=_data("bad_amounts.csv"), skip_invalid=True)
    assert result.stored and len(result.rejected) == 4
    assert list(Claim.objects.values_list("source_reference", flat=True)) == ["AS-5"]


# ---------------------------------------------------------------------------------------- command


def test_command_prints_every_error_with_line_and_column_and_stores_nothing(capsys):
    with pytest.raises(CommandError, match="4 of 5 rows have errors"):
        call_command("import_claims", str(FIXTURES / "bad_amounts.csv"))
    err = capsys.readouterr().err
    for line in (2, 3, 4, 5):
        assert f"line {line}, principal:" in err
    assert not Claim.objects.exists()


def test_command_wrong_columns_is_one_clear_error():
    with pytest.raises(CommandError, match="missing required columns: claim_reference, principal"):
        call_command("import_claims", str(FIXTURES / "bad_columns.csv"))


def test_command_skip_invalid_writes_the_error_csv(tmp_path, capsys):
    source = tmp_path / "claims.csv"
    source.write_bytes(_data("bad_amounts.csv"))
    call_command("import_claims", str(source), "--skip-invalid")
    out = capsys.readouterr().out
    errors_file = tmp_path / "claims.errors.csv"
    assert str(errors_file) in out
    lines = errors_file.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("line,errors,debtor_reference")
    assert len(lines) == 5 and lines[1].startswith("2,principal: must not be negative,D-1")
    assert Claim.objects.count() == 1


def test_command_dry_run_and_idempotent_re_import(capsys):
    call_command("import_claims", str(FIXTURES / "good.csv"), "--dry-run")
    assert "Dry run" in capsys.readouterr().out and not Claim.objects.exists()
    call_command("import_claims", str(FIXTURES / "good.csv"))
    assert "claims: 4 created" in capsys.readouterr().out
    call_command("import_claims", str(FIXTURES / "good.csv"))
    assert "claims: 0 created, 0 updated, 4 unchanged" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------ admin

URL = "admin:dunning_claimimport_changelist"


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_admin_upload_preview_then_confirm(client, clerk):
    client.force_login(clerk)
    assert client.get(reverse(URL)).status_code == 200
    upload = SimpleUploadedFile("good.csv", _data("good.csv"), content_type="text/csv")
    preview = client.post(reverse(URL), {"file": upload})
    assert preview.status_code == 200
    assert preview.context["result"].claims["created"] == 4 and preview.context["can_confirm"]
    assert not Claim.objects.exists()
    content = base64.b64encode(_data("good.csv")).decode()
    done = client.post(reverse(URL), {"content": content, "filename": "good.csv", "confirm": "1"})
    assert done.status_code == 302 and done["Location"] == reverse("admin:dunning_claim_changelist")
    assert Claim.objects.count() == 4


def test_admin_preview_shows_row_errors_and_offers_no_confirm(client, clerk):
    client.force_login(clerk)
    upload = SimpleUploadedFile("bad.csv", _data("bad_dates.csv"), content_type="text/csv")
    response = client.post(reverse(URL), {"file": upload})
    html = response.content.decode()
    assert 'id="import-errors"' in html and "YYYY-MM-DD" in html and "27-02-2026" in html
    assert not response.context["can_confirm"] and 'name="confirm"' not in html
    # Even a forged confirm stores nothing while rows are bad.
    content = base64.b64encode(_data("bad_dates.csv")).decode()
    client.post(reverse(URL), {"content": content, "confirm": "1"})
    assert not Claim.objects.exists()
    errors_csv = client.post(reverse(URL), {"content": content, "errors_csv": "1"})
    assert errors_csv["Content-Type"].startswith("text/csv") and b"issued_on: not a date" in errors_csv.content


def test_admin_file_level_error(client, clerk):
    client.force_login(clerk)
    upload = SimpleUploadedFile("latin1.csv", _data("latin1.csv"), content_type="text/csv")
    response = client.post(reverse(URL), {"file": upload})
    assert "not valid UTF-8" in response.content.decode()


def test_admin_import_needs_the_add_claim_permission(client, compliance_officer):
    client.force_login(compliance_officer)
    assert client.get(reverse(URL)).status_code == 403
    index = client.get(reverse("admin:index")).content.decode()
    assert reverse(URL) not in index
