"""Sample-ratio mismatch against GrowthBook's published case and scipy.

GrowthBook: growthbook/growthbook packages/stats/tests/test_gbstats.py before commit 01387ac8d6,
TestHelpers.test_srm: check_srm([1000, 1200], [0.5, 0.5]) rounds to 0.000020079 (9 decimals).
"""

from __future__ import annotations

import pytest

from campaigns.experiments import ExperimentError, check_srm


def test_two_arms_match_growthbook():
    result = check_srm([1000, 1200], [0.5, 0.5])
    assert result.p_value == pytest.approx(0.000020079, abs=5e-10)
    assert result.chi2 == pytest.approx(2 * 100**2 / 1100, rel=1e-12)
    assert result.flagged is True
    assert result.skipped is None


def test_unequal_weights_match_scipy_chisquare():
    # scipy.stats.chisquare([480, 530, 1010], [505, 505, 1010])
    result = check_srm([480, 530, 1010], [1, 1, 2])
    assert result.chi2 == pytest.approx(2.4752475247524752, abs=1e-12)
    assert result.p_value == pytest.approx(0.29007268125770974, abs=1e-12)
    assert result.flagged is False


@pytest.mark.parametrize(("units", "weights"), [([480, 530, 1010], [1, 1, 2]), ([1000, 1200], [0.5, 0.5]),
                                               ([4987321, 5012679], [1, 1]), ([7, 12, 30, 1], [1, 3, 3, 1])])
def test_chi_square_and_p_value_are_scipys_to_the_last_bit(units, weights):
    from scipy import stats

    expected = [sum(units) * weight / sum(weights) for weight in weights]
    chi2, p_value = stats.chisquare(units, expected)
    result = check_srm(units, weights)
    assert (result.chi2, result.p_value) == (float(chi2), float(p_value))


def test_threshold_decides_the_flag():
    assert check_srm([1000, 1200], [1, 1], threshold=0.00001).flagged is False
    assert check_srm([1000, 1100], [1, 1], threshold=0.05).flagged is True


def test_skipped_not_flagged_while_an_expected_count_is_under_five():
    result = check_srm([0, 9], [1, 1])
    assert result == result.__class__(None, None, False, "an expected count is under 5 (4.5): too few units "
                                                          "for the chi-square approximation")


def test_bad_weights_and_threshold_name_the_field():
    with pytest.raises(ExperimentError, match="^weights: 3 weights for 2 arms$"):
        check_srm([10, 10], [1, 1, 1])
    with pytest.raises(ExperimentError, match=r"^weights\[1\]: 0 is not a positive number$"):
        check_srm([10, 10], [1, 0])
    with pytest.raises(ExperimentError, match="^srm_threshold: 2 is not a number between 0 and 1$"):
        check_srm([10, 10], [1, 1], threshold=2)
