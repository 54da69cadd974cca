"""A partner's own sending domain: tcma makes a DKIM key, shows the DNS records to publish, checks
SPF, DKIM and DMARC by DNS lookup, and once DKIM and DMARC are right, signs the partner's campaign
email with the key (From on the partner's domain, DMARC-aligned through DKIM)."""

from __future__ import annotations

import base64
import email
import email.policy
import re
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

import dkim
import dns.exception
import dns.resolver
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from tcma.config import get_settings
from tcma.errors import ConflictError, InvalidInput
from tcma.extensions import db
from tcma.models import SendingDomain
from tcma.models.base import utcnow
from tcma.services.accounts.auth import Principal
from tcma.services.scoping import get_scoped, scope_select
from tcma.services.sending.contacts import owner_partner
from tcma.services.transaction import commit
from tcma.state import app_state

DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
LOCAL_PART = re.compile(r"^[a-z0-9][a-z0-9._+-]{0,63}$")
SELECTOR = "tcma1"
SIGNED_HEADERS = [
    b"From",
    b"To",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"Reply-To",
    b"List-Unsubscribe",
    b"List-Unsubscribe-Post",
    b"List-Id",
    b"MIME-Version",
    b"Content-Type",
]


def add_domain(principal: Principal, domain: str, from_local: str = "news") -> SendingDomain:
    """Start sending from the partner's domain: a fresh 2048-bit DKIM key, records to publish."""
    partner_id = owner_partner(principal)
    name, local = (domain or "").strip().lower().rstrip("."), (from_local or "").strip().lower()
    if not DOMAIN.match(name):
        raise InvalidInput(
            f"{domain!r} is not a domain name like news.partner.example", {"domain": ["not a domain"]}
        )
    if not LOCAL_PART.match(local):
        raise InvalidInput(
            f"{from_local!r} cannot start an address", {"from_local": ["letters, digits, . _ + -"]}
        )
    if db.session.scalar(select(SendingDomain.id).where(SendingDomain.domain == name)):
        raise ConflictError(f"{name} is already set up", {"domain": ["already set up"]})
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    row = SendingDomain(
        partner_id=partner_id,
        domain=name,
        from_local=local,
        selector=SELECTOR,
        status="pending",
        public_key=base64.b64encode(public).decode(),
        private_key=app_state().credentials.seal({"dkim_private_key": private.decode()}),
    )
    db.session.add(row)
    commit()
    return row


def list_domains(principal: Principal) -> list[SendingDomain]:
    """The domains the caller may see."""
    stmt = scope_select(select(SendingDomain), SendingDomain.partner_id, principal)
    return list(db.session.scalars(stmt.order_by(SendingDomain.domain)))


def get_domain(principal: Principal, domain_id: int) -> SendingDomain:
    """One domain (another partner's answers 404)."""
    return get_scoped(SendingDomain, domain_id, principal, what="sending domain")


def dns_records(row: SendingDomain) -> list[dict[str, str]]:
    """What the partner publishes: the DKIM key, SPF including the vendor's, a DMARC policy."""
    vendor = get_settings().email_sending_domain
    return [
        {
            "type": "TXT",
            "name": f"{row.selector}._domainkey.{row.domain}",
            "purpose": "dkim",
            "value": f"v=DKIM1; k=rsa; p={row.public_key}",
        },
        {"type": "TXT", "name": row.domain, "purpose": "spf", "value": f"v=spf1 include:{vendor} ~all"},
        {"type": "TXT", "name": f"_dmarc.{row.domain}", "purpose": "dmarc", "value": "v=DMARC1; p=none"},
    ]


