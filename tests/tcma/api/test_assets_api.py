"""Assets through the API: ids beyond what the database holds are answered, never a server error."""

from __future__ import annotations

from tests.support.factories import make_user


def test_ids_too_large_for_the_database_are_not_found(client):
    _, headers = make_user("admin")
    assert client.get("/api/v1/assets/99999999999999999999", headers=headers).status_code == 404
    huge = client.get("/api/v1/assets?partner_id=99999999999999999999", headers=headers)
    assert huge.status_code == 422 and "partner_id" in huge.json["errors"]["query"]
