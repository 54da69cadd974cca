"""Factories for test data, built through the same services the app uses."""

from __future__ import annotations

import io
import itertools

from PIL import Image

from tcma.extensions import db
from tcma.models import BrandKit, Partner, Region, Tier, Vertical
from tcma.services.accounts.auth import issue_token
from tcma.services.accounts.users import create_user
from tcma.storage import get_storage

_counter = itertools.count(1)


def make_taxonomy() -> dict[str, list]:
    """Two tiers, two verticals, two regions."""
    rows = {
        "tiers": [Tier(slug="silver", name="Silver", rank=1), Tier(slug="gold", name="Gold", rank=2)],
        "verticals": [Vertical(slug="healthcare", name="Healthcare"),
                      Vertical(slug="finance", name="Finance")],
        "regions": [Region(slug="na", name="North America"), Region(slug="emea", name="EMEA")],
    }
    for group in rows.values():
        db.session.add_all(group)
    db.session.commit()
    return rows


def logo_png(color: str = "#2255AA", size: tuple[int, int] = (600, 200)) -> bytes:
    """A plain PNG logo."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    image.paste(Image.new("RGBA", (size[0] // 2, size[1] // 2), color), (size[0] // 4, size[1] // 4))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def make_partner(taxonomy: dict[str, list], tier: int = 0, vertical: int = 0, region: int = 0,
                 name: str | None = None, with_logo: bool = True) -> Partner:
    """A partner with a brand kit (and a stored logo)."""
    n = next(_counter)
    slug = f"partner-{n}"
    kit = BrandKit(primary_color="#1F4E79", secondary_color="#F2A900", contact_name=f"Contact {n}",
                   contact_email=f"sales@{slug}.example", contact_phone="+1 555 0100",
                   website=f"https://{slug}.example", address=f"{n} Main Street\nSpringfield")
    if with_logo:
        kit.logo_key = f"logos/{slug}/logo.png"
        get_storage().put(kit.logo_key, logo_png(f"#{(n * 40) % 200 + 30:02X}3366"), "image/png")
    partner = Partner(name=name or f"Partner {n} GmbH", slug=slug, tier=taxonomy["tiers"][tier],
                      vertical=taxonomy["verticals"][vertical], region=taxonomy["regions"][region],
                      locale="en", time_zone="UTC", brand_kit=kit)
    db.session.add(partner)
    db.session.commit()
    return partner


def make_user(role: str, partner: Partner | None = None) -> tuple[object, dict[str, str]]:
    """A user of `role` and the Authorization header of a fresh API token."""
    n = next(_counter)
    user = create_user(f"{role}{n}@test.example", "correct horse battery", role,
                       partner_id=partner.id if partner else None)
    raw, _ = issue_token(user.id, "tests")
    return user, {"Authorization": f"Bearer {raw}"}
