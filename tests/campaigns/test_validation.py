"""Cross-checks of whole templates: names and links in layouts, locked regions, email footers."""

from __future__ import annotations

import copy

import pytest

import campaigns


def rebuild(tpl, change):
    spec = copy.deepcopy(tpl.to_spec())
    change(spec)
    return campaigns.template_from_spec(spec, lambda name: tpl.resources[name].data)


def refusal(tpl, change) -> tuple[str, str, str]:
    with pytest.raises(campaigns.TemplateError) as refused:
        rebuild(tpl, change)
    return refused.value.file, refused.value.field, refused.value.message


def _frame(page, index, **values):
    return lambda s: s["pdf"]["pages"][page]["frames"][index].update(values)


@pytest.fixture(scope="module")
def brief(catalogue):
    return catalogue["solution-brief"]


@pytest.fixture(scope="module")
def newsletter(catalogue):
    return catalogue["newsletter"]


def test_the_shipped_templates_rebuild_from_their_specs(brief, newsletter):
    assert rebuild(brief, lambda s: None).pdf == brief.pdf
    assert rebuild(newsletter, lambda s: None).email == newsletter.email


@pytest.mark.parametrize(("change", "field", "message"), [
    (_frame(0, 4, text="{{ headlin }}"), "pages[0].frames[4].text", "uses unknown names ['headlin']"),
    (_frame(1, 2, text="Visit https://acme.example"), "pages[1].frames[2].text",
     "contains a literal URL; use {{ links.<name> }} so it becomes a tracked link"),
    (_frame(1, 5, text="{{ links.demo }}"), "pages[1].frames[5]",
     "uses undeclared link destinations ['demo']"),
    (_frame(0, 10, link="demo"), "pages[0].frames[10]", "uses undeclared link destinations ['demo']"),
    (_frame(1, 13, text="{{ disclaimer }} {{ intro }}"), "pages[1].frames[13].text",
     "locked region 'disclaimer' uses an editable field"),
])
def test_a_bad_layout_text_is_refused_naming_the_frame(brief, change, field, message):
    assert refusal(brief, change) == ("spec:pdf", field, message)


def test_a_locked_region_must_name_a_frame(brief):
    def change(spec):
        spec["manifest"]["locked"] = ["disclaimer", "footer", "aside"]
    assert refusal(brief, change) == ("spec:manifest", "locked", "no frames named ['aside', 'footer']")


def test_a_locked_region_may_use_rules_and_partner_values(brief):
    rebuild(brief, _frame(1, 7, text="{{ disclaimer }} {{ partner.name }}"))


FOOTER = "must show {{ unsubscribe_url }} and {{ partner.address }}"


@pytest.mark.parametrize(("part", "remove", "file"), [
    ("mjml", "{{ unsubscribe_url }}", "spec:mjml"), ("mjml", "{{ partner.address", "spec:mjml"),
    ("text", "{{ unsubscribe_url }}", "spec:text"), ("text", "{{ partner.address }}", "spec:text"),
])
def test_both_parts_of_an_email_need_the_unsubscribe_link_and_address(newsletter, part, remove, file):
    def drop(spec):
        if part == "text":  # the shipped email has no text file of its own: give it one
            spec["email"]["text"] = "{{ partner.address }}\nUnsubscribe: {{ unsubscribe_url }}\n"
        spec["email"][part] = spec["email"][part].replace(remove, "")
    assert refusal(newsletter, drop) == (file, "footer", FOOTER)


@pytest.mark.parametrize(("change", "file", "field", "message"), [
    (lambda s: s["email"].update(text=s["email"]["text"] + "{{ coupon }}"), "spec:text", "body",
     "uses unknown names ['coupon']"),
    (lambda s: s["email"].update(mjml=s["email"]["mjml"].replace("{{ links.story }}",
                                                                 "{{ links.blog }}")),
     "spec:mjml", "body", "uses undeclared link destinations ['blog']"),
    (lambda s: s["manifest"]["email"].update(subject="{{ subject }}"), "spec:manifest",
     "email.subject", "uses unknown names ['subject']"),
    (lambda s: s["manifest"]["email"].update(subject=" "), "spec:manifest", "subject",
     "must be non-empty text"),
    (lambda s: s["manifest"]["email"].update(subjekt="x"), "spec:manifest", "email",
     "unknown keys ['subjekt'] (did you mean 'subject'?); "
         "known: ['hero', 'hero_alt', 'logo_backdrop', 'preheader', "
     "'subject']"),
    (lambda s: s["manifest"].update(email="Hello"), "spec:manifest", "email",
     "must be a table with a subject"),
])
def test_a_bad_email_is_refused_naming_the_part(newsletter, change, file, field, message):
    assert refusal(newsletter, change) == (file, field, message)


def test_email_texts_may_use_the_email_values(newsletter):
    extra = ("{{ pixel_url }} {{ logo_url }} {{ primary }} {{ secondary }} {{ subject }} "
             "{{ colors.button }} {{ lang }} {{ preheader }} {{ hero_src }}")
    footer = "{{ partner.address }} {{ unsubscribe_url }} "
    rebuild(newsletter, lambda s: s["email"].update(text=footer + extra))


def test_email_mjml_that_does_not_compile_is_refused(newsletter):
    file, field, message = refusal(newsletter, lambda s: s["email"].update(
        mjml=s["email"]["mjml"].replace("</mjml>", "")))
    assert (file, field) == ("spec:mjml", "mjml") and message.startswith("does not compile: ")


def test_an_email_hero_needs_alternative_text_and_an_existing_picture(newsletter):
    file, field, message = refusal(newsletter, lambda s: s["manifest"]["email"].update(hero_alt=" "))
    assert (file, field, message) == ("spec:manifest", "email.hero_alt",
                                      "a hero picture needs alternative text")
    file, field, message = refusal(newsletter, lambda s: s["manifest"]["email"].update(hero="gone.jpg"))
    assert (file, field) == ("spec:manifest", "email.hero") and "'gone.jpg' not found" in message


def test_a_preheader_may_only_use_known_names(newsletter):
    file, field, message = refusal(newsletter, lambda s: s["manifest"]["email"].update(
        preheader="{{ coupon }}"))
    assert (file, field, message) == ("spec:manifest", "email.preheader", "uses unknown names ['coupon']")
