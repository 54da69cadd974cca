"""Input that must get a clear 4xx naming what was wrong, never a 500 (issue 10)."""

from __future__ import annotations

import pytest

from tcma.services.catalogue.templates import import_catalogue
from tests.support.factories import logo_png, make_partner, make_taxonomy, make_user
from tests.support.launch import launch
from tests.support.portal import PASSWORD, session_csrf

NUL_MESSAGE = "contains a NUL character, which cannot be stored"
SURROGATE_MESSAGE = "contains an unpaired surrogate (not valid Unicode), which cannot be stored"
NOTHING_TO_CHANGE = "nothing to change: send at least one field"


@pytest.fixture
def world(client):
    """Taxonomy, a partner without a logo, a marketer and that partner's user."""
    taxonomy = make_taxonomy()
    partner = make_partner(taxonomy, with_logo=False)
    _, marketer = make_user("marketer")
    _, partner_user = make_user("partner", partner)
    return {"taxonomy": taxonomy, "partner": partner, "marketer": marketer, "partner_user": partner_user}


# NUL characters and lone surrogates: refused in one place for path, query, form and JSON.

def test_a_link_code_with_a_nul_is_not_found_like_any_unknown_code(client):
    response = client.get("/l/abcdefghij%00")
    assert response.status_code == 404
    assert "text/html" in response.content_type
    unknown = client.get("/l/abcdefghij").get_data(as_text=True)
    assert response.get_data(as_text=True) == unknown.replace("abcdefghij", "abcdefghij\\x00")


def test_an_open_pixel_with_a_nul_still_answers_an_image(client):
    response = client.get("/o/abc%00.gif")
    assert response.status_code == 200 and response.mimetype == "image/gif"


def test_a_nul_in_the_query_is_refused_naming_the_parameter(client, world):
    for url, field in [("/api/v1/partners?q=a%00b", "q"), ("/api/v1/stats?variant=a%00", "variant"),
                       ("/api/v1/stats/export.csv?variant=%00", "variant"),
                       ("/api/v1/assets?output=%00", "output"), ("/api/v1/partners?a%00=1", "a\\x00")]:
        response = client.get(url, headers=world["marketer"])
        assert response.status_code == 422, url
        assert response.json["message"] == f"query parameter {field} {NUL_MESSAGE}"
        assert response.json["errors"] == {"query": {field: [NUL_MESSAGE]}}


def test_a_nul_in_a_json_string_is_refused_naming_the_field(client, world):
    url = f"/api/v1/partners/{world['partner'].id}/brand-kit"
    response = client.patch(url, headers=world["partner_user"], json={"contact_name": "x\u0000y"})
    assert response.status_code == 422
    assert response.json["message"] == f"field contact_name {NUL_MESSAGE}"
    assert response.json["errors"] == {"json": {"contact_name": [NUL_MESSAGE]}}


def test_a_lone_surrogate_in_a_json_string_is_refused_naming_the_nested_field(client, world):
    response = client.put("/api/v1/library/newsletter/customization", headers=world["partner_user"],
                          data='{"fields": {"headline": "\\ud800x"}}', content_type="application/json")
    assert response.status_code == 422
    assert response.json["message"] == f"field fields.headline {SURROGATE_MESSAGE}"
    assert response.json["errors"] == {"json": {"fields.headline": [SURROGATE_MESSAGE]}}


def test_a_nul_in_a_json_key_or_list_is_refused_naming_where(client, world):
    key = client.put("/api/v1/library/newsletter/customization", headers=world["partner_user"],
                     data='{"fields": {"a\\u0000": "x"}}', content_type="application/json")
    assert key.status_code == 422
    assert key.json["errors"] == {"json": {"fields": [f"a key {NUL_MESSAGE}"]}}
    listed = client.post("/api/v1/campaigns", headers=world["marketer"],
                         json={"name": "n", "outputs": [{"template": "x", "output": "pdf"}],
                               "segment": {"tiers": ["gold", "\u0000"]}})
    assert listed.status_code == 422
    assert listed.json["errors"] == {"json": {"segment.tiers.1": [NUL_MESSAGE]}}


def test_a_nul_in_a_path_name_is_not_found(client, world):
    for url in ("/api/v1/templates/%00/versions", "/api/v1/vendor/tiers%00",
                "/api/v1/library/news%00letter/customization"):
        response = client.get(url, headers=world["marketer"])
        assert response.status_code == 404, url
        assert response.json["code"] == 404


