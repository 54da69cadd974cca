"""A partner's own sending domain: DKIM key made by tcma, DNS records shown, checked against a DNS
server on loopback, then every message signed; the signature verified with dkimpy against the key."""

from __future__ import annotations

import dkim
import pytest

from tests.support.apps import app_on, base_config
from tests.support.dns_server import TxtZone, running_dns_server
from tests.support.smtp import RecordingHandler, running_smtp_server
from tests.tcma.email.conftest import new_send, send_now

DOMAIN = "news.acme.example"


class RawHandler(RecordingHandler):
    """Also keeps each message's bytes exactly as they arrived (DKIM is checked on those)."""

    def __init__(self) -> None:
        super().__init__()
        self.raw: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.raw.append(envelope.original_content)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def zone():
    return TxtZone()


@pytest.fixture
def smtp_handler():
    return RawHandler()


@pytest.fixture
def app(migrated_pg, tmp_path, smtp_handler, zone):
    url, tables = migrated_pg
    with running_smtp_server(smtp_handler) as smtp, running_dns_server(zone) as dns_server:
        config = base_config(
            tmp_path,
            DATABASE_URL=url,
            MAIL_BACKEND="smtp",
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=smtp.port,
            SMTP_SECURITY="none",
            EMAIL_SENDING_DOMAIN="mail.vendor.test",
            EMAIL_DNS_SERVERS=dns_server,
        )
        yield from app_on(config, tables)


def publish(zone, records, *only):
    for record in records:
        if not only or record["purpose"] in only:
            zone.records[record["name"]] = [record["value"]]


def test_a_verified_domain_signs_every_message(client, shop, smtp_handler, zone):
    created = client.post("/api/v1/sending-domains", headers=shop["headers"], json={"domain": DOMAIN.upper()})
    assert created.status_code == 201, created.json
    domain = created.json
    assert domain["status"] == "pending" and domain["domain"] == DOMAIN
    records = {r["purpose"]: r for r in domain["records"]}
    assert records["dkim"]["name"] == f"tcma1._domainkey.{DOMAIN}"
    assert records["dkim"]["value"].startswith("v=DKIM1; k=rsa; p=MIIBIjAN")  # a 2048-bit RSA key
    assert records["spf"] == {
        "type": "TXT",
        "name": DOMAIN,
        "purpose": "spf",
        "value": "v=spf1 include:mail.vendor.test ~all",
    }
    assert records["dmarc"]["name"] == f"_dmarc.{DOMAIN}"
    assert "private" not in created.get_data(as_text=True).lower()

    verify = f"/api/v1/sending-domains/{domain['id']}/verify"
    failed = client.post(verify, headers=shop["headers"]).json
    assert failed["status"] == "failed"
    assert failed["checks"]["dkim"] == {"ok": False, "problem": f"no TXT record at tcma1._domainkey.{DOMAIN}"}
    assert failed["checks"]["dmarc"] == {"ok": False, "problem": f"no v=DMARC1 record at _dmarc.{DOMAIN}"}

    zone.records[f"tcma1._domainkey.{DOMAIN}"] = [
        "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"
    ]
    publish(zone, domain["records"], "dmarc")
    wrong = client.post(verify, headers=shop["headers"]).json
    assert wrong["checks"]["dkim"]["problem"] == (
        f"the key at tcma1._domainkey.{DOMAIN} is not the one tcma made for this domain"
    )
    publish(zone, domain["records"])
    verified = client.post(verify, headers=shop["headers"]).json
    assert verified["status"] == "verified"
    assert verified["checks"]["spf"] == {"ok": True, "found": "v=spf1 include:mail.vendor.test ~all"}

    send = new_send(client, shop)
    send_now(client, shop, send["id"])
    assert len(smtp_handler.raw) == 3
    for raw, received in zip(smtp_handler.raw, smtp_handler.received, strict=True):
        assert received.message["From"] == f"Acme IT GmbH <news@{DOMAIN}>"
        signature = received.message["DKIM-Signature"]
        assert f"d={DOMAIN}" in signature and "s=tcma1" in signature
        signed = signature.replace(" ", "").replace("\n", "").lower()
        assert "list-unsubscribe:list-unsubscribe-post" in signed  # RFC 8058: both headers signed
        assert dkim.verify(raw, dnsfunc=lambda name, timeout=5: _lookup(zone, name))
        tampered = raw.replace(b"Hello", b"Hallo", 1)
        assert not dkim.verify(tampered, dnsfunc=lambda name, timeout=5: _lookup(zone, name))


def _lookup(zone, name):
    name = name.decode() if isinstance(name, bytes) else name
    texts = zone.records.get(name.rstrip(".").lower())
    return texts[0].encode() if texts else None


def test_domain_input_is_checked(client, shop):
    bad = client.post("/api/v1/sending-domains", headers=shop["headers"], json={"domain": "not a domain"})
    assert bad.status_code == 422
    assert bad.json["message"] == "'not a domain' is not a domain name like news.partner.example"
    local = client.post(
        "/api/v1/sending-domains", headers=shop["headers"], json={"domain": DOMAIN, "from_local": "<news>"}
    )
    assert local.json["message"] == "'<news>' cannot start an address"
    assert (
        client.post("/api/v1/sending-domains", headers=shop["headers"], json={"domain": DOMAIN}).status_code
        == 201
    )
    again = client.post("/api/v1/sending-domains", headers=shop["headers"], json={"domain": DOMAIN})
    assert again.status_code == 409 and again.json["message"] == f"{DOMAIN} is already set up"
