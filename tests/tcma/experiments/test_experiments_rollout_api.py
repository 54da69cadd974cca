"""Setting up "test on a share, then the winner to the rest": every refusal names its problem and
changes nothing; a plan without a deadline of its own goes at the maximum runtime."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from tcma.extensions import db
from tcma.models import Asset, Experiment, ExperimentAssignment
from tests.tcma.experiments.conftest import CARD, EXPERIMENT, campaign_world


@pytest.fixture
def world(app, client):
    """Two partners, a draft campaign of a PDF, a PNG card and an email (no posts)."""
    return campaign_world(client, partners=2)


def create(client, world, **body):
    return client.post(f"/api/v1/campaigns/{world['campaign']}/experiments", headers=world["marketer"],
                       json={**EXPERIMENT, **body})


def nothing_changed() -> None:
    assert db.session.scalar(select(func.count()).select_from(Experiment)) == 0
    assert db.session.scalar(select(func.count()).select_from(ExperimentAssignment)) == 0
    assert set(db.session.scalars(select(Asset.variant))) <= {None}


@pytest.mark.parametrize("share", [0, 1, 1.5, -0.2])
def test_a_share_outside_zero_to_one_is_refused(app, client, world, share):
    response = create(client, world, unit="recipient", metric="open", rollout={"test_share": share})
    assert response.status_code == 422, response.json
    assert response.json["message"] == f"the test share must be more than 0 and less than 1, not {share}"
    assert response.json["errors"] == {"rollout": {"test_share": [
        "a fraction of the units, e.g. 0.2 tests on 20%"]}}
    nothing_changed()


@pytest.mark.parametrize("rollout", [{}, {"test_share": "most"}, {"test_share": 0.2, "deadline_hours": 0}])
def test_a_plan_of_the_wrong_shape_is_refused(app, client, world, rollout):
    response = create(client, world, unit="recipient", metric="open", rollout=rollout)
    assert response.status_code == 422
    assert "rollout" in response.json["errors"]["json"]
    nothing_changed()


def test_a_share_of_partners_needs_posts(app, client, world):
    response = create(client, world, unit="partner", rollout={"test_share": 0.2})
    assert response.status_code == 422
    assert response.json["message"] == ("a test share of partners holds their posts, and the campaign has "
                                        "no posts")
    assert response.json["errors"] == {"rollout": ["add a post output (post:linkedin, ...), or test on "
                                                   "recipients"]}
    nothing_changed()


def test_a_share_of_recipients_needs_an_email(app, client):
    world = campaign_world(client, partners=2, outputs=CARD, with_logo=False)
    response = create(client, world, unit="recipient", metric="click", rollout={"test_share": 0.2})
    assert response.status_code == 422
    assert response.json["message"] == ("a test share of recipients needs email sends, and the campaign "
                                        "has no email")
    assert response.json["errors"] == {"rollout": ["add the campaign's email output, or test on partners' "
                                                   "posts"]}
    nothing_changed()


def test_the_rest_cannot_go_before_a_winner_could_be_named(app, client, world):
    response = create(client, world, unit="recipient", metric="open", min_runtime_days=7,
                      rollout={"test_share": 0.2, "deadline_hours": 24})
    assert response.status_code == 422
    assert response.json["message"] == ("the rest would go after 24 hours, before the minimum runtime of 7 "
                                        "days: no winner could be named by then")
    assert response.json["errors"] == {"rollout": {"deadline_hours": ["at least 168 (min_runtime_days)"]}}
    nothing_changed()


def test_without_a_deadline_of_its_own_the_rest_goes_at_the_maximum_runtime(app, client, world):
    response = create(client, world, unit="recipient", metric="open", max_runtime_days=10,
                      rollout={"test_share": 0.25})
    assert response.status_code == 201, response.json
    plan = response.json["rollout"]
    started = datetime.fromisoformat(response.json["started_at"])
    assert datetime.fromisoformat(plan["deadline"]) - started == timedelta(days=10)
    assert plan["test_share"] == 0.25 and plan["unit"] == "recipient" and plan["item_name"] == "messages"
    assert (plan["tested_units"], plan["held_units"], plan["held_items"]) == (0, 0, 0)
    assert plan["released"] is None and plan["released_at"] is None
    shown = client.get(f"/api/v1/experiments/{response.json['id']}", headers=world["marketer"]).json
    assert shown["rollout"] == plan
    plain = client.post(f"/api/v1/experiments/{response.json['id']}/stop", headers=world["marketer"])
    assert plain.json["rollout"]["released"]["recipients"] == 0  # nothing was held, nothing is lost
