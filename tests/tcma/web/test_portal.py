"""Portal pages through the Flask test client: sign-in, access, scoping, CSRF, escaping, forms."""

from __future__ import annotations

import copy

from sqlalchemy import select, update

from tcma.extensions import db
from tcma.models import Asset, Campaign
from tcma.services.accounts.auth import Principal
from tcma.services.catalogue.library import render_for_partner
from tcma.services.catalogue.templates import get_version, publish_version
from tcma.services.launch.launches import create_campaign, launch_campaign
from tests.support.factories import make_partner, make_user
from tests.support.portal import PASSWORD, csrf_from, post_form, session_csrf, sign_in

BRIEF = "/portal/templates/solution-brief"


def set_row(model, row_id: int, **values) -> None:
    """Put a row into a state a test needs (a failed render, a running campaign)."""
    db.session.execute(update(model).where(model.id == row_id).values(**values))
    db.session.commit()


def test_sign_in_lands_partner_at_home_and_logout_ends_session(client, partner_user):
    assert client.get("/").location == "/login"
    response = sign_in(client, partner_user)
    assert response.status_code == 302 and response.location == "/portal/home"
    assert client.get("/").location == "/portal/home"
    assert client.get("/portal").status_code == 200

    logout = post_form(client, "/portal", "/logout", {})
    assert logout.status_code == 302 and logout.location == "/login"
    assert client.get("/portal").status_code == 302
    with client.session_transaction() as session:
        assert "user_id" not in session


def test_wrong_password_shows_the_form_again_with_401(client, partner_user):
    response = sign_in(client, partner_user, password="wrong")
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert "do not match" in html and f'value="{partner_user.email}"' in html
    assert client.get("/portal").status_code == 302


def test_anonymous_visitor_is_sent_to_login_and_back(client, partner_user):
    response = client.get("/portal/assets")
    assert response.status_code == 302 and response.location == "/login?next=/portal/assets"
    token = csrf_from(client.get(response.location).get_data(as_text=True))
    signed_in = client.post("/login", data={"email": partner_user.email, "password": "correct horse battery",
                                            "csrf_token": token, "next": "/portal/assets"})
    assert signed_in.location == "/portal/assets"


def test_login_ignores_offsite_next(client, partner_user):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": partner_user.email, "password": "correct horse battery",
                                           "csrf_token": token, "next": "//evil.example/"})
    assert response.location == "/portal/home"


def test_sign_in_never_redirects_off_site(client):
    user, _ = make_user("marketer")
    client.get("/login")
    for target in ("/\t/evil.example", "//evil.example", "https://evil.example/", "/\\evil.example"):
        response = client.post("/login?next=" + target, data={
            "email": user.email, "password": PASSWORD, "csrf_token": session_csrf(client)})
        assert response.status_code == 302
        assert "evil" not in response.headers["Location"]


def test_roles_get_403_on_the_other_sides_pages(partner_client, marketer_client):
    assert partner_client.get("/portal/campaigns").status_code == 403
    forbidden = marketer_client.get("/portal")
    assert forbidden.status_code == 403 and "cannot open this page" in forbidden.get_data(as_text=True)
    assert marketer_client.get("/").location == "/portal/dashboard"


def test_posts_without_a_valid_csrf_token_are_refused(partner_client, partner_user, catalogue):
    assert partner_client.post("/logout").status_code == 400
    assert partner_client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    refused = partner_client.post(BRIEF, data={"fields.contact_cta": "Call us"})
    assert refused.status_code == 400 and "did not come from this site" in refused.get_data(as_text=True)
    assert partner_client.get("/portal").status_code == 200  # still signed in, nothing saved
    assert 'value="Call us"' not in partner_client.get(BRIEF).get_data(as_text=True)
    fresh = partner_client.application.test_client()
    assert fresh.post("/login", data={"email": partner_user.email,
                                      "password": "correct horse battery"}).status_code == 400


def test_library_lists_only_templates_the_tier_may_use(partner_client, catalogue):
    html = partner_client.get("/portal").get_data(as_text=True)
    assert "/portal/templates/solution-brief" in html and "pdf" in html
    assert "/portal/templates/event-flyer" not in html  # gold and platinum only; this partner is silver
    assert partner_client.get("/portal/templates/event-flyer").status_code == 404
    missing = partner_client.get("/portal/templates/no-such-template")
    assert missing.status_code == 404 and missing.mimetype == "text/html"  # a page, not the API's JSON


def test_template_form_carries_the_field_limits(partner_client, catalogue):
    html = partner_client.get(BRIEF).get_data(as_text=True)
    assert 'name="fields.contact_cta"' in html and 'maxlength="60"' in html
    assert '<textarea id="f-intro" name="fields.intro" maxlength="420"' in html
    assert 'name="render" value="pdf"' in html and 'name="variant"' in html


def test_hostile_partner_value_is_shown_escaped(partner_client, catalogue):
    hostile = "<script>alert(1)</script>"
    saved = post_form(partner_client, BRIEF, BRIEF, {"fields.contact_cta": hostile, "save": "1"})
    assert saved.status_code == 302
    html = partner_client.get(BRIEF).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert hostile not in html
    assert "Acme <b>" not in partner_client.get("/portal").get_data(as_text=True)


