"""My assets' downloads: names a person can file, emails as .eml, PDFs print-ready, thumbnails."""

from __future__ import annotations

import email
import html
import io
from email.policy import default
from urllib.parse import parse_qs, urlparse

import pytest
from pypdf import PdfReader

from tcma.services.accounts.auth import principal_for_user
from tcma.services.catalogue.library import render_for_partner
from tcma.storage import get_storage
from tests.support.factories import make_partner, make_user
from tests.support.portal import sign_in


def _follow(client, url):
    """The signed download a portal link redirects to: its file name and bytes."""
    answer = client.get(url)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    location = urlparse(answer.location)
    name = parse_qs(location.query)["filename"][0]
    data = client.get(f"{location.path}?{location.query}").data
    return name, data


@pytest.fixture
def assets(app, partner, partner_user, catalogue):
    principal = principal_for_user(partner_user.id)
    pdf = render_for_partner(principal, "solution-brief", "pdf", None, {})
    mail = render_for_partner(principal, "newsletter", "email", None, {})
    post = render_for_partner(principal, "launch-posts", "post:mastodon", None, {})
    return {"pdf": pdf.id, "email": mail.id, "post": post.id}


def test_downloads_are_named_for_the_partner_and_template(partner_client, partner, assets):
    name, data = _follow(partner_client, f"/portal/assets/{assets['pdf']}/download")
    assert name == f"{partner.slug}-solution-brief-{assets['pdf']}.pdf" and data.startswith(b"%PDF")
    name, data = _follow(partner_client, f"/portal/assets/{assets['pdf']}/download?form=print")
    assert name == f"{partner.slug}-solution-brief-print-{assets['pdf']}.pdf"
    assert "/OutputIntents" in PdfReader(io.BytesIO(data)).trailer["/Root"]


def test_an_email_downloads_as_a_complete_eml(partner_client, partner, assets):
    name, data = _follow(partner_client, f"/portal/assets/{assets['email']}/download?form=eml")
    assert name == f"{partner.slug}-newsletter-{assets['email']}.eml"
    message = email.message_from_bytes(data, policy=default)
    assert message["Subject"] == ("Acme <b>Networks</b>: How hospitals roll out zero trust without "
                                  "disrupting care")
    assert [p.get_content_type() for p in message.walk()][1:3] == ["text/plain", "multipart/related"]


@pytest.mark.parametrize("kind, form, message", [
    ("pdf", "zip", "no download form 'zip'"),
    ("pdf", "eml", "only an email downloads as .eml"),
    ("email", "print", "only a PDF has a print-ready variant"),
])
def test_a_wrong_download_form_is_refused_naming_it(partner_client, assets, kind, form, message):
    answer = partner_client.get(f"/portal/assets/{assets[kind]}/download?form={form}")
    assert answer.status_code == 422 and message in html.unescape(answer.get_data(as_text=True))


def test_an_email_rendered_before_eml_files_asks_for_a_new_render(app, partner_client, assets):
    from tcma.extensions import db
    from tcma.models import Asset

    key = db.session.get(Asset, assets["email"]).render.storage_key
    get_storage().delete(key + ".eml")
    answer = partner_client.get(f"/portal/assets/{assets['email']}/download?form=eml")
    assert answer.status_code == 409
    assert (f"asset {assets['email']} was rendered before emails were kept as .eml; render it again"
            in answer.get_data(as_text=True))


def test_thumbnails_are_pngs_kept_once_made_and_scoped(app, partner_client, taxonomy, assets):
    answer = partner_client.get(f"/portal/assets/{assets['pdf']}/thumbnail.png")
    assert answer.status_code == 200 and answer.data.startswith(b"\x89PNG")
    assert partner_client.get(f"/portal/assets/{assets['pdf']}/thumbnail.png").data == answer.data
    post = partner_client.get(f"/portal/assets/{assets['post']}/thumbnail.png")
    assert post.status_code == 404 and f"asset {assets['post']} has no picture to show" in post.get_data(
        as_text=True)
    other = app.test_client()
    sign_in(other, make_user("partner", make_partner(taxonomy))[0])
    assert other.get(f"/portal/assets/{assets['pdf']}/thumbnail.png").status_code == 404
