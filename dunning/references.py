"""The Dutch structured payment reference (betalingskenmerk, Currence / Betaalvereniging spec).

7 digits carry no check digit; 9-14 digits are check digit + length code + payload; 16 digits are check
digit + 15 payload digits. The check digit is a weighted modulus 11 over every digit after it, with
weights 2, 4, 8, 5, 10, 9, 7, 3, 6, 1 assigned from the rightmost digit and repeating.
"""

import re

WEIGHTS = (2, 4, 8, 5, 10, 9, 7, 3, 6, 1)
# Allowed lengths and the length code that must stand in the second position (None: no length code).
LENGTH_CODES = {9: "7", 10: "8", 11: "9", 12: "0", 13: "1", 14: "2", 16: None}
_SEPARATORS = re.compile(r"[\s.\-]")
# A candidate reference inside free remittance text ("BETALINGSKENM. 5000 0567 8901 2345").
_CANDIDATE = re.compile(r"(?<!\d)\d(?:[ .]?\d){6,15}(?!\d)")


def _check_digit(digits: str) -> str:
    total = sum(int(d) * WEIGHTS[i % len(WEIGHTS)] for i, d in enumerate(reversed(digits)))
    check = 11 - (total % 11)
    return {10: "1", 11: "0"}.get(check, str(check))


def payment_reference_normalise(value: str) -> str:
    """The reference without spaces, dots or dashes, as clerks and citizens often write it."""
    return _SEPARATORS.sub("", value or "")


def payment_reference_is_valid(value: str) -> bool:
    digits = payment_reference_normalise(value)
    if not digits.isdigit() or not digits.isascii():
        return False
    if len(digits) == 7:
        return True
    if len(digits) not in LENGTH_CODES:
        return False
    length_code = LENGTH_CODES[len(digits)]
    if length_code is not None and digits[1] != length_code:
        return False
    return digits[0] == _check_digit(digits[1:])


def payment_reference_make(number: int) -> str:
    """A 16-digit reference for `number` (0 <= number < 10**15): check digit + 15 payload digits."""
    if not 0 <= number < 10**15:
        raise ValueError(f"payment reference number out of range: {number}")
    payload = f"{number:015d}"
    return _check_digit(payload) + payload


def payment_reference_format(value: str) -> str:
    """Grouped for people: 5000 0567 8901 2345."""
    digits = payment_reference_normalise(value)
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def payment_references_in_text(text: str) -> list[str]:
    """Every valid reference found in free text (remittance information), normalised, in order."""
    found: list[str] = []
    for match in _CANDIDATE.finditer(text or ""):
        digits = payment_reference_normalise(match.group())
        if len(digits) >= 9 and payment_reference_is_valid(digits) and digits not in found:
            found.append(digits)
    return found
