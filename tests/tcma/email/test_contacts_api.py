"""A partner's contacts through the API: add, edit, delete, lists, consent, tags, GDPR export and
erasure, and the vendor's view (counts only, never an address)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tcma.extensions import db
from tcma.models import Contact, Suppression
from tests.support.factories import make_partner, make_taxonomy, make_user

CONSENT = {
    "consent_source": "https://partner.example/newsletter-form",
    "consent_text": "Yes, send me the monthly newsletter.",
}


@pytest.fixture
def world(app):
    taxonomy = make_taxonomy()
    partner, other = make_partner(taxonomy), make_partner(taxonomy)
    return {
        "partner": partner,
        "other": other,
        "partner_user": make_user("partner", partner)[1],
        "partner_admin": make_user("partner_admin", partner)[1],
        "other_user": make_user("partner", other)[1],
        "marketer": make_user("marketer")[1],
        "admin": make_user("admin")[1],
    }


def add(client, headers, email, **extra):
    return client.post("/api/v1/contacts", headers=headers, json={"email": email, **CONSENT, **extra})


def test_a_partner_adds_a_contact_with_consent_tags_and_lists(client, world):
    lst = client.post("/api/v1/contact-lists", headers=world["partner_user"], json={"name": "Customers"}).json
    response = add(
        client,
        world["partner_user"],
        "  Ada.Lovelace@Example.COM ",
        first_name="Ada",
        tags=["VIP", "vip", " Finance "],
        list_ids=[lst["id"]],
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["email"] == "ada.lovelace@example.com"
    assert body["tags"] == ["finance", "vip"]
    assert body["lists"] == [{"id": lst["id"], "name": "Customers"}]
    assert body["consent_source"] == "https://partner.example/newsletter-form"
    assert body["consent_text"] == "Yes, send me the monthly newsletter."
    assert body["consent_at"]
    lists = client.get("/api/v1/contact-lists", headers=world["partner_user"]).json
    assert [(x["name"], x["contacts"]) for x in lists] == [("Customers", 1)]


@pytest.mark.parametrize(
    "email, reason",
    [
        ("not-an-address", "An email address must have an @-sign."),
        ("ada@", "There must be something after the @-sign."),
        ("ada@@example.com", "The part after the @-sign contains invalid characters: '@'."),
    ],
)
def test_a_bad_address_is_refused_naming_why(client, world, email, reason):
    response = add(client, world["partner_user"], email)
    assert response.status_code == 422
    assert response.json["errors"]["email"] == [reason]
    assert db.session.scalar(select(Contact.id)) is None


def test_the_same_address_twice_is_a_conflict(client, world):
    assert add(client, world["partner_user"], "ada@example.com").status_code == 201
    response = add(client, world["partner_user"], "ADA@example.com")
    assert response.status_code == 409
    assert response.json["message"] == "ada@example.com is already a contact"


def test_consent_must_be_recorded(client, world):
    response = client.post("/api/v1/contacts", headers=world["partner_user"], json={"email": "a@example.com"})
    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {"consent_source", "consent_text"}


def test_a_list_of_another_partner_is_refused(client, world):
    theirs = client.post("/api/v1/contact-lists", headers=world["other_user"], json={"name": "Theirs"}).json
    response = add(client, world["partner_user"], "a@example.com", list_ids=[theirs["id"]])
    assert response.status_code == 422
    assert response.json["message"] == f"no contact list {theirs['id']}"


def test_edit_and_delete_a_contact(client, world):
    contact = add(client, world["partner_user"], "ada@example.com", first_name="Ada").json
    url = f"/api/v1/contacts/{contact['id']}"
    response = client.patch(url, headers=world["partner_user"], json={"last_name": "Lovelace", "tags": ["a"]})
    assert response.status_code == 200
    assert (response.json["first_name"], response.json["last_name"], response.json["tags"]) == (
        "Ada",
        "Lovelace",
        ["a"],
    )
    assert client.patch(url, headers=world["partner_user"], json={"email": "nope"}).status_code == 422
    assert client.delete(url, headers=world["partner_user"]).status_code == 204
    assert client.get(url, headers=world["partner_user"]).status_code == 404


def test_another_partners_contact_answers_404(client, world):
    contact = add(client, world["other_user"], "theirs@example.com").json
    for method in ("GET", "PATCH", "DELETE"):
        response = client.open(
            f"/api/v1/contacts/{contact['id']}",
            method=method,
            headers=world["partner_user"],
            json={"first_name": "X"},
        )
        assert response.status_code == 404, method
        assert response.json["message"] == f"contact {contact['id']} not found"
    assert client.get("/api/v1/contacts", headers=world["partner_user"]).json["total"] == 0


@pytest.mark.parametrize("role", ["marketer", "admin"])
def test_the_vendor_sees_counts_never_addresses(client, world, role):
    lst = client.post("/api/v1/contact-lists", headers=world["partner_user"], json={"name": "Leads"}).json
    contact = add(
        client, world["partner_user"], "secret.person@example.com", tags=["vip"], list_ids=[lst["id"]]
    ).json
    vendor = world[role]
    for url in (
        "/api/v1/contacts",
        f"/api/v1/contacts/{contact['id']}",
        f"/api/v1/contacts/{contact['id']}/export",
    ):
        response = client.get(url, headers=vendor)
        assert response.status_code == 403, url
        assert response.json["message"] == "this needs one of the roles: partner, partner_admin"
    summary = client.get(f"/api/v1/contacts/summary?partner_id={world['partner'].id}", headers=vendor)
    assert summary.status_code == 200
    assert summary.json == {
        "partner_id": world["partner"].id,
        "contacts": 1,
        "tags": {"vip": 1},
        "lists": [{"id": lst["id"], "name": "Leads", "contacts": 1}],
        "suppressed": {},
    }
    lists = client.get(f"/api/v1/contact-lists?partner_id={world['partner'].id}", headers=vendor)
    assert [(x["name"], x["contacts"]) for x in lists.json] == [("Leads", 1)]
    assert "secret.person" not in summary.get_data(as_text=True) + lists.get_data(as_text=True)


def test_the_summary_needs_a_partner_for_the_vendor(client, world):
    response = client.get("/api/v1/contacts/summary", headers=world["marketer"])
    assert response.status_code == 422
    assert response.json["message"] == "partner_id is required"


def test_a_partner_user_cannot_count_another_partners_contacts(client, world):
    response = client.get(
        f"/api/v1/contacts/summary?partner_id={world['other'].id}", headers=world["partner_user"]
    )
    assert response.json["partner_id"] == world["partner"].id  # always their own


def test_lists_rename_conflict_and_delete(client, world):
    headers = world["partner_user"]
    first = client.post("/api/v1/contact-lists", headers=headers, json={"name": "A"}).json
    client.post("/api/v1/contact-lists", headers=headers, json={"name": "B"})
    clash = client.patch(f"/api/v1/contact-lists/{first['id']}", headers=headers, json={"name": "B"})
    assert clash.status_code == 409
    assert clash.json["message"] == "there is already a list called 'B'"
    assert (
        client.patch(f"/api/v1/contact-lists/{first['id']}", headers=headers, json={"name": "C"}).json["name"]
        == "C"
    )
    assert client.delete(f"/api/v1/contact-lists/{first['id']}", headers=headers).status_code == 204
    assert [x["name"] for x in client.get("/api/v1/contact-lists", headers=headers).json] == ["B"]
    empty = client.post("/api/v1/contact-lists", headers=headers, json={"name": "  "})
    assert empty.status_code == 422 and empty.json["message"] == "a list needs a name of 1-120 characters"


def test_listing_filters_by_list_tag_and_search(client, world):
    headers = world["partner_user"]
    lst = client.post("/api/v1/contact-lists", headers=headers, json={"name": "L"}).json
    add(client, headers, "ada@example.com", first_name="Ada", tags=["vip"], list_ids=[lst["id"]])
    add(client, headers, "bob@example.com", first_name="Bob")

    def emails(query):
        return [c["email"] for c in client.get(f"/api/v1/contacts?{query}", headers=headers).json["items"]]

    assert emails("") == ["ada@example.com", "bob@example.com"]
    assert emails(f"list_id={lst['id']}") == ["ada@example.com"]
    assert emails("tag=VIP") == ["ada@example.com"]
    assert emails("q=bo") == ["bob@example.com"]


def test_gdpr_export_holds_the_contact_and_consent(client, world):
    contact = add(client, world["partner_user"], "ada@example.com", first_name="Ada", tags=["vip"]).json
    export = client.get(f"/api/v1/contacts/{contact['id']}/export", headers=world["partner_user"])
    assert export.status_code == 200
    assert export.json["contact"]["email"] == "ada@example.com"
    assert export.json["contact"]["consent"]["text"] == "Yes, send me the monthly newsletter."
    assert export.json["messages"] == []


def test_gdpr_erasure_leaves_only_a_salted_hash_and_blocks_re_adding(client, world):
    contact = add(client, world["partner_user"], "ada@example.com").json
    response = client.post(f"/api/v1/contacts/{contact['id']}/erase", headers=world["partner_user"])
    assert response.status_code == 200
    assert response.json == {"erased": True, "messages_scrubbed": 0}
    assert db.session.scalar(select(Contact.id)) is None
    kept = db.session.scalars(select(Suppression)).all()
    assert [(s.partner_id, s.reason) for s in kept] == [(world["partner"].id, "erased")]
    assert "ada" not in kept[0].address_hash and len(kept[0].address_hash) == 64
    again = add(client, world["partner_user"], "Ada@example.com")
    assert again.status_code == 422
    assert again.json["message"] == "ada@example.com asked to be erased; it cannot be added again"
    # Another partner is not bound by this partner's erasure.
    assert add(client, world["other_user"], "ada@example.com").status_code == 201


def test_the_services_refuse_the_vendor_too(app, world):
    from tcma.errors import PermissionDenied
    from tcma.services.accounts.auth import OPERATOR
    from tcma.services.sending.contacts import list_contacts

    with pytest.raises(PermissionDenied) as refused:
        list_contacts(OPERATOR, {}, 1, 50)
    assert str(refused.value) == (
        "contacts belong to the partner: only the partner's own users see or change "
        "them (the vendor sees counts on /contact-lists and /contacts/summary)"
    )
