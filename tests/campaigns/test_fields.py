"""Editable fields: their definitions in the manifest and the values partners submit."""

from __future__ import annotations

import pytest

import campaigns
from campaigns.fields import FieldDef, check_value, parse_field, validate_values


def test_a_bare_field_is_optional_single_line_text_of_200_characters():
    field = parse_field("note", {}, "m.toml")
    assert field == FieldDef("note", "text", "note", 200, (), "", False)
    assert validate_values({"note": field}, {}) == {}


def test_every_key_of_a_field_table_is_read():
    raw = {"type": "choice", "label": "Size", "max_length": 10, "choices": ["S", "M"],
           "default": "M", "required": True, "example": "S"}
    assert parse_field("size", raw, "m.toml") == FieldDef("size", "choice", "Size", 10,
                                                           ("S", "M"), "M", True, "S")


@pytest.mark.parametrize("name", ["note", "_note", "note_2", "n"])
def test_field_names_are_lowercase_letters_digits_and_underscores(name):
    assert parse_field(name, {}, "m.toml").name == name


@pytest.mark.parametrize("name", ["partner", "links", "subject", "primary", "secondary",
                                  "unsubscribe_url", "pixel_url", "logo_url", "my-note",
                                  "Subject", "2nd", "", "note "])
def test_field_names_that_are_invalid_or_clash_with_the_render_context_are_refused(name):
    with pytest.raises(campaigns.TemplateError) as refused:
        parse_field(name, {"type": "text"}, "manifest.toml")
    assert (refused.value.file, refused.value.field) == ("manifest.toml", f"fields.{name}")
    assert refused.value.message == (
        "a field name is lowercase letters, digits and _ and not one of ['language', 'links', "
        "'logo_plate', 'logo_url', 'partner', 'pixel_url', 'primary', 'secondary', 'subject', "
        "'texts', 'unsubscribe_url']")


@pytest.mark.parametrize(("raw", "field", "message"), [
    ("text", "fields.note", "must be a table"),
    ({"type": "text", "maxlength": 5, "lable": "x"}, "fields.note", "unknown keys ['lable', 'maxlength']"),
    ({"type": "date"}, "fields.note.type",
     "must be one of ('text', 'multiline', 'choice', 'email', 'phone')"),
    ({"max_length": 0}, "fields.note.max_length", "must be an integer from 1 to 5000"),
    ({"max_length": 5001}, "fields.note.max_length", "must be an integer from 1 to 5000"),
    ({"max_length": "20"}, "fields.note.max_length", "must be an integer from 1 to 5000"),
    ({"choices": "abc"}, "fields.note.choices", "must be a list of texts"),
    ({"choices": ["a", 2]}, "fields.note.choices", "must be a list of texts"),
    ({"type": "choice"}, "fields.note.choices", "a choice field needs choices"),
    ({"required": "false"}, "fields.note.required", "must be true or false"),
    ({"example": 12}, "fields.note.example", "must be text"),
    ({"default": "x" * 11, "max_length": 10}, "fields.note.default",
     "is 11 characters; the limit is 10"),
    ({"type": "choice", "choices": ["a"], "default": "b"}, "fields.note.default",
     "must be one of ['a']"),
    ({"type": "email", "default": "sales"}, "fields.note.default", "is not an email address"),
])
def test_a_bad_field_table_is_refused_naming_the_key(raw, field, message):
    with pytest.raises(campaigns.TemplateError) as refused:
        parse_field("note", raw, "tpl/manifest.toml")
    assert (refused.value.file, refused.value.field, refused.value.message) == (
        "tpl/manifest.toml", field, message)


@pytest.mark.parametrize("max_length", [1, 5000])
def test_max_length_bounds_are_allowed(max_length):
    assert parse_field("note", {"max_length": max_length}, "m.toml").max_length == max_length


def _error(field: FieldDef, value) -> str:
    with pytest.raises(campaigns.FieldError) as refused:
        check_value(field, value)
    assert refused.value.field == field.name
    return str(refused.value)


def test_values_are_trimmed_and_stripped_of_bidi_controls():
    assert check_value(FieldDef("note"), "  Hello \u202eworld\u202c ") == "Hello world"
    assert check_value(FieldDef("note"), "\tAcme Cloud\t") == "Acme Cloud"
    assert check_value(FieldDef("note", "multiline"), "\n  Line 1\n  Line 2  \n") == "Line 1\n  Line 2"


def test_a_value_may_be_exactly_as_long_as_the_limit():
    assert check_value(FieldDef("note", max_length=5), "abcde") == "abcde"
    assert _error(FieldDef("note", max_length=5), "abcdef") == (
        "field 'note': is 6 characters; the limit is 5")


def test_the_limit_counts_what_is_left_after_trimming():
    assert check_value(FieldDef("note", max_length=5), "  abcde  ") == "abcde"


def test_only_text_is_accepted():
    assert _error(FieldDef("note"), 5) == "field 'note': must be text"
    assert _error(FieldDef("note"), None) == "field 'note': must be text"


def test_a_choice_must_be_one_of_the_choices_or_blank():
    size = FieldDef("size", "choice", choices=("S", "M"))
    assert check_value(size, " M ") == "M"
    assert check_value(size, "") == ""
    assert _error(size, "XL") == "field 'size': must be one of ['S', 'M']"


@pytest.mark.parametrize("kind", ["text", "choice", "email", "phone"])
def test_single_line_fields_refuse_line_breaks(kind):
    field = FieldDef("f", kind, choices=("a\nb", "a\rb"))
    assert _error(field, "a\nb") == "field 'f': must be a single line"
    assert _error(field, "a\rb") == "field 'f': must be a single line"


def test_an_email_field_needs_an_address():
    email = FieldDef("contact", "email")
    assert check_value(email, " jane@acme.example ") == "jane@acme.example"
    assert check_value(email, "") == ""
    assert _error(email, "jane.acme.example") == "field 'contact': is not an email address"
    assert _error(email, "jane @acme.example") == "field 'contact': is not an email address"


def test_submitted_values_are_cleaned_and_unknown_names_refused():
    fields = {"note": FieldDef("note"), "size": FieldDef("size", "choice", choices=("S",))}
    assert validate_values(fields, {"note": " hi ", "size": "S"}) == {"note": "hi", "size": "S"}
    with pytest.raises(campaigns.FieldError) as refused:
        validate_values(fields, {"headline": "x"})
    assert str(refused.value) == ("field 'headline': is not an editable field of this template "
                                  "(editable: ['note', 'size'])")


def test_a_required_field_needs_a_value_or_a_default():
    fields = {"name": FieldDef("name", required=True)}
    assert validate_values(fields, {"name": "Acme"}) == {"name": "Acme"}
    for values in ({}, {"name": "   "}):
        with pytest.raises(campaigns.FieldError) as refused:
            validate_values(fields, values)
        assert str(refused.value) == "field 'name': is required"
    with_default = {"name": FieldDef("name", default="Acme", required=True)}
    assert validate_values(with_default, {}) == {}
