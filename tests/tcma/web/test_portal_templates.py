"""Templates in the portal: a marketer uploads a bundle (.zip of the library's format) as a draft,
sees every refusal named by file and field with nothing changed, previews the draft for a partner,
publishes it, and reads the version history with what changed and which partner edits carried."""

from __future__ import annotations

import hashlib
import io
import re
import stat
import zipfile
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tcma.errors import InvalidInput
from tcma.extensions import db
from tcma.models import Customization, TemplateVersion
from tcma.services.catalogue import bundles
from tcma.services.catalogue.templates import get_version
from tcma.storage import get_storage
from tests.support.factories import make_partner

SOCIAL_CARD = Path(__file__).resolve().parents[3] / "templates" / "social-card"
SUBLINE = '\n[fields.subline]\ntype = "text"\nmax_length = 40\ndefault = "Talk to us"\n'


def bundle(folder: Path = SOCIAL_CARD, edit=None, prefix: str = "", locales: str = "") -> bytes:
    """The template folder zipped; `edit` rewrites manifest.toml, `locales` is added to each language."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                data = path.read_bytes()
                if path.name == "manifest.toml" and edit:
                    data = edit(data.decode()).encode()
                if path.parent.name == "locales":
                    data += locales.encode()
                archive.writestr(prefix + str(path.relative_to(folder)), data)
    return out.getvalue()


def with_subline(prefix: str = "") -> bytes:
    """The social card with a new field, translated in every language."""
    translated = '\n[fields.subline]\ndefault = "Hallo"\n'
    return bundle(edit=lambda m: m + SUBLINE, prefix=prefix, locales=translated)


def upload(client, data: bytes, slug: str = "social-card", filename: str = "card.zip"):
    page = client.get(f"/portal/catalogue/{slug}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    # The body is built here: Werkzeug's test client spools large files to a temporary file it
    # never closes (a ResourceWarning under filterwarnings=error).
    body = (f'--tcma\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--tcma\r\nContent-Disposition: form-data; name="bundle"; filename="{filename}"\r\n'
            "Content-Type: application/zip\r\n\r\n").encode() + data + b"\r\n--tcma--\r\n"
    return client.post(f"/portal/catalogue/{slug}/upload", data=body,
                       content_type="multipart/form-data; boundary=tcma")


def publish(client, location: str):
    page = client.get(location).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post(f"{location}/publish", data={"csrf_token": token})


def versions() -> int:
    return db.session.scalar(select(func.count()).select_from(TemplateVersion))


def test_an_uploaded_bundle_is_a_draft_until_published(marketer_client, catalogue, partner):
    before = versions()
    answer = upload(marketer_client, with_subline("social-card/"))
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert re.fullmatch(r"/portal/catalogue/social-card/drafts/[0-9a-f]{64}", location)
    assert versions() == before  # nothing published yet
    html = marketer_client.get(location).get_data(as_text=True)
    assert "<strong>Fields added:</strong> subline" in html
    assert "Acme &lt;b&gt;Networks&lt;/b&gt;" in html

    answer = publish(marketer_client, location)
    assert answer.status_code == 302 and answer.headers["Location"] == "/portal/catalogue/social-card"
    assert versions() == before + 1
    assert get_version("social-card").version == 2
    assert "subline" in get_version("social-card").spec["manifest"]["fields"]
    html = marketer_client.get("/portal/catalogue/social-card").get_data(as_text=True)
    assert "Version 2 is published" in html
    assert marketer_client.get(location).status_code == 404  # a published draft is gone


def test_the_draft_previews_for_the_chosen_partner(marketer_client, catalogue, partner, taxonomy):
    other = make_partner(taxonomy, name="Bolt Inc")
    location = upload(marketer_client, with_subline()).headers["Location"]
    shots = {}
    for who in (partner, other):
        answer = marketer_client.get(f"{location}/preview.png?partner_id={who.id}&output=png")
        assert answer.status_code == 200 and answer.mimetype == "image/png"
        assert answer.data.startswith(b"\x89PNG")
        shots[who.id] = answer.data
    assert shots[partner.id] != shots[other.id]  # each partner's own name and logo
    answer = marketer_client.get(f"{location}/preview.png?partner_id={other.id}&output=pdf")
    assert answer.status_code == 422
    assert "the draft has no picture for output &#39;pdf&#39;" in answer.get_data(as_text=True)


def test_history_says_what_changed_and_which_edits_carried(marketer_client, catalogue, partner, taxonomy):
    keeper = make_partner(taxonomy, name="Keeper Ltd")
    assert publish(marketer_client, upload(marketer_client, with_subline())
                   .headers["Location"]).status_code == 302
    v2 = get_version("social-card", 2)
    db.session.add_all([Customization(partner_id=partner.id, template_version_id=v2.id,
                                      fields={"tagline": "Hello", "subline": "Call Ann"}),
                        Customization(partner_id=keeper.id, template_version_id=v2.id,
                                      fields={"tagline": "Keep me"})])
    db.session.commit()
    smaller = bundle(edit=lambda m: m.replace("max_length = 90", "max_length = 80"))
    assert publish(marketer_client, upload(marketer_client, smaller).headers["Location"]).status_code == 302

    html = marketer_client.get("/portal/catalogue/social-card").get_data(as_text=True)
    v3 = html[html.index('id="v3"'):html.index('id="v2"')]
    assert "<strong>Fields removed:</strong> subline" in v3
    assert "<strong>Fields changed:</strong> tagline" in v3
    assert "Acme &lt;b&gt;Networks&lt;/b&gt;: <span class=\"reason\">dropped subline</span>" in v3
    assert "Keeper Ltd: carried over whole" in v3
    v2_html = html[html.index('id="v2"'):html.index('id="v1"')]
    assert "<strong>Fields added:</strong> subline" in v2_html
    assert "No partner had edited the version before it." in v2_html
    assert "First version: png, jpg." in html[html.index('id="v1"'):]


def zip_of(entries: dict[str, bytes], symlink: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return out.getvalue()


MANIFEST = (SOCIAL_CARD / "manifest.toml").read_bytes()

def problems(html: str) -> list[tuple[str, str, str]]:
    """The refusal's rows as the page shows them: (file, field, problem)."""
    table = html[html.index('id="upload-errors"'):html.index("</table>")]
    cell = r"<td[^>]*>(.*?)</td>"
    rows = re.findall(rf"<tr>{cell}\s*{cell}\s*{cell}</tr>", table, re.S)
    return [tuple(unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in row) for row in rows]


