from decimal import Decimal

import pytest

from dunning.fees import wik_collection_costs


@pytest.mark.parametrize(
    ("principal", "costs"),
    [
        ("0.00", "0.00"),
        ("100.00", "40.00"),  # 15% is 15: the minimum applies
        ("266.66", "40.00"),  # 39.999 rounds to 40.00
        ("266.67", "40.00"),
        ("300.00", "45.00"),
        ("2500.00", "375.00"),  # end of the first band
        ("2500.01", "375.00"),
        ("5000.00", "625.00"),  # 375 + 250
        ("10000.00", "875.00"),  # + 250
        ("200000.00", "2775.00"),  # + 1,900
        ("1000000.00", "6775.00"),  # 2,775 + 4,000 = maximum exactly
        ("5000000.00", "6775.00"),  # capped
    ],
)
def test_statutory_scale_at_its_boundaries(principal, costs):
    assert wik_collection_costs(Decimal(principal)) == Decimal(costs)


def test_floats_are_refused():
    with pytest.raises(TypeError):
        wik_collection_costs(100.0)
