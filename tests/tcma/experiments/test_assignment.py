"""Assignment wired into launches: one partner one variant across outputs, stable, balanced, recorded."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from tcma.extensions import db
from tcma.models import Asset, TrackedLink
from tcma.services.experiments.assignment import variant_for_partner, variant_for_recipient
from tests.support.factories import make_partner
from tests.tcma.experiments.conftest import arms_of, campaign_world, start_experiment


def variants_by_partner(campaign_id: int) -> dict[int, set[str | None]]:
    found: dict[int, set[str | None]] = {}
    for partner_id, variant in db.session.execute(select(Asset.partner_id, Asset.variant)
                                                  .where(Asset.campaign_id == campaign_id)):
        found.setdefault(partner_id, set()).add(variant)
    return found


def test_launch_renders_each_partner_in_its_arm_and_links_carry_it(app, client):
    world = campaign_world(client, partners=8)
    experiment = start_experiment(client, world)
    launched = client.post(f"/api/v1/campaigns/{world['campaign']}/launch", headers=world["marketer"])
    assert launched.status_code == 202 and launched.json["done"] == 24, launched.json
    arms = arms_of(experiment["id"])
    assert sorted(arms) == sorted(p.id for p in world["partners"])
    assert variants_by_partner(world["campaign"]) == {pid: {arm} for pid, arm in arms.items()}
    assert set(arms.values()) == {"a", "b"}  # 8 partners hashed over two arms: both used here
    links = db.session.execute(select(TrackedLink.partner_id, TrackedLink.variant)
                               .where(TrackedLink.campaign_id == world["campaign"])).all()
    assert links and all(variant == arms[pid] for pid, variant in links)
    shown = client.get(f"/api/v1/experiments/{experiment['id']}", headers=world["marketer"]).json
    assert shown["assigned"] == dict(Counter(arms.values()))


def test_relaunch_and_late_joiner_keep_or_get_a_stable_arm(app, client):
    world = campaign_world(client, partners=4)
    experiment = start_experiment(client, world)
    client.post(f"/api/v1/campaigns/{world['campaign']}/launch", headers=world["marketer"])
    before = arms_of(experiment["id"])
    late = make_partner(world["taxonomy"])
    again = client.post(f"/api/v1/campaigns/{world['campaign']}/launch", headers=world["marketer"])
    assert again.json["done"] == 15
    after = arms_of(experiment["id"])
    assert {pid: after[pid] for pid in before} == before
    assert variants_by_partner(world["campaign"])[late.id] == {after[late.id]}
    assert variant_for_partner(world["campaign"], late.id) == after[late.id]


def test_an_experiment_started_after_launch_rerenders_partners_in_their_arm(app, client):
    world = campaign_world(client, partners=6)
    client.post(f"/api/v1/campaigns/{world['campaign']}/launch", headers=world["marketer"])
    assert set().union(*variants_by_partner(world["campaign"]).values()) == {None}
    experiment = start_experiment(client, world)
    arms = arms_of(experiment["id"])
    assert variants_by_partner(world["campaign"]) == {pid: {arm} for pid, arm in arms.items()}
    statuses = set(db.session.scalars(select(Asset.status).where(Asset.campaign_id == world["campaign"])))
    assert statuses == {"done"}  # rendered again, in-process


def test_strata_balance_each_tier_and_region(app, client):
    world = campaign_world(client, partners=16)
    experiment = start_experiment(client, world, strata=["tier", "region"])
    client.post(f"/api/v1/campaigns/{world['campaign']}/launch", headers=world["marketer"])
    arms = arms_of(experiment["id"])
    cells: dict[tuple[int, int], Counter] = {}
    for partner in world["partners"]:
        cells.setdefault((partner.tier_id, partner.region_id), Counter())[arms[partner.id]] += 1
    assert len(cells) == 4
    assert all(cell == Counter({"a": 2, "b": 2}) for cell in cells.values()), cells


def test_weights_steer_the_split(app, client):
    world = campaign_world(client, partners=40, with_logo=False)
    weighted = [{"name": "a", "weight": 1}, {"name": "b", "weight": 3}]
    experiment = start_experiment(client, world, variants=weighted, strata=["tier"])
    client.post(f"/api/v1/campaigns/{world['campaign']}/launch", headers=world["marketer"])
    assert Counter(arms_of(experiment["id"]).values()) == {"a": 10, "b": 30}


def test_recipient_unit_hashes_each_address_and_a_send_can_ask(app, client):
    world = campaign_world(client, partners=1)
    start_experiment(client, world, unit="recipient", metric="open")
    partner = world["partners"][0]
    arms = {variant_for_recipient(world["campaign"], partner.id, f"person{i}@example.com") for i in range(40)}
    assert arms == {"a", "b"}
    first = variant_for_recipient(world["campaign"], partner.id, "Person1@Example.com ")
    assert first == variant_for_recipient(world["campaign"], partner.id, "person1@example.com")
    assert variant_for_partner(world["campaign"], partner.id) is None  # partners are not the unit


def test_no_experiment_leaves_variants_alone(app, client):
    world = campaign_world(client, partners=2)
    client.post(f"/api/v1/campaigns/{world['campaign']}/launch", headers=world["marketer"])
    assert variant_for_partner(world["campaign"], world["partners"][0].id) is None
    assert set().union(*variants_by_partner(world["campaign"]).values()) == {None}
