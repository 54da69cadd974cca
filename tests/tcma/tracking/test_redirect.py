"""The /l/<code> redirect: UTM merge, no open redirect, friendly 404, relaunch-stable URLs."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select

from tcma.extensions import db
from tcma.models import Event, TrackedLink
from tcma.services.tracking import links as tracking
from tests.support.tracking import path_of

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"


def test_redirect_adds_utm_without_clobbering_the_destination(client, world):
    response = client.get(path_of(world["links"][world["acme"].slug, "b"]), headers={"User-Agent": BROWSER})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "vendor.example", "/p")
    assert location.fragment == "top"
    query = parse_qs(location.query)
    assert query["ref"] == ["doc"]
    assert query["utm_source"] == ["own"]  # the destination's own value wins
    assert query["utm_medium"] == ["email"]
    assert query["utm_campaign"] == ["spring-launch"]
    assert query["utm_content"] == ["b"]


def test_a_click_is_recorded(client, world):
    client.get(path_of(world["links"][world["acme"].slug, "a"]), headers={"User-Agent": BROWSER},
               environ_base={"REMOTE_ADDR": "203.0.113.77"})
    event = db.session.scalars(select(Event)).one()
    assert (event.kind, event.partner_id, event.variant, event.is_bot, event.is_unique) == (
        "click", world["acme"].id, "a", False, True)
    assert "203.0.113" not in (event.visitor or "") and len(event.visitor) == 32


def test_query_parameters_cannot_redirect_elsewhere(client, world):
    path = path_of(world["links"][world["acme"].slug, "pricing"])
    response = client.get(path + "?url=https://evil.example/&next=https://evil.example/",
                          headers={"User-Agent": BROWSER})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("https://vendor.example/pricing?")
    assert "evil" not in response.headers["Location"]


def test_unknown_code_gets_a_friendly_page(client, world):
    response = client.get("/l/NoSuchCode", headers={"User-Agent": BROWSER})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert b"This link does not lead anywhere" in response.data
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0


def test_destinations_must_be_http(app):
    import pytest

    from tcma.errors import DomainError

    for bad in ("javascript:alert(1)", "ftp://vendor.example/x", "https://", "//evil.example/"):
        with pytest.raises(DomainError):
            tracking.register_destination("bad", bad)


def test_a_relaunch_gets_the_same_url_and_a_moved_destination_follows(app, world):
    acme, campaign = world["acme"], world["campaign"]
    again = tracking.link_factory(acme.id, campaign.id, None, "a")
    assert again("landing", "https://vendor.example/p?ref=doc&utm_source=own#top", "email") == \
        world["links"][acme.slug, "a"]
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(TrackedLink)) == 6
    moved = tracking.link_factory(acme.id, campaign.id, None, None)
    first = moved("docs", "https://docs.vendor.example/", "print")
    second = moved("docs", "https://docs.vendor.example/v2", "print")
    assert first == second  # same destination name: re-registered, same link


def test_every_link_carries_all_four_utm_parameters(client, world):
    destination = tracking.register_destination("pricing", "https://vendor.example/pricing")
    acme = world["acme"]
    no_variant = tracking.tracked_url(acme.id, world["campaign"].id, None, "print", None, destination.id)
    no_campaign = tracking.tracked_url(acme.id, None, None, "linkedin", None, destination.id)
    db.session.commit()
    for url, campaign, medium in [(no_variant, world["campaign"].slug, "print"),
                                  (no_campaign, "self-service", "linkedin")]:
        location = client.get(path_of(url)).headers["Location"]
        query = parse_qs(urlsplit(location).query)
        assert query == {"utm_source": [acme.slug], "utm_medium": [medium], "utm_campaign": [campaign],
                         "utm_content": ["pricing"]}