def test_a_nul_in_a_portal_form_field_answers_an_html_page_naming_it(client):
    client.get("/login")
    response = client.post("/login", data={"email": "a\x00@b.example", "password": PASSWORD,
                                           "csrf_token": session_csrf(client)})
    assert response.status_code == 422
    assert "text/html" in response.content_type
    assert f"form field email {NUL_MESSAGE}" in response.get_data(as_text=True)


# Page numbers and sizes are bounded in the shared PageArgs.

def test_a_huge_page_number_or_size_is_refused_naming_it_on_every_list(client, world):
    for path in ("/api/v1/assets", "/api/v1/partners", "/api/v1/campaigns", "/api/v1/users"):
        response = client.get(f"{path}?page=99999999999999999999", headers=world["marketer"])
        assert response.status_code == 422, path
        assert response.json["errors"] == {"query": {"page": ["Must be greater than or equal to 1 and "
                                                              "less than or equal to 100000."]}}
        too_many = client.get(f"{path}?per_page=501", headers=world["marketer"])
        assert too_many.status_code == 422, path
        assert too_many.json["errors"] == {"query": {"per_page": ["Must be greater than or equal to 1 and "
                                                                  "less than or equal to 500."]}}


def test_the_last_allowed_page_answers_an_empty_page(client, world):
    response = client.get("/api/v1/partners?page=100000&per_page=500", headers=world["marketer"])
    assert response.status_code == 200 and response.json["items"] == []


# Unknown filters and filter values are refused, not silently ignored.

UNKNOWN_FILTERS = [
    ("/api/v1/assets?template=no-such", "template", "Unknown field."),
    ("/api/v1/assets?output=no-such", "output", "Must be one of: pdf, png, jpg, email, post:linkedin, "
                                                "post:x, post:facebook, post:mastodon, post:bluesky, "
                                                "post:webhook."),
    ("/api/v1/campaigns?status=no-such", "status", "Must be one of: draft, launching, running, paused, "
                                                   "completed, archived."),
    ("/api/v1/partners?tier=Not%20A%20Slug", "tier", "lowercase letters, digits and dashes"),
    ("/api/v1/stats?campaign=3", "campaign", "Unknown field."),
    ("/api/v1/users?role=admin", "role", "Unknown field."),
]


def test_an_unknown_filter_or_value_is_refused_naming_it(client, world):
    for url, field, message in UNKNOWN_FILTERS:
        response = client.get(url, headers=world["marketer"])
        assert response.status_code == 422, url
        errors = response.json["errors"]["query"][field]
        assert message in (errors if isinstance(errors, list) else sum(errors.values(), [])), url


# HTTP details: Allow on 405, nothing to change, upload limits, the CSRF header.

def test_a_wrong_method_answers_405_with_allow(client, world):
    response = client.delete("/api/v1/partners", headers=world["marketer"])
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert response.json["code"] == 405


def test_the_brand_kit_schema_allows_a_missing_logo(client, world):
    kit = client.get(f"/api/v1/partners/{world['partner'].id}/brand-kit", headers=world["marketer"])
    assert kit.status_code == 200 and kit.json["logo_key"] is None
    spec = client.get("/api/v1/openapi.json").json
    assert spec["components"]["schemas"]["BrandKit"]["properties"]["logo_key"]["nullable"] is True


@pytest.mark.parametrize("url", ["/api/v1/partners/{id}", "/api/v1/partners/{id}/brand-kit"])
def test_an_update_with_nothing_to_change_is_refused(client, world, url):
    url = url.format(id=world["partner"].id)
    for kwargs in ({}, {"json": {}}):
        response = client.patch(url, headers=world["marketer"], **kwargs)
        assert response.status_code == 422
        assert response.json["errors"] == {"json": {"_schema": [NOTHING_TO_CHANGE]}}


def test_an_empty_taxonomy_update_is_refused(client, world):
    tier = world["taxonomy"]["tiers"][0]
    response = client.patch(f"/api/v1/vendor/tiers/{tier.id}", headers=world["marketer"], json={})
    assert response.status_code == 422
    assert response.json["errors"] == {"json": {"_schema": [NOTHING_TO_CHANGE]}}