REFUSALS = [
    (b"not a zip at all", ("bundle", "the whole file", "the file is not a .zip bundle")),
    (zip_of({"manifest.toml": MANIFEST, "../evil.txt": b"x"}),
     ("../evil.txt", "the whole file", "a path that leaves the bundle is refused")),
    (zip_of({"manifest.toml": MANIFEST, "/etc/cron.d/x": b"x"}),
     ("/etc/cron.d/x", "the whole file", "a path that leaves the bundle is refused")),
    (zip_of({"manifest.toml": MANIFEST}, symlink="card-bg.jpg"),
     ("card-bg.jpg", "the whole file", "links are refused; put the file itself in the bundle")),
    (zip_of({"manifest.toml": MANIFEST, "bomb.bin": b"\0" * (30 * 2**20)}),
     ("bomb.bin", "the whole file", "unpacks to 31457280 bytes from")),
    (zip_of({"image.toml": b""}),
     ("manifest.toml", "the whole file", "the bundle has no manifest.toml at its top")),
    (zip_of({f"f{i}.txt": b"" for i in range(201)}),
     ("bundle", "the whole file", "the bundle holds 201 files; at most 200 are allowed")),
    (bundle(edit=lambda m: m.replace('type = "text"', 'type = "texty"')),
     ("manifest.toml", "fields.tagline.type",
      "must be one of ('text', 'multiline', 'choice', 'email', 'phone')")),
    (bundle(edit=lambda m: "colour = 3\n" + m), ("manifest.toml", "colour", "unknown key")),
    (bundle(edit=lambda m: m.replace('outputs = ["png", "jpg"]', 'outputs = ["png", "jpg", "pdf"]')),
     ("pdf.toml", "pdf", "output listed but its definition is missing")),
    (bundle(), ("bundle", "the whole file", "nothing changed: the bundle equals version 1")),
]


@pytest.mark.parametrize(("data", "problem"), REFUSALS, ids=[
    "not-zip", "dotdot", "absolute", "symlink", "bomb", "no-manifest", "too-many", "bad-field-type",
    "unknown-key", "missing-part", "unchanged"])
