"""`tcma insights partners`: the score list as a table or CSV, filtered by flag."""

from __future__ import annotations

import json
from datetime import date

from tests.support.factories import make_taxonomy
from tests.tcma.insights.history import partner, rollup


def test_partners_table_csv_and_flag_filter(app, runner):
    taxonomy = make_taxonomy()
    busy = partner(taxonomy, date(2026, 1, 10), "Busy GmbH")
    rollup(busy, "download", date(2026, 6, 30), 10)
    quiet = partner(taxonomy, date(2026, 1, 10), "Quiet Oy")
    rollup(quiet, "download", date(2026, 4, 10), 1)
    table = runner.invoke(args=["insights", "partners", "--as-of", "2026-06-30"])
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].split() == ["id", "name", "score", "last", "active", "flags"]
    # 20x1/10 + 15x(1-81/90)
    assert lines[1].split()[:5] == [str(quiet.id), "Quiet", "Oy", "3.5", "2026-04-10"]
    assert lines[1].endswith("inactive: no activity for 81 days (last on 2026-04-10)")
    assert lines[2].split() == [str(busy.id), "Busy", "GmbH", "35.0", "2026-06-30"]
    flagged = runner.invoke(args=["insights", "partners", "--as-of", "2026-06-30", "--flag", "churning",
                                  "--csv"])
    assert flagged.exit_code == 0, flagged.output
    rows = [line.split(",")[:3] for line in flagged.output.splitlines()[1:]]
    assert rows == [[str(quiet.id), "Quiet Oy", "3.5"]]


def test_no_partner_flagged_says_so_and_a_bad_flag_is_named(app, runner):
    assert runner.invoke(args=["insights", "partners", "--flag", "inactive"]).output == "no partners\n"
    bad = runner.invoke(args=["insights", "partners", "--flag", "sleepy"])
    assert bad.exit_code == 2
    assert ("Invalid value for '--flag': 'sleepy' is not one of 'dropping', 'inactive', 'churning'."
            in bad.output)
    too_late = runner.invoke(args=["insights", "partners", "--as-of", "3000-01-01"])
    assert too_late.exit_code == 1
    assert too_late.output == "Error: as_of must be a day from 2000-01-01 to 2999-12-31\n"


def test_kpis_as_json(app, runner):
    taxonomy = make_taxonomy()
    used = partner(taxonomy, date(2026, 1, 10), "Used SRL")
    rollup(used, "download", date(2026, 1, 20), 1)
    partner(taxonomy, date(2026, 1, 10), "Unused SRL")
    answer = runner.invoke(args=["insights", "kpis", "--as-of", "2026-06-30"])
    assert answer.exit_code == 0, answer.output
    body = json.loads(answer.output)
    assert (body["as_of"], body["partners"]) == ("2026-06-30", 2)
    assert body["activation"] == {"days": 30, "cohort": 2, "activated": 1, "rate": 0.5, "used": 1,
                                  "median_days_to_first_use": 10}
    too_early = runner.invoke(args=["insights", "kpis", "--as-of", "1999-01-01"])
    assert (too_early.exit_code, too_early.output) == (1, "Error: as_of must be a day from 2000-01-01 to "
                                                          "2999-12-31\n")