def _upload(client, world, size: int):
    # The body is built here: for large files Werkzeug's test client spools it to a temporary
    # file it never closes (a ResourceWarning under filterwarnings=error).
    data = logo_png() + b"\0" * (size - len(logo_png()))
    body = (b'--tcma\r\nContent-Disposition: form-data; name="logo"; filename="logo.png"\r\n'
            b"Content-Type: image/png\r\n\r\n" + data + b"\r\n--tcma--\r\n")
    return client.put(f"/api/v1/partners/{world['partner'].id}/logo", headers=world["partner_user"],
                      data=body, content_type="multipart/form-data; boundary=tcma")


def test_an_upload_over_the_request_limit_names_the_field_and_the_limit(client, world):
    response = _upload(client, world, 11 * 1024 * 1024)
    assert response.status_code == 413
    assert response.json["message"] == "the upload is larger than the limit of 10,485,760 bytes"
    assert response.json["errors"] == {"logo": ["larger than the limit of 10,485,760 bytes"]}


def test_an_upload_just_over_the_limit_reads_two_different_sizes(client, world):
    response = _upload(client, world, 10 * 1024 * 1024 + 1)
    assert response.status_code == 413
    assert response.json["message"] == "logo is 10,485,761 bytes; the limit is 10,485,760 bytes"
    assert response.json["errors"] == {"logo": ["10,485,761 bytes; the limit is 10,485,760 bytes"]}


def test_an_upload_at_the_limit_is_judged_as_an_image(client, world):
    response = _upload(client, world, 10 * 1024 * 1024)
    assert response.status_code in (200, 422)
    assert "limit" not in response.json.get("message", "")


def test_a_session_write_without_the_csrf_header_is_403_naming_the_header(client):
    user, _ = make_user("marketer")
    client.get("/login")
    client.post("/login", data={"email": user.email, "password": PASSWORD,
                                "csrf_token": session_csrf(client)})
    response = client.post("/api/v1/campaigns", json={"name": "x"})
    assert response.status_code == 403
    assert response.json["message"] == ("a signed-in browser session may write through the API only with "
                                        "its CSRF token in the X-CSRF-Token header")
    wrong = client.post("/api/v1/campaigns", json={"name": "x"}, headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403 and "X-CSRF-Token" in wrong.json["message"]


def test_an_anonymous_write_still_asks_to_sign_in(client):
    response = client.post("/api/v1/campaigns", json={"name": "x"})
    assert response.status_code == 401


# No existence oracle for partners; no 500 for names that look like paths.

def test_a_partner_cannot_tell_a_campaign_not_theirs_from_one_that_does_not_exist(client, world):
    import_catalogue()
    other = make_partner(world["taxonomy"], tier=1)
    campaign_id = launch(client, world["marketer"], segment={"partner_ids": [other.id]})
    theirs = client.get(f"/api/v1/stats/campaigns/{campaign_id}", headers=world["partner_user"])
    missing = client.get("/api/v1/stats/campaigns/999", headers=world["partner_user"])
    assert (theirs.status_code, theirs.json) == (missing.status_code, missing.json)
    assert missing.status_code == 200 and missing.json["rows"] == [] and missing.json["totals"] == {}
    vendor_view = client.get("/api/v1/stats/campaigns/999", headers=world["marketer"])
    assert vendor_view.status_code == 404 and vendor_view.json["message"] == "campaign 999 not found"


PATH_LIKE_NAMES = ["../../../../etc/passwd", "/etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd",
                   "%00", "..", "%5C..%5Cwin.ini", "%ED%A0%80"]


def test_names_that_look_like_paths_answer_404_or_422(client, world):
    import_catalogue()
    for name in PATH_LIKE_NAMES:
        urls = [("get", f"/api/v1/templates/{name}/versions", world["marketer"]),
                ("get", f"/api/v1/templates/{name}/versions/1", world["marketer"]),
                ("post", f"/api/v1/templates/{name}/preview", world["marketer"]),
                ("get", f"/api/v1/vendor/{name}", world["marketer"]),
                ("get", f"/api/v1/library/{name}/customization", world["partner_user"]),
                ("post", f"/api/v1/library/{name}/render", world["partner_user"])]
        for method, url, headers in urls:
            response = getattr(client, method)(url, headers=headers, json={"output": "pdf", "partner_id": 1})
            assert response.status_code in (404, 405, 422), (url, response.status_code)
            assert set(response.json) == {"code", "status", "message", "errors"}
        kind = client.post("/api/v1/campaigns", headers=world["marketer"],
                           json={"name": "n", "outputs": [{"template": name, "output": name}]})
        assert kind.status_code == 422 and "outputs" in kind.json["errors"]["json"], name
