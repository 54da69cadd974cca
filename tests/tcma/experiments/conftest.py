"""Experiment test helpers: a launched campaign of partners, experiments through the API, rollups."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from tcma.extensions import db
from tcma.models import EventRollup, Experiment
from tcma.models.base import utcnow
from tcma.services.catalogue.templates import import_catalogue
from tcma.services.tracking.experiment_totals import add_to_experiment_totals, fill_experiment_totals
from tests.support.factories import make_partner, make_taxonomy, make_user
from tests.support.launch import launch

EXPERIMENT = {"name": "Headline test", "variants": [{"name": "a"}, {"name": "b"}], "min_sample": 2,
              "min_runtime_days": 0}


def campaign_world(client, partners: int = 6, outputs=None, **partner_kw):
    """`partners` partners (alternating tier and region), a marketer and a draft campaign (three outputs,
    or `outputs`)."""
    import_catalogue()
    taxonomy = make_taxonomy()
    made = [make_partner(taxonomy, tier=i % 2, region=(i // 2) % 2, **partner_kw) for i in range(partners)]
    _, marketer = make_user("marketer")
    if outputs is None:
        campaign = launch(client, marketer)
    else:
        created = client.post("/api/v1/campaigns", headers=marketer,
                              json={"name": "Card test", "outputs": outputs, "segment": {}})
        campaign = created.json["id"]
    return {"taxonomy": taxonomy, "partners": made, "marketer": marketer, "campaign": campaign}


CARD = [{"template": "social-card", "output": "png"}]


def launched_card_world(client, partners: int, **experiment) -> tuple[dict, dict, dict[int, str]]:
    """A one-output (PNG card) campaign launched to `partners` partners under an experiment: the world,
    the experiment as the API shows it, and each partner's arm."""
    world = campaign_world(client, partners=partners, outputs=CARD, with_logo=False)
    created = start_experiment(client, world, **experiment)
    launched = client.post(f"/api/v1/campaigns/{world['campaign']}/launch", headers=world["marketer"])
    assert launched.json["done"] == partners, launched.json
    return world, created, arms_of(created["id"])


def start_experiment(client, world, **overrides) -> dict:
    """Create an experiment on the world's campaign through the API (201 asserted)."""
    response = client.post(f"/api/v1/campaigns/{world['campaign']}/experiments", headers=world["marketer"],
                           json={**EXPERIMENT, **overrides})
    assert response.status_code == 201, response.json
    return response.json


def add_rollup(campaign_id: int, partner_id: int, variant: str, kind: str, total: int, bots: int = 0,
               days_ago: int = 0, uniques: int | None = None) -> None:
    """One rollup row, added to the experiments' running totals as the event writer does."""
    row = {"campaign_id": campaign_id, "asset_id": 0, "variant": variant, "partner_id": partner_id,
           "channel": "", "day": date.today() - timedelta(days=days_ago), "kind": kind, "total": total,
           "uniques": total if uniques is None else uniques, "bots": bots}
    db.session.add(EventRollup(**row))
    add_to_experiment_totals(db.session.connection(), [row])
    db.session.commit()


def age(experiment_id: int, days: float) -> None:
    """Pretend the experiment started `days` ago (its running totals recomputed for the new first day)."""
    experiment = db.session.get(Experiment, experiment_id)
    experiment.started_at = utcnow() - timedelta(days=days)
    db.session.flush()
    fill_experiment_totals(db.session.connection(), experiment_id)
    db.session.commit()


def arms_of(experiment_id: int) -> dict[int, str]:
    """partner id -> arm, as stored."""
    from tcma.models import ExperimentAssignment

    return dict(db.session.execute(select(ExperimentAssignment.partner_id, ExperimentAssignment.variant)
                                   .where(ExperimentAssignment.experiment_id == experiment_id)).all())
