"""CSV import: columns mapped, every bad row reported by line and reason, nothing half-imported."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from tcma.extensions import db
from tcma.models import Contact
from tests.support.factories import make_partner, make_taxonomy, make_user

GOOD = (
    "E-Mail,Vorname,Nachname,Tags\n"
    "ada@example.com,Ada,Lovelace,vip;finance\n"
    "Grace@Example.com,Grace,Hopper,\n"
)
MAPPING = {"email": "E-Mail", "first_name": "Vorname", "last_name": "Nachname", "tags": "Tags"}
CONSENT = {"consent_source": "trade fair 2026, booth 4", "consent_text": "Please keep me informed."}


@pytest.fixture
def world(app, client):
    partner = make_partner(make_taxonomy())
    _, headers = make_user("partner", partner)
    lst = client.post("/api/v1/contact-lists", headers=headers, json={"name": "Fair leads"}).json
    return headers, lst["id"]


def upload(client, world, text, mapping=MAPPING, **form):
    headers, list_id = world
    data = {
        "file": (io.BytesIO(text.encode() if isinstance(text, str) else text), "leads.csv"),
        **CONSENT,
        **form,
    }
    if mapping is not None:
        data["mapping"] = json.dumps(mapping)
    return client.post(
        f"/api/v1/contact-lists/{list_id}/import",
        headers=headers,
        data=data,
        content_type="multipart/form-data",
    )


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Contact))


def test_a_good_file_is_imported_with_its_mapping(client, world):
    response = upload(client, world, GOOD, tags="fair")
    assert response.status_code == 200, response.json
    assert response.json == {"list_id": world[1], "rows": 2, "created": 2, "updated": 0}
    contacts = {c["email"]: c for c in client.get("/api/v1/contacts", headers=world[0]).json["items"]}
    assert contacts["ada@example.com"]["tags"] == ["fair", "finance", "vip"]
    assert contacts["grace@example.com"]["last_name"] == "Hopper"
    assert contacts["grace@example.com"]["consent_source"] == "trade fair 2026, booth 4"
    again = upload(client, world, GOOD)
    assert again.json == {"list_id": world[1], "rows": 2, "created": 0, "updated": 2}


def test_every_bad_row_is_reported_by_line_and_nothing_is_imported(client, world):
    text = (
        "E-Mail,Vorname,Nachname,Tags\n"
        "ada@example.com,Ada,Lovelace,\n"
        "not-an-address,Bad,Row,\n"
        "ADA@example.com,Ada,Again,\n"
        ",No,Address,\n"
        f"long@example.com,{'x' * 101},,\n"
        "extra@example.com,A,B,C,D\n"
    )
    rows = upload(client, world, text).json["errors"]["rows"]
    assert rows == [
        "line 3: email 'not-an-address' is not a valid address: An email address must have an @-sign.",
        "line 4: ada@example.com is also on line 2",
        "line 5: no email address",
        "line 6: first_name is longer than 100 characters",
        "line 7: more values than the header has columns",
    ]
    assert count() == 0


def test_consent_is_required_per_row_or_for_the_file(client, world):
    headers, list_id = world
    data = {"file": (io.BytesIO(b"email\nada@example.com\n"), "a.csv")}
    response = client.post(
        f"/api/v1/contact-lists/{list_id}/import",
        headers=headers,
        data=data,
        content_type="multipart/form-data",
    )
    assert response.json["errors"]["rows"] == [
        "line 2: no consent_source (map a column or give one for the whole file)"
    ]


def test_consent_time_from_a_column(client, world):
    text = "email,consent_at\nada@example.com,2026-03-01T09:30:00Z\nbob@example.com,yesterday\n"
    response = upload(client, world, text, mapping=None)
    assert response.json["errors"]["rows"] == [
        "line 3: consent_at 'yesterday' is not a date like 2026-03-01 or 2026-03-01T09:30:00Z"
    ]
    ok = upload(client, world, "email,consent_at\nada@example.com,2026-03-01T09:30:00Z\n", mapping=None)
    assert ok.status_code == 200
    contact = client.get("/api/v1/contacts", headers=world[0]).json["items"][0]
    assert contact["consent_at"].startswith("2026-03-01T09:30:00")


@pytest.mark.parametrize(
    "content, mapping, message",
    [
        ("email\n", None, "the file has no rows"),
        ("", None, "the file is empty"),
        (b"email\n\xff\xfe@example.com\n", None, "the file is not UTF-8 text (byte 6 cannot be read)"),
        (
            "mail\nada@example.com\n",
            {"email": "E-Mail"},
            "the file has no column 'E-Mail' (its columns: mail)",
        ),
        ("mail\nada@example.com\n", {"first_name": "mail"}, "say which column holds the email address"),
        ("mail\nada@example.com\n", {"email": "mail", "phone": "mail"}, "unknown field(s) phone"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused(client, world, content, mapping, message):
    response = upload(client, world, content, mapping=mapping)
    assert response.status_code == 422
    assert response.json["message"] == message
    assert count() == 0


def test_a_mapping_that_is_not_json_is_refused(client, world):
    headers, list_id = world
    data = {"file": (io.BytesIO(b"email\na@example.com\n"), "a.csv"), "mapping": "email=E-Mail"}
    response = client.post(
        f"/api/v1/contact-lists/{list_id}/import",
        headers=headers,
        data=data,
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert response.json["message"] == 'mapping must be a JSON object like {"email": "E-Mail"}'


def test_an_erased_person_is_not_imported_back(client, world):
    upload(client, world, GOOD)
    ada = next(
        c
        for c in client.get("/api/v1/contacts", headers=world[0]).json["items"]
        if c["email"] == "ada@example.com"
    )
    client.post(f"/api/v1/contacts/{ada['id']}/erase", headers=world[0])
    response = upload(client, world, GOOD)
    assert response.json["errors"]["rows"] == [
        "line 2: ada@example.com asked to be erased; it cannot be imported again"
    ]
