"""The decision rule, decided by the maintenance pass or a marketer, and the winner fed back."""

from __future__ import annotations

from sqlalchemy import select, update

from tcma.extensions import db
from tcma.models import Asset, Experiment, ExperimentAssignment, TrackedLink
from tcma.services.experiments.assignment import variant_for_partner, variant_for_recipient
from tcma.services.maintenance import run_maintenance
from tests.support.factories import make_partner
from tests.tcma.experiments.conftest import add_rollup, age, launched_card_world


def clear_win(world, arms: dict[int, str], winner: str = "b") -> None:
    """Every partner of `winner` gets 20-23 human clicks, the others 0-3."""
    for index, (partner_id, arm) in enumerate(sorted(arms.items())):
        add_rollup(world["campaign"], partner_id, arm, "click", index % 4 + (20 if arm == winner else 0))


def card_variants(campaign_id: int) -> set[str | None]:
    return set(db.session.scalars(select(Asset.variant).where(Asset.campaign_id == campaign_id)))


def test_the_maintenance_pass_names_a_clear_winner_and_feeds_it_back(app, client):
    world, experiment, arms = launched_card_world(client, 30, confidence=0.95, min_sample=5)
    clear_win(world, arms)
    age(experiment["id"], 1)
    verdict = client.get(f"/api/v1/experiments/{experiment['id']}/results", headers=world["marketer"]).json
    assert verdict["verdict"]["outcome"] == "winner" and verdict["verdict"]["winner"] == "b"
    report = run_maintenance()
    assert report.experiments == 1 and "decided 1 experiments" in report.summary()
    shown = client.get(f"/api/v1/experiments/{experiment['id']}", headers=world["marketer"]).json
    assert shown["status"] == "decided" and shown["winner"] == "b"
    decision = shown["decision"]
    assert decision["decided_by"] == "rule" and decision["winner"] == "b"
    assert decision["results"]["arms"][1]["units"] == list(arms.values()).count("b")
    assert decision["results"]["comparisons"][0]["adjusted_p_value"] <= 0.05
    assert decision["switched"]["assets"] == list(arms.values()).count("a")
    # Later renders use it: every card is re-rendered as b, with b's tracked links.
    assert card_variants(world["campaign"]) == {"b"}
    statuses = set(db.session.scalars(select(Asset.status).where(Asset.campaign_id == world["campaign"])))
    assert statuses == {"done"}
    assert "b" in set(db.session.scalars(select(TrackedLink.variant).where(
        TrackedLink.partner_id.in_([p for p, arm in arms.items() if arm == "a"]))))
    # Late joiners get it, and so does a send.
    late = make_partner(world["taxonomy"], with_logo=False)
    client.post(f"/api/v1/campaigns/{world['campaign']}/launch", headers=world["marketer"])
    assert db.session.scalar(select(Asset.variant).where(Asset.partner_id == late.id)) == "b"
    assert variant_for_partner(world["campaign"], late.id) == "b"
    assert variant_for_recipient(world["campaign"], late.id, "x@example.com") == "b"
    assert run_maintenance().experiments == 0  # decided once


def test_nothing_is_decided_before_the_minimum_runtime_or_sample(app, client):
    # 30 partners: each arm gets the 5 units the rule needs whatever the random split
    world, experiment, arms = launched_card_world(client, 30, min_sample=5, min_runtime_days=7)
    clear_win(world, arms)
    found = client.get(f"/api/v1/experiments/{experiment['id']}/results", headers=world["marketer"]).json
    assert found["verdict"]["outcome"] == "wait"
    assert found["verdict"]["reason"].startswith("too early to judge: 0.0 of at least 7 days run")
    age(experiment["id"], 8)
    db.session.get(Experiment, experiment["id"]).min_sample = 50
    db.session.commit()
    found = client.get(f"/api/v1/experiments/{experiment['id']}/results", headers=world["marketer"]).json
    assert found["verdict"]["reason"] == "too early to judge: a, b below 50 units"
    assert run_maintenance().experiments == 0


def test_a_sample_ratio_mismatch_blocks_any_winner(app, client):
    world, experiment, arms = launched_card_world(client, 40, min_sample=2)
    clear_win(world, arms)
    # Break the split: all but two partners land in b (as a buggy assignment would).
    keep = sorted(p for p, arm in arms.items() if arm == "a")[:2]
    db.session.execute(update(ExperimentAssignment).where(
        ExperimentAssignment.experiment_id == experiment["id"], ExperimentAssignment.partner_id.not_in(keep))
        .values(variant="b"))
    db.session.commit()
    age(experiment["id"], 1)
    found = client.get(f"/api/v1/experiments/{experiment['id']}/results", headers=world["marketer"]).json
    assert found["srm"]["flagged"] is True and found["verdict"]["outcome"] == "blocked"
    assert found["verdict"]["reason"].startswith("sample ratio mismatch (p = ")
    assert "the sample ratio is NOT as planned" in found["sentence"]
    assert run_maintenance().experiments == 0
    refused = client.post(f"/api/v1/experiments/{experiment['id']}/decide", headers=world["marketer"],
                          json={"winner": "b"})
    assert refused.status_code == 409
    assert refused.json["message"].startswith("b cannot be named the winner: sample ratio mismatch")
    kept = client.post(f"/api/v1/experiments/{experiment['id']}/decide", headers=world["marketer"],
                       json={"winner": None, "note": "split broken; keep the control"})
    assert kept.status_code == 200 and kept.json["winner"] is None
    decision = kept.json["decision"]
    assert decision["decided_by"] == "marketer" and decision["rule"]["outcome"] == "blocked"
    assert card_variants(world["campaign"]) == {"a"}  # no clear winner keeps the control


