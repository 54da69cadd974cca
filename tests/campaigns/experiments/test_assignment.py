"""Deterministic assignment: GrowthBook's version-2 hash cases and bucket ranges, stable across processes.

Hash cases: growthbook/growthbook packages/sdk-js/test/cases.json ("hash", version 2);
ranges as its "getBucketRange" case "uneven weights, 3 variations": [0, .2), [.2, .5), [.5, 1).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from campaigns.experiments import ExperimentError, assign, bucket, check_srm, fnv1a32


@pytest.mark.parametrize(("salt", "unit", "expected"), [
    ("seed", "a", 0.0505), ("seed", "b", 0.2696), ("foo", "ab", 0.2575), ("foo", "def", 0.2019),
    ("89123klj", "8952klfjas09ujkasdf", 0.124), ("90850943850283058242805", "123", 0.7516),
    ("()**(%$##$%#$#", '___)((*":&', 0.0128),
])
def test_bucket_matches_growthbook_sdk_cases(salt, unit, expected):
    assert bucket(salt, unit) == expected


def test_fnv1a32_reference_vectors():
    assert fnv1a32("") == 0x811C9DC5
    assert fnv1a32("a") == 0xE40C292C
    assert fnv1a32("foobar") == 0xBF9CF968


@pytest.mark.parametrize(("salt", "unit", "arm"), [
    ("seed", "a", 0), ("foo", "def", 1), ("foo", "ab", 1), ("89123klj", "8952klfjas09ujkasdf", 0),
    ("90850943850283058242805", "123", 2),
])
def test_assign_takes_consecutive_shares_by_weight(salt, unit, arm):
    assert assign(salt, unit, [0.2, 0.3, 0.5]) == arm
    assert assign(salt, unit, [2, 3, 5]) == arm


def test_assignment_follows_the_weights():
    counts = [0, 0, 0]
    for unit in range(12000):
        counts[assign("launch-2026", f"partner-{unit}", [1, 1, 2])] += 1
    assert check_srm(counts, [1, 1, 2]).p_value > 0.001


def test_assignment_is_stable_across_processes():
    code = ("from campaigns.experiments import assign; "
            "print(','.join(str(assign('exp', f'u{i}', [1, 1])) for i in range(200)))")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert runs == {",".join(str(assign("exp", f"u{i}", [1, 1])) for i in range(200)) + "\n"}


def test_bad_weights_name_the_field():
    with pytest.raises(ExperimentError, match="^weights: at least one arm is needed$"):
        assign("exp", "u1", [])
    with pytest.raises(ExperimentError, match=r"^weights\[0\]: -1 is not a positive number$"):
        assign("exp", "u1", [-1, 1])
