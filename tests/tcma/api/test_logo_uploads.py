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


SVG_MARK = (b'<svg xmlns="http://www.w3.org/2000/svg" width="300" height="100">'
            b'<rect x="10" y="10" width="280" height="80" fill="#1f4e79"/>{}</svg>')


def _pixels(key: str) -> Image.Image:
    return Image.open(io.BytesIO(get_storage().get(key))).convert("RGBA")


def test_one_upload_stores_a_logo_for_light_and_one_for_dark_backgrounds(client):
    partner = make_partner(make_taxonomy(), with_logo=False)
    _, headers = make_user("partner", partner)
    response = _upload(client, partner.id, SVG_MARK.replace(b"{}", b""), headers, "logo.svg")
    assert response.status_code == 200, response.json
    light, dark = response.json["logo_key"], response.json["logo_dark_key"]
    middle = (_pixels(light).width // 2, _pixels(light).height // 2)
    assert _pixels(light).getpixel(middle) == (31, 78, 121, 255)  # the partner's own blue
    assert _pixels(dark).getpixel(middle) == (255, 255, 255, 255)  # derived: white for dark


def test_a_logo_for_dark_backgrounds_replaces_only_that_one(client):
    partner = make_partner(make_taxonomy(), with_logo=False)
    _, headers = make_user("partner", partner)
    first = _upload(client, partner.id, logo_png("#AA2200"), headers).json
    own_dark = _upload(client, partner.id, logo_png("#FFFFFF"), headers, "white.png")
    response = client.put(f"/api/v1/partners/{partner.id}/logo?variant=dark", headers=headers,
                          data={"logo": (io.BytesIO(logo_png("#FFEE88")), "dark.png")},
                          content_type="multipart/form-data")
    assert own_dark.status_code == response.status_code == 200
    assert response.json["logo_key"] == own_dark.json["logo_key"]
    assert response.json["logo_dark_key"] not in (first["logo_dark_key"],
                                                  own_dark.json["logo_dark_key"])
    assert not get_storage().exists(own_dark.json["logo_dark_key"])  # the replaced one is gone


def test_an_svg_with_a_script_is_refused_and_nothing_is_stored(client):
    partner = make_partner(make_taxonomy(), with_logo=False)
    _, headers = make_user("partner", partner)
    data = SVG_MARK.replace(b"{}", b"<script>fetch('https://evil.example')</script>")
    response = _upload(client, partner.id, data, headers, "logo.svg")
    assert response.status_code == 422
    assert response.json["errors"] == {
        "logo": ["SVG logo contains a <script> element; scripts are refused"]}
    assert client.get(f"/api/v1/partners/{partner.id}/brand-kit", headers=headers).json[
        "logo_key"] is None


def test_an_unknown_logo_variant_is_refused(client):
    partner = make_partner(make_taxonomy(), with_logo=False)
    _, headers = make_user("partner", partner)
    response = client.put(f"/api/v1/partners/{partner.id}/logo?variant=sepia", headers=headers,
                          data={"logo": (io.BytesIO(logo_png()), "logo.png")},
                          content_type="multipart/form-data")
    assert response.status_code == 422
    assert "variant" in str(response.json["errors"])
