"""The experiments API: who may use it, and every refusal names its problem and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tcma.extensions import db
from tcma.models import Experiment
from tests.support.factories import make_user
from tests.tcma.experiments.conftest import EXPERIMENT, campaign_world, start_experiment


@pytest.fixture
def world(app, client):
    return campaign_world(client, partners=2)


def experiments_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Experiment))


def test_partner_users_are_refused_and_anonymous_callers_must_sign_in(app, client, world):
    experiment = start_experiment(client, world)
    _, partner = make_user("partner", world["partners"][0])
    paths = [("post", f"/api/v1/campaigns/{world['campaign']}/experiments"),
             ("get", f"/api/v1/campaigns/{world['campaign']}/experiments"),
             ("get", f"/api/v1/experiments/{experiment['id']}"),
             ("get", f"/api/v1/experiments/{experiment['id']}/results"),
             ("post", f"/api/v1/experiments/{experiment['id']}/decide"),
             ("post", f"/api/v1/experiments/{experiment['id']}/stop")]
    for method, path in paths:
        assert getattr(client, method)(path, headers=partner, json={}).status_code == 403, path
        assert getattr(client, method)(path, json={}).status_code == 401, path
    assert client.get(f"/api/v1/experiments/{experiment['id']}", headers=world["marketer"]).json[
        "status"] == "running"


def test_list_and_show(app, client, world):
    created = start_experiment(client, world)
    listed = client.get(f"/api/v1/campaigns/{world['campaign']}/experiments", headers=world["marketer"])
    assert [item["id"] for item in listed.json] == [created["id"]]
    shown = client.get(f"/api/v1/experiments/{created['id']}", headers=world["marketer"]).json
    assert shown["variants"] == [{"name": "a", "weight": 1}, {"name": "b", "weight": 1}]
    assert shown["metric"] == "click" and shown["unit"] == "partner" and shown["method"] == "sequential"


def test_unknown_ids_answer_404(app, client, world):
    marketer = world["marketer"]
    assert client.get("/api/v1/experiments/999999", headers=marketer).json["message"] == \
        "experiment 999999 not found"
    assert client.get("/api/v1/experiments/999999/results", headers=marketer).status_code == 404
    assert client.post("/api/v1/campaigns/999999/experiments", headers=marketer,
                       json=EXPERIMENT).status_code == 404


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"variants": [{"name": "a"}, {"name": "z"}]}, "variants",
     "the campaign's templates have no variant z"),
    ({"variants": [{"name": "a"}, {"name": "a"}]}, "variants", "each variant may be named once"),
    ({"variants": [{"name": "a"}]}, "variants", None),
    ({"metric": "reaction", "unit": "recipient"}, "metric",
     "a recipient-level experiment measures clicks or opens of emails"),
    ({"unit": "recipient", "strata": ["tier"]}, "strata", "strata balance partners; recipients are hashed"),
    ({"min_runtime_days": 30, "max_runtime_days": 10}, "min_runtime_days",
     "the minimum runtime is longer than the maximum"),
    ({"strata": ["planet"]}, "strata", None),
    ({"method": "guess"}, "method", None),
    ({"confidence": 1.5}, "confidence", None),
    ({"variants": [{"name": "a", "weight": 0}, {"name": "b"}]}, "variants", None),
])
def test_bad_experiments_are_refused_naming_the_field(app, client, world, body, field, message):
    response = client.post(f"/api/v1/campaigns/{world['campaign']}/experiments", headers=world["marketer"],
                           json={**EXPERIMENT, **body})
    assert response.status_code == 422, response.json
    assert field in response.json["errors"] or any(key.startswith(field) for key in
                                                   response.json["errors"].get("json", {}))
    if message is not None:
        assert response.json["message"] == message
    assert experiments_count() == 0


def test_one_running_experiment_per_campaign(app, client, world):
    first = start_experiment(client, world)
    second = client.post(f"/api/v1/campaigns/{world['campaign']}/experiments", headers=world["marketer"],
                         json=EXPERIMENT)
    assert second.status_code == 409
    assert second.json["message"] == (f"experiment {first['id']} is still running on this campaign: "
                                      "decide or stop it first")


def test_an_archived_campaign_runs_no_experiment(app, client, world):
    from tcma.models import Campaign

    db.session.get(Campaign, world["campaign"]).status = "archived"
    db.session.commit()
    refused = client.post(f"/api/v1/campaigns/{world['campaign']}/experiments", headers=world["marketer"],
                          json=EXPERIMENT)
    assert refused.status_code == 409 and refused.json["message"] == \
        "an archived campaign cannot run an experiment"


def test_decide_names_an_arm(app, client, world):
    experiment = start_experiment(client, world)
    refused = client.post(f"/api/v1/experiments/{experiment['id']}/decide", headers=world["marketer"],
                          json={"winner": "c"})
    assert refused.status_code == 422 and refused.json["message"] == "no arm 'c'"
    assert refused.json["errors"] == {"winner": ["one of a, b, or null"]}
    decide = f"/api/v1/experiments/{experiment['id']}/decide"
    missing = client.post(decide, headers=world["marketer"], json={})
    assert missing.status_code == 422
    shown = client.get(f"/api/v1/experiments/{experiment['id']}", headers=world["marketer"]).json
    assert shown["status"] == "running" and shown["decision"] is None