def verify_domain(principal: Principal, domain_id: int) -> SendingDomain:
    """Look the records up now; DKIM and DMARC right make the domain verified (SPF is reported)."""
    row = get_domain(principal, domain_id)
    owner_partner(principal)
    resolver = _resolver()
    dkim_ok = _dkim_check(resolver, row)
    dmarc = _txt(resolver, f"_dmarc.{row.domain}")
    spf = _txt(resolver, row.domain)
    vendor = get_settings().email_sending_domain
    checks = {
        "dkim": dkim_ok,
        "dmarc": _verdict(
            [t for t in dmarc if t.lower().startswith("v=dmarc1")],
            f"no v=DMARC1 record at _dmarc.{row.domain}",
        ),
        "spf": _verdict(
            [t for t in spf if t.lower().startswith("v=spf1") and f"include:{vendor}" in t.lower()],
            f"no v=spf1 record with include:{vendor} (needed only for SPF to pass too)",
        ),
    }
    row.checks, row.checked_at = checks, utcnow()
    passed = checks["dkim"]["ok"] and checks["dmarc"]["ok"]
    row.status = "verified" if passed else "failed"
    row.verified_at = row.verified_at or (utcnow() if passed else None)
    commit()
    return row


def _verdict(found: list[str], missing: str) -> dict[str, Any]:
    return {"ok": True, "found": found[0]} if found else {"ok": False, "problem": missing}


def _dkim_check(resolver: dns.resolver.Resolver, row: SendingDomain) -> dict[str, Any]:
    name = f"{row.selector}._domainkey.{row.domain}"
    texts = _txt(resolver, name)
    if not texts:
        return {"ok": False, "problem": f"no TXT record at {name}"}
    keys = (m.group(1) for t in texts if (m := re.search(r"p=([^;]*)", t)))
    published = re.sub(r"\s+", "", next(keys, ""))
    if published != row.public_key:
        return {"ok": False, "problem": f"the key at {name} is not the one tcma made for this domain"}
    return {"ok": True, "found": name}


def _resolver() -> dns.resolver.Resolver:
    servers = get_settings().email_dns_servers
    if not servers:
        return dns.resolver.Resolver()
    resolver = dns.resolver.Resolver(configure=False)
    first = servers.split(",")[0].strip()
    host, _, port = first.partition(":")
    resolver.nameservers = [host]
    resolver.port = int(port or 53)
    resolver.lifetime = 5.0
    return resolver


def _txt(resolver: dns.resolver.Resolver, name: str) -> list[str]:
    try:
        answer = resolver.resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.exception.DNSException as exc:
        raise InvalidInput(
            f"DNS lookup of {name} failed: {exc}; try again later", {"dns": [str(exc)]}
        ) from None
    return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]


def signer_for(partner_id: int) -> DkimSigner | None:
    """The partner's verified domain's signer, or None (send from the vendor's domain)."""
    row = db.session.scalar(
        select(SendingDomain)
        .where(SendingDomain.partner_id == partner_id, SendingDomain.status == "verified")
        .order_by(SendingDomain.verified_at)
        .limit(1)
    )
    if row is None:
        return None
    key = app_state().credentials.open(row.private_key)["dkim_private_key"].encode()
    return DkimSigner(row.domain, row.selector, key, f"{row.from_local}@{row.domain}")


class DkimSigner:
    """Signs finished messages with a domain's DKIM key (relaxed/relaxed, RFC 8058 headers included)."""

    def __init__(self, domain: str, selector: str, private_pem: bytes, from_address: str) -> None:
        self.domain, self.selector, self.key, self.from_address = domain, selector, private_pem, from_address

    def sign(self, message: EmailMessage) -> EmailMessage:
        """The message with its DKIM-Signature first (parsed back, for previews and tests)."""
        return email.message_from_bytes(
            self.sign_bytes(message.as_bytes(policy=SMTP)), policy=email.policy.default
        )

    def sign_bytes(self, raw: bytes) -> bytes:
        """The wire bytes with a DKIM-Signature header put first (relaxed/relaxed)."""
        headers = raw.split(b"\r\n\r\n", 1)[0].lower()
        present = [h for h in SIGNED_HEADERS if b"\r\n" + h.lower() + b":" in b"\r\n" + headers]
        signature = dkim.sign(
            raw,
            self.selector.encode(),
            self.domain.encode(),
            self.key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=present,
        )
        return signature + raw
