"""Personalization rules and A/B variants: the copy chosen, and the errors of bad tables."""

from __future__ import annotations

import pytest

import campaigns
from campaigns.rules import Rule, parse_rule, parse_variants

OFFER = {"by": "region", "default": "Worldwide offer",
         "values": {"emea": "EMEA offer", "EMEA_DE": "German offer", "na-us": "US offer"}}


def test_a_rule_table_is_read_with_keys_in_one_spelling():
    rule = parse_rule("offer", OFFER, "manifest.toml")
    assert rule == Rule("offer", "region", (("emea", "EMEA offer"), ("emea-de", "German offer"),
                                            ("na-us", "US offer")), "Worldwide offer")


@pytest.mark.parametrize(("key", "expected"), [
    ("emea-de", "German offer"),
    ("EMEA_DE", "German offer"),  # any case, underscores or hyphens
    ("emea-de-berlin", "German offer"),  # falls back along its prefixes
    ("emea-fr", "EMEA offer"),
    ("na-us", "US offer"),
    ("na", "Worldwide offer"),  # a shorter key does not match a longer one
    ("apac-jp", "Worldwide offer"),
    ("", "Worldwide offer"),
    (None, "Worldwide offer"),
])
def test_a_rule_chooses_the_most_specific_value_then_the_default(key, expected):
    assert parse_rule("offer", OFFER, "manifest.toml").choose(key) == expected


def test_a_rule_without_values_always_gives_its_default():
    rule = parse_rule("cta", {"by": "tier", "default": "Learn more"}, "manifest.toml")
    assert rule.values == () and rule.choose("gold") == "Learn more"


@pytest.mark.parametrize("by", ["tier", "vertical", "region", "locale"])
def test_every_partner_attribute_can_drive_a_rule(by):
    assert parse_rule("x", {"by": by, "default": "d"}, "m.toml").by == by


def _refusal(call) -> campaigns.TemplateError:
    with pytest.raises(campaigns.TemplateError) as refused:
        call()
    return refused.value


@pytest.mark.parametrize(("raw", "field", "message"), [
    ("Worldwide", "personalize.offer", "must be a table"),
    ({"default": "d"}, "personalize.offer.by",
     "must be one of ('tier', 'vertical', 'region', 'locale')"),
    ({"by": "country", "default": "d"}, "personalize.offer.by",
     "must be one of ('tier', 'vertical', 'region', 'locale')"),
    ({"by": "region"}, "personalize.offer.default", "a text fallback is required"),
    ({"by": "region", "default": 5}, "personalize.offer.default", "a text fallback is required"),
    ({"by": "region", "default": "d", "values": ["emea"]}, "personalize.offer.values",
     "must map keys to text"),
    ({"by": "region", "default": "d", "values": {"emea": 1}}, "personalize.offer.values",
     "must map keys to text"),
])
def test_a_bad_rule_table_is_refused_naming_the_key(raw, field, message):
    error = _refusal(lambda: parse_rule("offer", raw, "tpl/manifest.toml"))
    assert (error.file, error.field, error.message) == ("tpl/manifest.toml", field, message)
    assert str(error) == f"tpl/manifest.toml: {field}: {message}"


def test_variants_override_named_fields_and_slots():
    raw = {"a": {"headline": "Fast"}, "b": {"headline": "Safe", "offer": "Free trial"}}
    variants = parse_variants(raw, {"headline", "offer"}, "m.toml")
    assert variants == {"a": {"headline": "Fast"}, "b": {"headline": "Safe", "offer": "Free trial"}}


@pytest.mark.parametrize(("raw", "field", "message"), [
    (["a"], "variants", "must be a table of tables"),
    ({"a": "Fast"}, "variants.a", "must override at least one name"),
    ({"a": {}}, "variants.a", "must override at least one name"),
    ({"a": {"subtitle": "x"}}, "variants.a.subtitle",
     "is not a field or personalized slot (['headline', 'offer'])"),
    ({"a": {"headline": 3}}, "variants.a.headline", "must be text"),
])
def test_a_bad_variant_table_is_refused_naming_the_key(raw, field, message):
    error = _refusal(lambda: parse_variants(raw, {"offer", "headline"}, "m.toml"))
    assert (error.file, error.field, error.message) == ("m.toml", field, message)
