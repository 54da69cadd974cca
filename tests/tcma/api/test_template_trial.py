"""A template version is rendered for a stand-in partner before it is published: what would fail,
build huge values or hang for every partner is refused at publish, naming the part."""

from __future__ import annotations

import time

from tcma.services.catalogue.templates import import_catalogue
from tests.support.factories import make_user


def _newsletter(client, headers) -> dict:
    return client.get("/api/v1/templates/newsletter/versions/1", headers=headers).json["spec"]


def _publish(client, headers, spec):
    return client.post("/api/v1/templates/newsletter/versions", headers=headers, json={"spec": spec})


def test_a_subject_that_builds_a_gigabyte_is_refused_naming_the_email(client):
    import_catalogue()
    _, marketer = make_user("marketer")
    spec = _newsletter(client, marketer)
    spec["manifest"]["email"]["subject"] = "{{ 'x' * 10**9 }}"
    started = time.perf_counter()
    refused = _publish(client, marketer, spec)
    assert time.perf_counter() - started < 5
    assert refused.status_code == 422
    assert list(refused.json["errors"]) == ["spec.outputs.email"]
    assert "may not build a value of more than 200000 characters" in refused.json["message"]
    assert client.get("/api/v1/templates/newsletter/versions", headers=marketer).json[-1]["version"] == 1


def test_a_text_that_loops_for_ever_is_refused_as_too_slow(client):
    import_catalogue()
    _, marketer = make_user("marketer")
    spec = _newsletter(client, marketer)
    spec["email"]["text"] = ("{% for a in range(100000) %}{% for b in range(100000) %}.{% endfor %}"
                             "{% endfor %}{{ unsubscribe_url }}{{ partner.address }}")
    refused = _publish(client, marketer, spec)
    assert refused.status_code == 422
    assert refused.json["message"] == "outputs.email takes longer than 5 s to render for one partner"


def test_a_huge_width_in_a_filter_is_refused(client):
    import_catalogue()
    _, marketer = make_user("marketer")
    spec = _newsletter(client, marketer)
    spec["manifest"]["email"]["subject"] = "{{ partner.name|center(10000000) }}"
    refused = _publish(client, marketer, spec)
    assert refused.status_code == 422 and list(refused.json["errors"]) == ["spec.outputs.email"]


def test_a_variant_too_long_for_a_network_is_named(client):
    import_catalogue()
    _, marketer = make_user("marketer")
    spec = client.get("/api/v1/templates/launch-posts/versions/1", headers=marketer).json["spec"]
    spec["manifest"]["variants"]["b"]["headline"] = "Say goodbye to your VPN " * 10
    refused = client.post("/api/v1/templates/launch-posts/versions", headers=marketer, json={"spec": spec})
    assert refused.status_code == 422, refused.json
    assert list(refused.json["errors"]) == ["spec.outputs.post:x.variants.b"]
    assert refused.json["message"].startswith("outputs.post:x.variants.b does not render: x post is ")
