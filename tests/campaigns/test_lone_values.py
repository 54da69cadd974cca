"""A text that is one value of the context ("{{ headline }}", "{{ texts.kicker }}") is read
straight from it: the very string Jinja renders, and Jinja's way for everything else."""

from __future__ import annotations

import pytest

import campaigns
from campaigns.texts import compile_text, render_text


def tracked(name: str, url: str, channel: str) -> str:
    return f"https://go.example/{channel}/{name}"


CONTEXT = {"a": "x", "n": 3, "blank": "", "none": "shadowed", "texts": {"k": "v", "items": "no", "1": "one"},
           "partner": {"name": "Nörd & Co"}, "html": "<b>bold</b>"}


@pytest.mark.parametrize("source", [
    "{{ a }}", "{{a}}", "{{  a  }}", "{{ blank }}", "{{ texts.k }}", "{{ partner.name }}", "{{ html }}",
    "{{ n }}", "{{ texts.items }}", "{{ none }}", "{{ a }}\n", "{{- a }}", "{{ a }} ", "{{ a|upper }}",
    "{{ texts['k'] }}", "{{ a }}{{ a }}",
])
def test_a_lone_value_renders_as_jinja_renders_it(source):
    assert render_text(source, CONTEXT) == compile_text(source).render(CONTEXT)


def test_a_missing_value_fails_as_before():
    with pytest.raises(campaigns.RequestError, match="^the template text '{{ missing }}' failed: "
                                                     "UndefinedError: 'missing' is undefined$"):
        render_text("{{ missing }}", CONTEXT)
    with pytest.raises(campaigns.RequestError, match="UndefinedError"):
        render_text("{{ texts.1 }}", CONTEXT)


def test_every_shipped_text_renders_as_jinja_renders_it(catalogue, profile):
    rendered = 0
    for tpl in catalogue.values():
        for locale in ("en", *sorted(tpl.translations)):
            local = tpl.localized(locale)
            sources = [text for _, text in local.texts]
            for layout in (local.pdf.pages if local.pdf else ()):
                sources += [f.text for f in layout.frames if f.text]
            if local.image:
                sources += [f.text for f in local.image.page.frames if f.text]
            for output in local.outputs:
                request = campaigns.resolve_request(local, profile(locale=locale), output, None,
                                                    tpl.stand_in_fields(), tracked)
                assert request.key  # resolves with the fast path
            context = {**campaigns.field_values(local, profile(locale=locale), None, tpl.stand_in_fields()),
                       "partner": {"name": "Acme", "contact": {"name": "J"}, "address": "", "locale": locale},
                       "links": {name: tracked(name, url, "pdf") for name, url in local.links},
                       "language": local.language}
            context["texts"] = {name: compile_text(text).render(context) for name, text in local.texts}
            for source in sources:
                try:
                    expected = compile_text(source).render(context)
                except Exception:  # noqa: BLE001 - a text this context cannot fill is not compared
                    continue
                assert render_text(source, context) == expected, (tpl.slug, locale, source)
                rendered += 1
    assert rendered > 100
