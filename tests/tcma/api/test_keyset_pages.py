"""Long lists walked with after= (keyset pages): every row once, in order, rows added meanwhile never
repeated; a bad cursor refused by name; unfiltered totals of big tables estimated, and said so."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from tcma import create_app
from tcma.extensions import db
from tcma.models import Asset, ScheduledPost, SocialAccount
from tcma.schemas.common import encode_cursor
from tests.support.apps import app_on, base_config
from tests.support.factories import make_partner, make_taxonomy, make_user
from tests.tcma.insights.history import template

NOON = datetime(2027, 3, 9, 12, tzinfo=UTC)
_keys = itertools.count(1)


def _assets(partners, version, count):
    made = [Asset(partner_id=partners[i % len(partners)].id, template_version_id=version.id, output="pdf",
                  status="done") for i in range(count)]
    db.session.add_all(made)
    db.session.commit()
    return [asset.id for asset in made]


def _account(partner):
    account = SocialAccount(partner_id=partner.id, network="mastodon", handle=f"@p{partner.id}")
    db.session.add(account)
    db.session.commit()
    return account


def _post(account, at):
    post = ScheduledPost(social_account_id=account.id, partner_id=account.partner_id, text="Hello",
                         scheduled_at=at, idempotency_key=f"keyset-{next(_keys)}", status="scheduled")
    db.session.add(post)
    db.session.commit()
    return post.id


def _walk(client, url, headers, before_next=None):
    """Every page of `url` through its `next` cursors: (the ids seen, the bodies)."""
    body = client.get(url, headers=headers).get_json()
    bodies = [body]
    while body["next"] is not None:
        if before_next:
            before_next(len(bodies))
        answer = client.get(f"{url}{'&' if '?' in url else '?'}after={body['next']}", headers=headers)
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        bodies.append(body)
    return [item["id"] for page in bodies for item in page["items"]], bodies


def test_assets_walked_after_each_next_come_once_each_in_id_order_with_new_ones_at_the_end(client):
    taxonomy = make_taxonomy()
    partners = [make_partner(taxonomy, with_logo=False) for _ in range(2)]
    version = template("brochure")
    ids = _assets(partners, version, 7)
    _, admin = make_user("admin")
    added = []

    def insert_meanwhile(page_number):
        if page_number == 1:
            added.extend(_assets(partners, version, 1))

    seen, bodies = _walk(client, "/api/v1/assets?per_page=3", admin, before_next=insert_meanwhile)
    assert seen == ids + added and len(seen) == 8
    assert [(b["page"], b["per_page"], len(b["items"])) for b in bodies] == [(1, 3, 3), (None, 3, 3),
                                                                             (None, 3, 2)]
    assert [b["total_is_estimate"] for b in bodies] == [False, False, False]
    assert bodies[0]["total"] == 7 and bodies[-1]["total"] == 8
    # The cursor works beside filters, and page= still answers the same rows.
    mine, _ = _walk(client, f"/api/v1/assets?per_page=2&partner_id={partners[0].id}", admin)
    assert mine == ids[0::2] + added
    second = client.get("/api/v1/assets?per_page=3&page=2", headers=admin).get_json()
    assert [item["id"] for item in second["items"]] == ids[3:6]
    assert second["next"] == bodies[1]["next"]


def test_posts_walked_after_each_next_keep_time_then_id_order_and_never_repeat_an_earlier_newcomer(client):
    taxonomy = make_taxonomy()
    accounts = [_account(make_partner(taxonomy, with_logo=False)) for _ in range(2)]
    times = [NOON + timedelta(hours=h) for h in (3, 1, 1, 2, 1, 0)]  # ties at 1 h: by id
    ids = [_post(accounts[i % 2], at) for i, at in enumerate(times)]
    _, admin = make_user("admin")
    late = []

    def insert_meanwhile(page_number):
        if page_number == 1:
            _post(accounts[0], NOON - timedelta(days=1))  # before the cursor: an offset would repeat a row
            late.append(_post(accounts[1], NOON + timedelta(hours=5)))

    seen, bodies = _walk(client, "/api/v1/posts?per_page=2", admin, before_next=insert_meanwhile)
    assert seen == [ids[5], ids[1], ids[2], ids[4], ids[3], ids[0], *late]
    assert len(bodies) == 4 and bodies[-1]["next"] is None


def test_a_bad_cursor_or_a_cursor_beside_a_page_is_refused_naming_after(client):
    _, admin = make_user("admin")
    asset_cursor = "WzEyXQ"  # [12]: an assets cursor, not a posts one
    for url, cursor in (("/api/v1/assets", "nonsense!"), ("/api/v1/assets", "WyJ4Il0"),
                        ("/api/v1/posts", asset_cursor), ("/api/v1/social-accounts", "W3RydWVd"),
                        ("/api/v1/assets", encode_cursor((2**31,))),
                        ("/api/v1/posts", encode_cursor(("0001-01-01T00:00:00+01:00", 1))),
                        ("/api/v1/posts", encode_cursor(("2027-03-09T12:00:00", 1)))):  # no zone
        refused = client.get(url, headers=admin, query_string={"after": cursor})
        assert refused.status_code == 422, (url, cursor)
        assert refused.get_json()["errors"]["query"] == {
            "after": ["not a cursor of this list: pass the `next` of its previous page"]}, (url, cursor)
    both = client.get("/api/v1/assets", headers=admin, query_string={"after": asset_cursor, "page": 2})
    assert both.status_code == 422
    assert both.get_json()["errors"]["query"] == {"after": ["give page or after, not both"]}
    walked = client.get("/api/v1/assets", headers=admin, query_string={"after": asset_cursor})
    assert walked.status_code == 200


def test_a_page_past_row_ten_thousand_is_refused_pointing_at_after(client):
    _, admin = make_user("admin")
    for url in ("/api/v1/assets", "/api/v1/posts", "/api/v1/social-accounts"):
        last = client.get(url, headers=admin, query_string={"page": 200, "per_page": 50})
        assert last.status_code == 200 and last.get_json()["page"] == 200  # rows 9,951-10,000
        refused = client.get(url, headers=admin, query_string={"page": 101, "per_page": 100})
        assert refused.status_code == 422, url
        assert refused.get_json()["errors"]["query"] == {"page": [
            "page 101 of 100 starts past row 10,000 of this list: walk further with after= (each page's "
            "`next`), which reads any depth at the speed of the first page"]}, url


def test_social_accounts_come_in_the_page_envelope_and_walk_with_next(client):
    taxonomy = make_taxonomy()
    partners = [make_partner(taxonomy, with_logo=False) for _ in range(3)]
    ids = [_account(partner).id for partner in partners]
    _, admin = make_user("admin")
    seen, bodies = _walk(client, "/api/v1/social-accounts?per_page=2", admin)
    assert seen == ids
    assert [(b["total"], b["page"], b["per_page"], len(b["items"])) for b in bodies] == [(3, 1, 2, 2),
                                                                                        (3, None, 2, 1)]
    _, own = make_user("partner", partners[1])
    body = client.get("/api/v1/social-accounts", headers=own).get_json()
    assert ([item["id"] for item in body["items"]], body["total"], body["next"]) == ([ids[1]], 1, None)


@pytest.fixture
def estimating_app(migrated_pg, tmp_path):
    url, tables = migrated_pg
    yield from app_on(base_config(tmp_path, DATABASE_URL=url, ESTIMATED_TOTAL_FROM=5), tables)


def test_an_unfiltered_total_of_a_big_table_is_the_estimate_and_says_so(estimating_app):
    client = estimating_app.test_client()
    taxonomy = make_taxonomy()
    partners = [make_partner(taxonomy, with_logo=False) for _ in range(2)]
    version = template("brochure")
    _assets(partners, version, 6)
    db.session.execute(text("ANALYZE asset"))
    db.session.commit()
    _assets(partners, version, 2)  # not yet in the planner's numbers
    _, admin = make_user("admin")
    everything = client.get("/api/v1/assets?per_page=1", headers=admin).get_json()
    assert (everything["total"], everything["total_is_estimate"]) == (6, True)
    filtered = client.get(f"/api/v1/assets?partner_id={partners[0].id}", headers=admin).get_json()
    assert (filtered["total"], filtered["total_is_estimate"]) == (4, False)
    _, own = make_user("partner", partners[1])
    scoped = client.get("/api/v1/assets", headers=own).get_json()
    assert (scoped["total"], scoped["total_is_estimate"]) == (4, False)


def test_totals_are_counted_below_the_threshold(client):
    taxonomy = make_taxonomy()
    _assets([make_partner(taxonomy, with_logo=False)], template("brochure"), 3)
    db.session.execute(text("ANALYZE asset"))
    db.session.commit()
    _, admin = make_user("admin")
    body = client.get("/api/v1/assets", headers=admin).get_json()
    assert (body["total"], body["total_is_estimate"]) == (3, False)


def test_on_sqlite_totals_are_always_counted_and_cursors_walk_the_same(tmp_path):
    app = create_app(base_config(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/embedded.db",
                                 ESTIMATED_TOTAL_FROM=0))
    assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        taxonomy = make_taxonomy()
        partner = make_partner(taxonomy, with_logo=False)
        ids = _assets([partner], template("brochure"), 5)
        account = _account(partner)
        posts = [_post(account, NOON + timedelta(hours=h)) for h in (2, 1, 1)]
        _, admin = make_user("admin")
        client = app.test_client()
        seen, bodies = _walk(client, "/api/v1/assets?per_page=2", admin)
        assert seen == ids and [b["total_is_estimate"] for b in bodies] == [False, False, False]
        assert bodies[0]["total"] == 5
        walked, _ = _walk(client, "/api/v1/posts?per_page=1", admin)
        assert walked == [posts[1], posts[2], posts[0]]
        db.session.remove()
        db.engine.dispose()