def test_each_refusal_is_named_and_nothing_changes(marketer_client, catalogue, app, data, problem):
    before = versions()
    answer = upload(marketer_client, data)
    html = answer.get_data(as_text=True)
    assert answer.status_code in (409, 422), html
    assert "The bundle was not accepted; nothing was changed: fix the problem below" in html
    [(file, field, message)] = problems(html)
    assert (file, field) == problem[:2] and message.startswith(problem[2]), problems(html)
    assert versions() == before
    draft = f"template-drafts/social-card/{hashlib.sha256(data).hexdigest()}.zip"
    assert not get_storage().exists(draft)


def edited_bundle(edits: dict[str, tuple[str, str]], leave_out: str = "") -> bytes:
    """The social card zipped with each named file's text replaced (old, new), one file left out."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(SOCIAL_CARD.rglob("*")):
            name = str(path.relative_to(SOCIAL_CARD))
            if path.is_file() and name != leave_out:
                data = path.read_bytes()
                if name in edits:
                    old, new = edits[name]
                    assert old in data.decode(), (name, old)
                    data = data.decode().replace(old, new).encode()
                archive.writestr(name, data)
    return out.getvalue()


def broken_in_three_files() -> bytes:
    """The social card with a problem in each of three files, none caused by another."""
    return edited_bundle({
        "manifest.toml": ('locked = ["vendor-tag"]', 'locked = ["vendor-tag"]\ntiers = "gold"'),
        "image.toml": ("  padding = 10\n", '  padding = 10\n  colour = "red"\n'),
        "locales/de.toml": ('[variants.b]\ntagline = "In 30 Minuten live erleben"\n', ""),
    }, leave_out="card-bg.jpg")


THREE_FILES = [
    ("manifest.toml", "tiers", "must be a list of names"),
    ("image.toml", "canvas.background", "resource 'card-bg.jpg' not found (No such file or directory)"),
    ("image.toml", "canvas.layers[1]", "unknown keys ['colour'] (did you mean 'color'?); "
        "known: ['align', 'box', 'color', 'font', "
     "'kind', 'leading', 'link', 'min_size', 'name', 'padding', 'picture', 'plate', 'plate_color', 'size', "
     "'text', 'valign']"),
    ("locales/de.toml", "variants.b.tagline",
     "not translated; a language file must translate every text so no output mixes languages"),
]


def test_every_problem_of_a_bundle_is_listed_by_file_and_field(marketer_client, catalogue, app, tmp_path):
    before = versions()
    data = broken_in_three_files()
    answer = upload(marketer_client, data)
    html = answer.get_data(as_text=True)
    (tmp_path / "refused.html").write_text(html)
    assert answer.status_code == 422
    assert "nothing was changed: fix the 4 problems below and upload it again." in html
    assert problems(html) == THREE_FILES
    assert versions() == before
    assert not get_storage().exists(f"template-drafts/social-card/{hashlib.sha256(data).hexdigest()}.zip")


@pytest.mark.parametrize("size", [11 * 2**20, 10 * 2**20 + 1], ids=["over-the-request-limit", "just-over"])
def test_an_oversize_bundle_is_refused(marketer_client, catalogue, size):
    before = versions()
    answer = upload(marketer_client, b"PK" + b"\0" * (size - 2))
    html = answer.get_data(as_text=True)
    assert answer.status_code in (413, 422)
    assert problems(html) == [("bundle", "the whole file",
                               "the bundle is larger than the limit of 10 MiB; make its images smaller")]
    assert versions() == before


def test_partners_cannot_upload(partner_client, catalogue):
    assert partner_client.get("/portal/catalogue/social-card").status_code in (403, 404)


def test_the_service_names_every_problem_by_file_and_field(app):
    with pytest.raises(InvalidInput) as refused:
        bundles.read_bundle(broken_in_three_files(), "social-card")
    assert refused.value.status == 422
    assert refused.value.errors == {f"{file}: {field}": [message] for file, field, message in THREE_FILES}
    assert refused.value.message == (
        "the bundle has 4 problems: manifest.toml: tiers; image.toml: canvas.background; "
        "image.toml: canvas.layers[1]; locales/de.toml: variants.b.tagline")


def test_an_output_that_does_not_render_is_named_by_its_file(marketer_client, catalogue):
    before = versions()
    huge = edited_bundle({"image.toml": ('text = "{{ tagline }}"',
                                         'text = "{{ partner.name|center(10000000) }}"')})
    answer = upload(marketer_client, huge)
    assert answer.status_code == 422
    [(file, field, message)] = problems(answer.get_data(as_text=True))
    assert (file, field) == ("image.toml", "outputs.png")
    assert "may not build a value of more than 200000 characters" in message, message
    assert versions() == before
