"""Logo uploads are re-encoded (no metadata, no trailing bytes), replaced files are deleted, and
logos and pages are served with headers that stop sniffing and framing."""

from __future__ import annotations

import io
import zipfile

from PIL import Image

from tcma.storage import get_storage
from tests.support.factories import logo_png, make_partner, make_taxonomy, make_user


def _upload(client, partner_id, data, headers, name="logo.png"):
    return client.put(f"/api/v1/partners/{partner_id}/logo", headers=headers,
                      data={"logo": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (400, 200), (20, 60, 160))
    image.paste(Image.new("RGB", (200, 100), (250, 250, 250)), (100, 50))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 18.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_what_is_stored_is_the_image_alone(client):
    partner = make_partner(make_taxonomy(), with_logo=False)
    _, headers = make_user("partner", partner)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("payload.html", "<script>alert(1)</script>")
    polyglots = [logo_png() + b"<html><script>alert(1)</script></html>", logo_png() + archive.getvalue()]
    for data in [*polyglots, _jpeg_with_gps()]:
        response = _upload(client, partner.id, data, headers)
        assert response.status_code == 200, response.json
        stored = get_storage().get(response.json["logo_key"])
        assert b"<script>" not in stored and b"PK\x03\x04" not in stored
        assert stored.endswith(b"IEND\xaeB`\x82")  # nothing after the PNG's last chunk
        image = Image.open(io.BytesIO(stored))
        assert image.format == "PNG" and not image.getexif() and "exif" not in image.info


def test_replacing_a_logo_deletes_the_old_file(client):
    partner = make_partner(make_taxonomy(), with_logo=False)
    _, headers = make_user("partner", partner)
    first = _upload(client, partner.id, logo_png("#AA2200"), headers).json["logo_key"]
    second = _upload(client, partner.id, logo_png("#0044AA"), headers).json["logo_key"]
    assert first != second
    assert get_storage().exists(second) and not get_storage().exists(first)
    again = _upload(client, partner.id, logo_png("#0044AA"), headers).json["logo_key"]
    assert again == second and get_storage().exists(second)  # the same logo again: nothing lost


def test_logos_and_pages_cannot_be_sniffed_or_framed(client):
    partner = make_partner(make_taxonomy(), with_logo=False)
    _, headers = make_user("partner", partner)
    key = _upload(client, partner.id, logo_png(), headers).json["logo_key"]
    logo = client.get(f"/media/{key}")
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    assert logo.headers["X-Content-Type-Options"] == "nosniff"
    assert logo.headers["X-Frame-Options"] == "DENY"
    assert "sandbox" in logo.headers["Content-Security-Policy"]
    page = client.get("/login")
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    api = client.get("/api/v1/auth/me", headers=headers)
    assert api.headers["X-Content-Type-Options"] == "nosniff"
