import pytest

from dunning.references import (
    payment_reference_format,
    payment_reference_is_valid,
    payment_reference_make,
    payment_references_in_text,
)


@pytest.mark.parametrize(
    "reference",
    ["5000056789012345", "12234534622567", "1067931951601240", "8850426741301240", "0189827218201120", "1234567"],
)
def test_published_valid_references_are_accepted(reference):
    assert payment_reference_is_valid(reference)


@pytest.mark.parametrize(
    "reference",
    [
        "9001123412341234",  # check digit 8 expected
        "1070123412341234",
        "1234567899874563",
        "4654654654654654",
        "1212121212",  # check passes but length code 2 where 10 digits need 8
        "3010675705",
        "000000042188659",  # 15 digits is not an allowed length
        "12345678",  # 8 digits neither
        "",
        "50000567890123a5",
    ],
)
def test_published_invalid_references_are_rejected(reference):
    assert not payment_reference_is_valid(reference)


def test_spaces_and_dots_are_ignored():
    assert payment_reference_is_valid("5000 0567 8901 2345")
    assert payment_reference_is_valid("5000.0567.8901.2345")


def test_made_references_are_valid_16_digit_with_the_spec_example():
    assert payment_reference_make(56789012345) == "5000056789012345"
    for number in (0, 1, 9, 123456, 10**15 - 1):
        reference = payment_reference_make(number)
        assert len(reference) == 16
        assert payment_reference_is_valid(reference)


def test_a_changed_digit_is_detected():
    reference = payment_reference_make(424242)
    tampered = reference[:-1] + str((int(reference[-1]) + 1) % 10)
    assert not payment_reference_is_valid(tampered)


def test_make_rejects_numbers_out_of_range():
    with pytest.raises(ValueError):
        payment_reference_make(-1)
    with pytest.raises(ValueError):
        payment_reference_make(10**15)


def test_references_are_found_in_remittance_text():
    text = "BETALINGSKENM.  1067931951601240 aanslag 2026 / ook 5000 0567 8901 2345"
    assert payment_references_in_text(text) == ["1067931951601240", "5000056789012345"]
    assert payment_references_in_text("factuur 2016Q3-0004") == []


def test_format_groups_by_four():
    assert payment_reference_format("5000056789012345") == "5000 0567 8901 2345"
