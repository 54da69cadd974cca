"""The portal's contacts and email pages: a partner imports, sends and follows; the vendor sees numbers."""

from __future__ import annotations

import io

import pytest

from tests.support.dns_server import TxtZone, running_dns_server
from tests.support.factories import make_user
from tests.support.portal import csrf_from, sign_in

CSV = "E-Mail,Vorname\nada@example.com,Ada\nbad-address,Bad\n"


def test_a_partner_imports_sends_and_follows_on_the_portal(client, shop, smtp_handler):
    sign_in(client, shop["user"])
    page = client.get("/portal/contacts").get_data(as_text=True)
    assert "ada@example.com" in page and "Customers" in page
    token = csrf_from(page)
    refused = client.post(
        "/portal/contacts/import",
        follow_redirects=True,
        content_type="multipart/form-data",
        data={
            "csrf_token": token,
            "list_id": str(shop["list_id"]),
            "file": (io.BytesIO(CSV.encode()), "leads.csv"),
            "mapping": "email=E-Mail\nfirst_name=Vorname",
            "consent_source": "fair",
            "consent_text": "yes",
        },
    ).get_data(as_text=True)
    assert "1 row(s) refused; nothing was imported" in refused
    assert "line 3: email &#39;bad-address&#39; is not a valid address" in refused

    created = client.post(
        "/portal/email",
        data={
            "csrf_token": token,
            "campaign_id": str(shop["campaign_id"]),
            "list_ids": [str(shop["list_id"])],
        },
    )
    assert created.status_code == 302
    send_url = created.headers["Location"]
    detail = client.get(send_url).get_data(as_text=True)
    assert "Acme IT GmbH &lt;news@mail.vendor.test&gt;" in detail and "Send now" in detail
    assert client.get(send_url + "/preview").get_data(as_text=True).startswith("<!doctype html>")
    done = client.post(send_url + "/now", data={"csrf_token": token}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "3 sent of 3" in done and "bob@example.com" in done
    assert len(smtp_handler.received) == 3


def test_the_vendor_sees_numbers_and_no_address(client, shop, smtp_handler):
    sign_in(client, shop["user"])
    token = csrf_from(client.get("/portal/email").get_data(as_text=True))
    created = client.post(
        "/portal/email",
        data={
            "csrf_token": token,
            "campaign_id": str(shop["campaign_id"]),
            "list_ids": [str(shop["list_id"])],
        },
    )
    client.post(created.headers["Location"] + "/now", data={"csrf_token": token})
    client.post("/logout", data={"csrf_token": token})
    marketer, _ = make_user("marketer")
    sign_in(client, marketer)
    listing = client.get("/portal/email").get_data(as_text=True)
    assert "Acme IT GmbH" in listing and "3 / 3" in listing
    detail = client.get(created.headers["Location"]).get_data(as_text=True)
    assert "3 sent of 3" in detail
    assert "@example.com" not in listing + detail
    assert client.get("/portal/contacts").status_code == 403


@pytest.fixture
def zone():
    zone = TxtZone()
    with running_dns_server(zone) as address:
        zone.address = address
        yield zone


@pytest.fixture
def email_settings(zone):
    return {"EMAIL_DNS_SERVERS": zone.address}


def test_a_partner_sets_up_a_domain_on_the_portal(client, shop, zone):
    sign_in(client, shop["user"])
    token = csrf_from(client.get("/portal/email").get_data(as_text=True))
    page = client.post(
        "/portal/email/domains",
        follow_redirects=True,
        data={"csrf_token": token, "domain": "news.acme.example", "from_local": "hello"},
    )
    text = page.get_data(as_text=True)
    assert "Publish the records below for news.acme.example" in text
    assert "tcma1._domainkey.news.acme.example" in text and "v=DKIM1; k=rsa; p=" in text
    domain = client.get("/api/v1/sending-domains", headers=shop["headers"]).json[0]
    verify = f"/portal/email/domains/{domain['id']}/verify"
    checked = client.post(verify, data={"csrf_token": token}, follow_redirects=True).get_data(as_text=True)
    assert "news.acme.example is not ready yet." in checked
    assert "DKIM: no TXT record at tcma1._domainkey.news.acme.example" in checked
    for record in domain["records"]:
        zone.records[record["name"]] = [record["value"]]
    done = client.post(verify, data={"csrf_token": token}, follow_redirects=True).get_data(as_text=True)
    assert "your emails now go from hello@news.acme.example, DKIM-signed" in done
