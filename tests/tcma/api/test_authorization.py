"""The authorization matrix: every API endpoint x every role."""

from __future__ import annotations

import re

import pytest

from tcma.services.catalogue.templates import import_catalogue
from tests.support.factories import make_partner, make_taxonomy, make_user

ALL = {"partner", "partner_admin", "marketer", "admin"}
VENDOR, PARTNER = {"marketer", "admin"}, {"partner", "partner_admin"}
MANAGERS = {"admin", "marketer", "partner_admin"}  # who manages people (each within their scope)

# (method, rule) -> roles allowed; anonymous callers are refused everywhere listed here.
MATRIX = {
    ("GET", "/api/v1/auth/tokens"): ALL,
    ("DELETE", "/api/v1/auth/tokens/<int:token_id>"): ALL,
    ("GET", "/api/v1/auth/me"): ALL,
    ("GET", "/api/v1/vendor/<kind>"): ALL,
    ("POST", "/api/v1/vendor/<kind>"): VENDOR,
    ("PATCH", "/api/v1/vendor/<kind>/<int:row_id>"): VENDOR,
    ("GET", "/api/v1/partners"): ALL,
    ("POST", "/api/v1/partners"): VENDOR,
    ("GET", "/api/v1/partners/<int:partner_id>"): ALL,
    ("PATCH", "/api/v1/partners/<int:partner_id>"): VENDOR,
    ("GET", "/api/v1/partners/<int:partner_id>/brand-kit"): ALL,
    ("PATCH", "/api/v1/partners/<int:partner_id>/brand-kit"): ALL,
    ("PUT", "/api/v1/partners/<int:partner_id>/logo"): ALL,
    ("GET", "/api/v1/templates"): ALL,
    ("GET", "/api/v1/templates/<slug>/versions"): VENDOR,
    ("GET", "/api/v1/templates/<slug>/versions/<int:version>"): VENDOR,
    ("POST", "/api/v1/templates/<slug>/versions"): VENDOR,
    ("POST", "/api/v1/templates/<slug>/preview"): VENDOR,
    ("GET", "/api/v1/campaigns"): VENDOR,
    ("POST", "/api/v1/campaigns"): VENDOR,
    ("GET", "/api/v1/campaigns/<int:campaign_id>"): VENDOR,
    ("POST", "/api/v1/campaigns/<int:campaign_id>/launch"): VENDOR,
    ("GET", "/api/v1/campaigns/<int:campaign_id>/contact-sheet"): VENDOR,
    ("POST", "/api/v1/campaigns/<int:campaign_id>/pause"): VENDOR,
    ("POST", "/api/v1/campaigns/<int:campaign_id>/resume"): VENDOR,
    ("GET", "/api/v1/campaigns/<int:campaign_id>/progress"): VENDOR,
    ("POST", "/api/v1/campaigns/<int:campaign_id>/retry"): VENDOR,
    ("GET", "/api/v1/assets"): ALL,
    ("GET", "/api/v1/assets/<int:asset_id>"): ALL,
    ("GET", "/api/v1/assets/<int:asset_id>/download"): ALL,
    ("POST", "/api/v1/assets/<int:asset_id>/retry"): ALL,
    ("GET", "/api/v1/library"): PARTNER,
    ("GET", "/api/v1/library/<slug>/customization"): PARTNER,
    ("PUT", "/api/v1/library/<slug>/customization"): PARTNER,
    ("POST", "/api/v1/library/<slug>/render"): PARTNER,
    ("GET", "/api/v1/stats"): ALL,
    ("GET", "/api/v1/stats/campaigns/<int:campaign_id>"): ALL,
    ("GET", "/api/v1/stats/export.csv"): ALL,
    ("GET", "/api/v1/users"): MANAGERS,
    ("GET", "/api/v1/users/<int:user_id>"): MANAGERS,
    ("POST", "/api/v1/users/<int:user_id>/deactivate"): MANAGERS,
    ("POST", "/api/v1/users/<int:user_id>/reactivate"): MANAGERS,
    ("GET", "/api/v1/invitations"): MANAGERS,
    ("POST", "/api/v1/invitations"): MANAGERS,
    ("DELETE", "/api/v1/invitations/<int:invitation_id>"): MANAGERS,
    ("POST", "/api/v1/auth/password"): ALL,
    ("POST", "/api/v1/social-accounts"): ALL,
    ("GET", "/api/v1/social-accounts"): ALL,
    ("GET", "/api/v1/social-accounts/<int:account_id>"): ALL,
    ("PATCH", "/api/v1/social-accounts/<int:account_id>"): ALL,
    ("DELETE", "/api/v1/social-accounts/<int:account_id>"): ALL,
    ("POST", "/api/v1/social-accounts/<int:account_id>/check"): ALL,
    ("GET", "/api/v1/social-accounts/expiring"): ALL,
    ("GET", "/api/v1/social-accounts/connect/<network>"): ALL,
    # Marketers plan; a partner's users approve, reject, edit and reschedule their own posts.
    ("POST", "/api/v1/campaigns/<int:campaign_id>/post-plans"): VENDOR,
    ("GET", "/api/v1/campaigns/<int:campaign_id>/post-plans"): VENDOR,
    ("GET", "/api/v1/post-plans/<int:plan_id>"): VENDOR,
    ("POST", "/api/v1/post-plans/<int:plan_id>/cancel"): VENDOR,
    ("POST", "/api/v1/post-plans/<int:plan_id>/retry-failed"): VENDOR,
    ("GET", "/api/v1/posts"): ALL,
    ("GET", "/api/v1/posts/<int:post_id>"): ALL,
    ("PATCH", "/api/v1/posts/<int:post_id>"): PARTNER,
    ("POST", "/api/v1/posts/<int:post_id>/approve"): PARTNER,
    ("POST", "/api/v1/posts/<int:post_id>/reject"): PARTNER,
    ("POST", "/api/v1/posts/<int:post_id>/cancel"): ALL,
    ("POST", "/api/v1/posts/<int:post_id>/retry"): ALL,
    ("GET", "/api/v1/posts/<int:post_id>/attempts"): ALL,
    # Contacts are the partner's: the vendor reads counts (summary, lists), never an address.
    ("GET", "/api/v1/contacts"): PARTNER,
    ("POST", "/api/v1/contacts"): PARTNER,
    ("GET", "/api/v1/contacts/summary"): ALL,
    ("GET", "/api/v1/contacts/<int:contact_id>"): PARTNER,
    ("PATCH", "/api/v1/contacts/<int:contact_id>"): PARTNER,
    ("DELETE", "/api/v1/contacts/<int:contact_id>"): PARTNER,
    ("GET", "/api/v1/contacts/<int:contact_id>/export"): PARTNER,
    ("POST", "/api/v1/contacts/<int:contact_id>/erase"): PARTNER,
    ("GET", "/api/v1/contact-lists"): ALL,
    ("POST", "/api/v1/contact-lists"): PARTNER,
    ("PATCH", "/api/v1/contact-lists/<int:list_id>"): PARTNER,
    ("DELETE", "/api/v1/contact-lists/<int:list_id>"): PARTNER,
    ("POST", "/api/v1/contact-lists/<int:list_id>/import"): PARTNER,
    ("POST", "/api/v1/email-sends"): PARTNER,
    ("GET", "/api/v1/email-sends"): ALL,
    ("GET", "/api/v1/email-sends/<int:send_id>"): ALL,
    ("GET", "/api/v1/email-sends/<int:send_id>/preview"): ALL,
    ("POST", "/api/v1/email-sends/<int:send_id>/test"): PARTNER,
    ("POST", "/api/v1/email-sends/<int:send_id>/schedule"): PARTNER,
    ("POST", "/api/v1/email-sends/<int:send_id>/cancel"): PARTNER,
    ("GET", "/api/v1/email-sends/<int:send_id>/recipients"): PARTNER,
    ("GET", "/api/v1/email-sends/campaigns/<int:campaign_id>"): VENDOR,
    ("GET", "/api/v1/email-sends/consent"): PARTNER,
    ("PUT", "/api/v1/email-sends/consent"): PARTNER,
    ("DELETE", "/api/v1/email-sends/consent"): PARTNER,
    ("GET", "/api/v1/email-sends/consents"): VENDOR,
    ("POST", "/api/v1/email-sends/on-behalf"): VENDOR,
    ("GET", "/api/v1/email-sends/on-behalf"): VENDOR,
    ("GET", "/api/v1/email-sends/on-behalf/<int:behalf_id>"): VENDOR,
    ("POST", "/api/v1/email-sends/on-behalf/<int:behalf_id>/cancel"): VENDOR,
    ("POST", "/api/v1/sending-domains"): PARTNER,
    ("GET", "/api/v1/sending-domains"): ALL,
    ("GET", "/api/v1/sending-domains/<int:domain_id>"): ALL,
    ("POST", "/api/v1/sending-domains/<int:domain_id>/verify"): PARTNER,
    ("POST", "/api/v1/campaigns/<int:campaign_id>/experiments"): VENDOR,
    ("GET", "/api/v1/campaigns/<int:campaign_id>/experiments"): VENDOR,
    ("GET", "/api/v1/experiments/<int:experiment_id>"): VENDOR,
    ("GET", "/api/v1/experiments/<int:experiment_id>/results"): VENDOR,
    ("POST", "/api/v1/experiments/<int:experiment_id>/decide"): VENDOR,
    ("POST", "/api/v1/experiments/<int:experiment_id>/stop"): VENDOR,
    ("GET", "/api/v1/posts/<int:post_id>/fields"): ALL,
    # Evergreen posts: a partner's users pick a library post and schedule it on their own accounts.
    ("GET", "/api/v1/evergreen-posts"): PARTNER,
    ("GET", "/api/v1/evergreen-posts/<slug>"): PARTNER,
    ("POST", "/api/v1/evergreen-posts/<slug>/preview"): PARTNER,
    ("POST", "/api/v1/evergreen-posts/<slug>/schedule"): PARTNER,
    ("GET", "/api/v1/insights/partners"): ALL,
    ("GET", "/api/v1/insights/partners/<int:partner_id>"): ALL,
    ("GET", "/api/v1/insights/kpis"): VENDOR,
    ("GET", "/api/v1/insights/dashboard"): ALL,  # a partner user sees its own partner's numbers
}
PUBLIC = {("POST", "/api/v1/auth/tokens"), ("GET", "/api/v1/openapi.json"),
          ("POST", "/api/v1/invitations/accept"), ("POST", "/api/v1/auth/password-reset"),
          ("POST", "/api/v1/auth/password-reset/confirm"),
          # The network sends the partner's browser back here; the one-time state says who asked.
          ("GET", "/api/v1/social-accounts/callback/<network>")}


