"""Seed a demo vendor: its taxonomy, ~30 partners with generated logos and brand kits, users."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sqlalchemy import func, select

from tcma.demo.logos import LOGO_KINDS, generate_logo
from tcma.extensions import db
from tcma.models import BrandKit, Campaign, Partner, Region, Tier, Vertical
from tcma.services.accounts.auth import OPERATOR
from tcma.services.accounts.users import add_user
from tcma.services.partners.media import logo_files, logo_key
from tcma.services.transaction import commit
from tcma.storage import get_storage

DEMO_PASSWORD = "demo-password"
TIERS = [("registered", "Registered", 1), ("silver", "Silver", 2), ("gold", "Gold", 3),
         ("platinum", "Platinum", 4)]
VERTICALS = [("healthcare", "Healthcare"), ("finance", "Financial services"),
             ("manufacturing", "Manufacturing"), ("retail", "Retail"),
             ("public-sector", "Public sector")]
REGIONS = [("na", "North America", "en-US", "America/New_York"),
           ("emea", "Europe, Middle East & Africa", "de-DE", "Europe/Berlin"),
           ("apac", "Asia Pacific", "en-AU", "Australia/Sydney"),
           ("latam", "Latin America", "es-MX", "America/Mexico_City")]
NAMES = ["Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Adatum", "Proseware",
         "Woodgrove", "Lucerne", "Fourth Coffee", "Wingtip", "Alpine Ski", "Coho Vineyard",
         "Humongous", "Margie's Travel", "Blue Yonder", "Trey Research", "Wide World",
         "Graphic Design", "Southridge", "Relecloud", "VanArsdel", "Munson's", "Bellows",
         "Consolidated", "Datum", "Lamna", "Olympia", "Tasmanian", "Zava"]


@dataclass
class DemoReport:
    """What seeding did, for the CLI to print."""

    created: bool
    counts: dict[str, int] = field(default_factory=dict)
    logins: list[tuple[str, str, str]] = field(default_factory=list)


def seed_demo(partner_count: int = 30) -> DemoReport:
    """Create the demo vendor once; a second call changes nothing and says so."""
    first = db.session.scalar(select(Partner).order_by(Partner.id).limit(1))
    if first is not None:
        return DemoReport(created=False, counts=_counts(), logins=_logins(first.slug))
    tiers = [Tier(slug=s, name=n, rank=r) for s, n, r in TIERS]
    verticals = [Vertical(slug=s, name=n) for s, n in VERTICALS]
    regions = [Region(slug=s, name=n) for s, n, _, _ in REGIONS]
    db.session.add_all([*tiers, *verticals, *regions])
    rng = random.Random(20261121)
    partners = [_demo_partner(i, rng, tiers, verticals, regions) for i in range(partner_count)]
    db.session.add_all(partners)
    db.session.flush()
    add_user("admin@demo.tcma.test", DEMO_PASSWORD, "admin")
    add_user("marketer@demo.tcma.test", DEMO_PASSWORD, "marketer")
    for index, partner in enumerate(partners):
        # The first partner's user manages their colleagues (the portal's Team page).
        add_user(f"{partner.slug}@partners.demo.tcma.test", DEMO_PASSWORD,
                 "partner_admin" if index == 0 else "partner", partner_id=partner.id)
    commit()
    return DemoReport(created=True, counts=_counts(), logins=_logins(partners[0].slug))


def _logins(first_partner_slug: str) -> list[tuple[str, str, str]]:
    return [("admin", "admin@demo.tcma.test", DEMO_PASSWORD),
            ("marketer", "marketer@demo.tcma.test", DEMO_PASSWORD),
            ("partner admin", f"{first_partner_slug}@partners.demo.tcma.test", DEMO_PASSWORD)]


def send_demo_mail(partner_admin_email: str) -> list[str]:
    """The partner admin invites a colleague and the marketer asks for a password reset."""
    from tcma.services.accounts.auth import Principal
    from tcma.services.accounts.invitations import invite_user
    from tcma.services.accounts.passwords import request_password_reset
    from tcma.services.accounts.team import get_user_by_email

    admin = Principal.of(get_user_by_email(OPERATOR, partner_admin_email))
    colleague = partner_admin_email.replace("@", ".colleague@", 1)
    invite_user(admin, colleague, "partner")
    request_password_reset("marketer@demo.tcma.test")
    return [f"an invitation to {colleague}", "a password reset for marketer@demo.tcma.test"]


def _counts() -> dict[str, int]:
    from tcma.models import User

    models = {"tiers": Tier, "verticals": Vertical, "regions": Region, "partners": Partner,
              "brand kits": BrandKit, "users": User}
    return {k: db.session.scalar(select(func.count()).select_from(m)) for k, m in models.items()}


def _demo_partner(index: int, rng: random.Random, tiers, verticals, regions) -> Partner:
    name = NAMES[index % len(NAMES)] + ("" if index < len(NAMES) else f" {index // len(NAMES)}")
    slug = name.lower().replace("'", "").replace(" ", "-")
    region_index = index % len(regions)
    _, _, locale, zone = REGIONS[region_index]
    primary = _colour(rng, (20, 160), (20, 160), (60, 200))
    secondary = _colour(rng, (150, 255), (100, 220), (0, 120))
    kind = LOGO_KINDS[index % len(LOGO_KINDS)]
    keys = _store_logos(slug, generate_logo(name, primary, kind), "auto")  # a white one: dark
    if index % 5 == 4:  # some partners give both: their own logo for dark backgrounds too
        keys.update(_store_logos(slug, generate_logo(name, primary, "dark"), "dark"))
    domain = f"{slug}.example"
    kit = BrandKit(
        **keys, primary_color=primary, secondary_color=secondary,
        contact_name=f"{rng.choice(['Alex', 'Sam', 'Robin', 'Maria', 'Jonas', 'Aiko'])} "
                     f"{rng.choice(['Meyer', 'Garcia', 'Chen', 'Okafor', 'Silva', 'Novak'])}",
        contact_email=f"sales@{domain}", contact_phone=f"+1 555 01{index:02d}",
        website=f"https://www.{domain}", address=f"{100 + index} Market Street\nSpringfield",
    )
    return Partner(
        name=f"{name} Solutions", slug=slug, tier=tiers[index % len(tiers)],
        vertical=verticals[index % len(verticals)], region=regions[region_index],
        locale=locale, time_zone=zone, brand_kit=kit,
    )


def _colour(rng: random.Random, *ranges: tuple[int, int]) -> str:
    return "#" + "".join(f"{rng.randrange(low, high):02X}" for low, high in ranges)


def _store_logos(slug: str, upload: bytes, slot: str) -> dict[str, str]:
    """Store a demo upload as the portal would (variants derived), return the kit's keys."""
    keys = {}
    for column, png in logo_files(upload, slot).items():
        keys[column] = logo_key(slug, png)
        get_storage().put(keys[column], png, "image/png")
    return keys


DEMO_CAMPAIGN = "Zero-trust launch (demo)"
DEMO_OUTPUTS = [{"template": "solution-brief", "output": "pdf"},
                {"template": "social-card", "output": "png"},
                {"template": "newsletter", "output": "email"},
                # Each partner's post text per network (tracked links included) for the syndicated post.
                {"template": "launch-posts", "output": "post:mastodon"},
                {"template": "launch-posts", "output": "post:linkedin"}]


def launch_demo_campaign() -> tuple[Campaign, dict[str, int]]:
    """Publish the template library and launch the demo campaign to every demo partner.

    Launching again renders nothing new: the renders are content-addressed.
    """
    from tcma.services.catalogue.templates import import_catalogue
    from tcma.services.launch import launches as campaigns

    import_catalogue()
    operator = OPERATOR
    campaign = db.session.scalar(select(Campaign).where(Campaign.name == DEMO_CAMPAIGN))
    if campaign is None:
        campaign = campaigns.create_campaign(operator, DEMO_CAMPAIGN, DEMO_OUTPUTS, {})
    progress = campaigns.launch_campaign(operator, campaign.id, via="cli")
    return campaign, progress
