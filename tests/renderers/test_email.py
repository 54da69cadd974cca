"""Email renderer: MJML to HTML, sandboxed Jinja, escaping, footer, pixel, text part."""

from __future__ import annotations

import pytest

import renderers

MJML = """<mjml><mj-body><mj-section><mj-column>
<mj-text>{{ headline }}</mj-text>
<mj-button href="{{ links.cta }}">Go</mj-button>
<mj-text>{{ partner.address | nl2br }} <a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text>
</mj-column></mj-section></mj-body></mjml>"""
TEXT = "{{ headline }}\n{{ links.cta }}\n{{ partner.address }}\nUnsubscribe: {{ unsubscribe_url }}"


def email_spec(brand, headline="Hello", mjml=MJML, **values):
    """An email spec with nested values as the campaigns package builds them."""
    base = {"headline": headline, "links": (("cta", "https://go.example.com/l/e1"),),
            "partner": (("address", "1 Main St\nSpringfield"),),
            "unsubscribe_url": "https://go.example.com/u/abc?x=1&y=2",
            "pixel_url": "https://go.example.com/p/abc.gif", **values}
    return renderers.EmailSpec(mjml, TEXT, "Subject", tuple(sorted(base.items())), brand)


def test_html_and_text_parts(renderer, brand):
    result = renderer.render(email_spec(brand))
    html = result.data.decode()
    assert result.media_type.startswith("text/html") and "<table" in html
    assert 'href="https://go.example.com/u/abc?x=1&amp;y=2"' in html
    assert "1 Main St<br>Springfield" in html
    assert '<img src="https://go.example.com/p/abc.gif" width="1" height="1"' in html
    assert result.text.splitlines() == ["Hello", "https://go.example.com/l/e1", "1 Main St",
                                        "Springfield", "Unsubscribe: https://go.example.com/"
                                        "u/abc?x=1&y=2"]


@pytest.mark.parametrize("hostile", ["<script>alert(1)</script>", "{{ 7*7 }}",
                                     "\u202eevil\u202c", "{% for x in range(9) %}x{% endfor %}"])
def test_partner_values_are_escaped_data(renderer, brand, hostile):
    html = renderer.render(email_spec(brand, headline=hostile)).data.decode()
    assert "<script>" not in html
    assert "49" not in html or hostile != "{{ 7*7 }}"
    if "{" in hostile:
        assert hostile in html  # shown literally, never evaluated
    text = renderer.render(email_spec(brand, headline=hostile)).text
    assert text.splitlines()[0] == hostile


def test_sandbox_blocks_template_escape(renderer, brand):
    evil = MJML.replace("{{ headline }}", "{{ headline.__class__.__mro__ }}")
    with pytest.raises(renderers.RenderError):
        renderer.render(email_spec(brand, mjml=evil))


def test_missing_unsubscribe_url_is_refused(renderer, brand):
    with pytest.raises(renderers.RenderError, match="unsubscribe_url"):
        renderer.render(email_spec(brand, unsubscribe_url=""))


def test_same_inputs_same_html(brand):
    assert renderers.Renderer().render(email_spec(brand)).data == \
        renderers.Renderer().render(email_spec(brand)).data


@pytest.mark.parametrize("address", ["", "  \n "])
def test_an_email_needs_the_partners_postal_address(renderer, brand, address):
    with pytest.raises(renderers.RenderError) as refused:
        renderer.render(email_spec(brand, partner=(("address", address),)))
    assert str(refused.value) == ("the partner has no postal address; commercial email must show "
                                  "one (add it to the brand kit)")
