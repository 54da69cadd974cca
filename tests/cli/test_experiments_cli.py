"""tcma experiments analyze, driven through click's CliRunner (no database)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tcma.cli.experiments import COMMANDS, experiments_cli

SPEC = {"method": "bayesian", "arms": [{"name": "control", "n": 100, "conversions": 49},
                                      {"name": "b", "n": 100, "conversions": 51}]}


def test_group_is_exported_for_registration():
    assert COMMANDS == [experiments_cli]
    assert experiments_cli.name == "experiments"


def test_analyze_reads_a_file(tmp_path):
    path = tmp_path / "experiment.json"
    path.write_text(json.dumps(SPEC))
    result = CliRunner().invoke(experiments_cli, ["analyze", str(path)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert set(out) == {"srm", "comparisons", "decision"}
    assert out["comparisons"][0]["chance_to_win"] == pytest.approx(0.6107705226877711, abs=1e-9)
    assert out["decision"]["winner"] is None


def test_analyze_reads_stdin_when_no_file():
    result = CliRunner().invoke(experiments_cli, ["analyze"], input=json.dumps(SPEC))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["srm"]["flagged"] is False


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "Error: input: not valid JSON (Expecting property name enclosed in double quotes: line 1 "
                  "column 2 (char 1))"),
    (json.dumps({"arms": [SPEC["arms"][0], {"name": "b", "n": 10, "conversions": 12}]}),
     "Error: arms[1].conversions: 12 is more than n (10)"),
    (json.dumps({"method": "anova", "arms": SPEC["arms"]}),
     "Error: method: 'anova' is not one of welch, ztest, bayesian"),
    (json.dumps({"arms": SPEC["arms"][:1]}),
     "Error: arms: has 1 arm(s); a control and at least one treatment are needed"),
    (json.dumps({"weights": [1], "arms": SPEC["arms"]}), "Error: weights: 1 weights for 2 arms"),
    (json.dumps({"arms": [{"name": "a", "n": -1, "conversions": 0}, SPEC["arms"][1]]}),
     "Error: arms[0].n: -1 is negative"),
])
def test_bad_input_exits_non_zero_naming_the_field(text, message):
    result = CliRunner().invoke(experiments_cli, ["analyze"], input=text)
    assert result.exit_code == 1
    assert result.output.strip() == message


def test_missing_file_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(experiments_cli, ["analyze", str(tmp_path / "absent.json")])
    assert result.exit_code == 2
    assert "absent.json" in result.output
