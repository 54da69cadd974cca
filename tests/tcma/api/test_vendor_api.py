"""The vendor's taxonomy through the API: tiers, verticals and regions."""

from __future__ import annotations

from tests.support.factories import make_user


def test_only_tiers_have_a_rank(client):
    _, headers = make_user("admin")
    response = client.post("/api/v1/vendor/verticals", headers=headers,
                           json={"slug": "hc", "name": "Healthcare", "rank": 3})
    assert response.status_code == 422 and "rank" in response.json["errors"]