def _api_rules(app) -> set[tuple[str, str]]:
    return {(method, rule.rule) for rule in app.url_map.iter_rules()
            if rule.rule.startswith("/api/") for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_api_endpoint_is_in_the_matrix(app):
    assert _api_rules(app) - PUBLIC == set(MATRIX)


@pytest.fixture
def world(app):
    taxonomy = make_taxonomy()
    partner = make_partner(taxonomy)
    import_catalogue()
    headers = {"anonymous": {}}
    _, headers["partner"] = make_user("partner", partner)
    _, headers["partner_admin"] = make_user("partner_admin", partner)
    _, headers["marketer"] = make_user("marketer")
    _, headers["admin"] = make_user("admin")
    values = {"token_id": 999999, "kind": "tiers", "row_id": 1, "partner_id": partner.id,
              "slug": "solution-brief", "version": 1, "campaign_id": 1, "asset_id": 1,
              "user_id": 999999, "invitation_id": 999999, "account_id": 999999,
              "network": "linkedin", "plan_id": 999999, "post_id": 999999,
              "contact_id": 999999, "list_id": 999999, "send_id": 999999, "domain_id": 999999,
              "experiment_id": 999999, "behalf_id": 999999}
    return headers, values


def _url(rule: str, values: dict) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule)


@pytest.mark.parametrize("role", ["anonymous", "partner", "partner_admin", "marketer", "admin"])
def test_each_role_gets_exactly_what_the_matrix_allows(app, client, world, role):
    headers, values = world
    wrong = []
    for (method, rule), allowed in sorted(MATRIX.items()):
        response = client.open(_url(rule, values), method=method, headers=headers[role], json={})
        if role == "anonymous":
            expected_ok = response.status_code == 401
        elif role in allowed:
            expected_ok = response.status_code not in (401, 403)
        else:
            expected_ok = response.status_code == 403
        if not expected_ok:
            wrong.append(f"{role} {method} {rule} -> {response.status_code}")
    assert wrong == []