def test_machine_shares_that_differ_block_a_winner(app, client):
    world, experiment, arms = launched_card_world(client, 30, min_sample=5, max_machine_share_gap=0.05)
    clear_win(world, arms)
    for partner_id, arm in arms.items():
        if arm == "b":
            add_rollup(world["campaign"], partner_id, arm, "click", 0, bots=30, days_ago=1)
    age(experiment["id"], 1)
    found = client.get(f"/api/v1/experiments/{experiment['id']}/results", headers=world["marketer"]).json
    assert found["verdict"]["outcome"] == "blocked"
    assert "machine shares differ by" in found["verdict"]["reason"]
    assert found["arms"][0]["machine_share"] == 0 and found["arms"][1]["machine_share"] > 0.5
    assert run_maintenance().experiments == 0


def test_no_clear_winner_at_the_maximum_runtime_keeps_the_control(app, client):
    world, experiment, arms = launched_card_world(client, 30, min_sample=5, max_runtime_days=14)
    for index, (partner_id, arm) in enumerate(sorted(arms.items())):
        add_rollup(world["campaign"], partner_id, arm, "click", index % 3)
    age(experiment["id"], 15)
    assert run_maintenance().experiments == 1
    shown = client.get(f"/api/v1/experiments/{experiment['id']}", headers=world["marketer"]).json
    assert shown["status"] == "decided" and shown["winner"] is None
    assert shown["decision"]["rule"] == {"outcome": "no_clear_winner", "winner": None,
                                         "reason": "no clear winner after 14 days: a (the control) is kept"}
    assert card_variants(world["campaign"]) == {"a"}


def test_bayesian_rule_uses_the_chance_to_win(app, client):
    world, experiment, arms = launched_card_world(client, 30, min_sample=5, method="bayesian", confidence=0.9)
    clear_win(world, arms)
    age(experiment["id"], 1)
    found = client.get(f"/api/v1/experiments/{experiment['id']}/results", headers=world["marketer"]).json
    assert found["verdict"]["outcome"] == "winner"
    assert found["verdict"]["reason"].startswith("b beats a: ") and "chance to beat the control" in \
        found["verdict"]["reason"]


def test_a_marketer_decides_and_the_numbers_are_kept(app, client):
    world, experiment, arms = launched_card_world(client, 10)
    response = client.post(f"/api/v1/experiments/{experiment['id']}/decide", headers=world["marketer"],
                           json={"winner": "b", "note": "brand prefers b"})
    assert response.status_code == 200, response.json
    decision = response.json["decision"]
    assert decision["note"] == "brand prefers b" and decision["decided_by"] == "marketer"
    assert [arm["units"] for arm in decision["results"]["arms"]] == [
        list(arms.values()).count("a"), list(arms.values()).count("b")]
    assert card_variants(world["campaign"]) == {"b"}
    again = client.post(f"/api/v1/experiments/{experiment['id']}/decide", headers=world["marketer"],
                        json={"winner": "a"})
    assert again.status_code == 409 and again.json["message"] == "the experiment is decided, not running"


def test_stopping_switches_nobody_and_later_partners_get_the_template_text(app, client):
    world, experiment, arms = launched_card_world(client, 6)
    stopped = client.post(f"/api/v1/experiments/{experiment['id']}/stop", headers=world["marketer"])
    assert stopped.status_code == 200 and stopped.json["status"] == "stopped"
    assert card_variants(world["campaign"]) == set(arms.values())
    late = make_partner(world["taxonomy"], with_logo=False)
    client.post(f"/api/v1/campaigns/{world['campaign']}/launch", headers=world["marketer"])
    assert db.session.scalar(select(Asset.variant).where(Asset.partner_id == late.id)) is None
    again = client.post(f"/api/v1/experiments/{experiment['id']}/stop", headers=world["marketer"])
    assert again.status_code == 409 and again.json["message"] == "the experiment is stopped, not running"


def test_a_render_under_way_at_the_decision_is_switched_by_the_next_pass(app, client):
    world, experiment, arms = launched_card_world(client, 16)  # a partner in arm a, whatever the salt
    loser_partner = next(p for p, arm in sorted(arms.items()) if arm == "a")
    busy = db.session.scalar(select(Asset).where(Asset.partner_id == loser_partner))
    busy.status = "running"  # a worker holds it (its job will write its own result)
    db.session.commit()
    decided = client.post(f"/api/v1/experiments/{experiment['id']}/decide", headers=world["marketer"],
                          json={"winner": "b"})
    assert decided.status_code == 200
    db.session.refresh(busy)
    assert busy.variant == "a" and busy.status == "running"
    busy.status = "done"  # the job ends, with the render it started
    db.session.commit()
    run_maintenance()
    db.session.refresh(busy)
    assert busy.variant == "b" and busy.status == "done"  # queued again and rendered as b
    assert card_variants(world["campaign"]) == {"b"}