def test_field_limit_errors_are_shown_next_to_the_field(partner_client, catalogue):
    too_long = "x" * 61
    response = post_form(partner_client, BRIEF, BRIEF, {"fields.contact_cta": too_long, "save": "1"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    field = html[html.index('<label for="f-contact_cta"'):]
    field = field[: field.index("</div>")]
    assert 'class="field-error" id="err-contact_cta"' in field and "the limit is 60" in field
    assert f'value="{too_long}"' in field  # the partner's input is kept for correcting


def test_dropped_fields_are_announced_on_the_template_page(partner_client, partner, catalogue):
    post_form(partner_client, BRIEF, BRIEF, {"fields.contact_cta": "Ring us", "save": "1"})
    admin = Principal.of(make_user("admin")[0])
    spec = copy.deepcopy(get_version("solution-brief").spec)
    spec["manifest"]["fields"]["contact_cta"].update(max_length=5, default="Call")  # "Ring us" no longer fits
    publish_version(admin, "solution-brief", spec)

    html = partner_client.get(BRIEF).get_data(as_text=True)
    assert 'id="dropped-fields"' in html and "<code>contact_cta</code>" in html
    post_form(partner_client, BRIEF, BRIEF, {"fields.intro": "Hello", "save": "1"})
    assert 'id="dropped-fields"' not in partner_client.get(BRIEF).get_data(as_text=True)


def test_render_button_saves_renders_and_lists_the_asset_for_download(partner_client, partner, catalogue):
    response = post_form(partner_client, BRIEF, BRIEF,
                         {"fields.contact_cta": "Book a demo", "render": "pdf", "variant": "b"})
    assert response.status_code == 302 and response.location == "/portal/assets"
    html = partner_client.get("/portal/assets").get_data(as_text=True)
    asset = db.session.scalars(select(Asset).where(Asset.partner_id == partner.id)).one()
    assert asset.status == "done" and asset.variant == "b" and asset.fields["contact_cta"] == "Book a demo"
    assert f"/portal/assets/{asset.id}/download" in html
    download = partner_client.get(f"/portal/assets/{asset.id}/download")
    assert download.status_code == 302
    file = partner_client.get(download.location)
    assert file.status_code == 200 and file.data.startswith(b"%PDF")


def test_failed_asset_shows_its_reason(partner_client, partner, catalogue):
    asset = render_for_partner(Principal(0, "partner", partner.id), "solution-brief", "pdf", None, {})
    set_row(Asset, asset.id, status="failed", error="logo <unreadable>")
    html = partner_client.get("/portal/assets").get_data(as_text=True)
    assert "logo &lt;unreadable&gt;" in html and f"/portal/assets/{asset.id}/retry" in html
    assert partner_client.get(f"/portal/assets/{asset.id}/download").status_code == 409


def test_another_partners_asset_answers_404(partner_client, taxonomy, catalogue):
    other = make_partner(taxonomy)
    theirs = render_for_partner(Principal(0, "partner", other.id), "solution-brief", "pdf", None, {})
    assert partner_client.get(f"/portal/assets/{theirs.id}/download").status_code == 404
    assert f"asset-{theirs.id}" not in partner_client.get("/portal/assets").get_data(as_text=True)
    retry = post_form(partner_client, "/portal/assets", f"/portal/assets/{theirs.id}/retry", {})
    assert retry.status_code == 404


def test_campaign_pages_show_progress_failures_retry_and_pause(marketer_client, partner, catalogue):
    marketer = Principal.of(make_user("marketer")[0])
    campaign = create_campaign(marketer, "Spring <launch>", [{"template": "solution-brief", "output": "pdf"}],
                               {"partner_ids": [partner.id]})
    launch_campaign(marketer, campaign.id)
    asset_id = db.session.scalar(select(Asset.id).where(Asset.campaign_id == campaign.id))
    set_row(Asset, asset_id, status="failed", error="font missing")
    set_row(Campaign, campaign.id, status="running")

    listing = marketer_client.get("/portal/campaigns").get_data(as_text=True)
    assert "Spring &lt;launch&gt;" in listing and "1 failed" in listing and 'class="bar"' in listing
    page_url = f"/portal/campaigns/{campaign.id}"
    detail = marketer_client.get(page_url).get_data(as_text=True)
    assert "font missing" in detail and 'id="n-failed">1<' in detail and "Retry failed" in detail

    retried = post_form(marketer_client, page_url, f"{page_url}/retry", {})
    assert retried.status_code == 302
    detail = marketer_client.get(page_url).get_data(as_text=True)
    assert 'id="n-done">1<' in detail and 'id="n-failed">0<' in detail

    set_row(Asset, asset_id, status="queued")  # still to render
    set_row(Campaign, campaign.id, status="running")
    post_form(marketer_client, page_url, f"{page_url}/pause", {})
    paused = marketer_client.get(page_url).get_data(as_text=True)
    assert "Resume" in paused and ">paused<" in paused
    post_form(marketer_client, page_url, f"{page_url}/resume", {})  # enqueued again; in-process here
    assert ">completed<" in marketer_client.get(page_url).get_data(as_text=True)
    assert marketer_client.get("/portal/campaigns/999999").status_code == 404
