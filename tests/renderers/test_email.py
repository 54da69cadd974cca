"""Email renderer: MJML to HTML, sandboxed Jinja, escaping, footer, pixel, text part."""

from __future__ import annotations

import pytest
from jinja2.exceptions import SecurityError

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


def test_an_email_needs_its_unsubscribe_link(renderer, brand):
    with pytest.raises(renderers.RenderError) as refused:
        renderer.render(email_spec(brand, unsubscribe_url=""))
    assert str(refused.value) == "email needs a value for unsubscribe_url"


def test_without_a_pixel_url_no_open_pixel_is_added(renderer, brand):
    html = renderer.render(email_spec(brand, pixel_url="")).data.decode()
    assert 'width="1" height="1"' not in html


def test_the_unsubscribe_link_must_be_in_the_html(renderer, brand):
    without = MJML.replace('<a href="{{ unsubscribe_url }}">Unsubscribe</a>', "")
    with pytest.raises(renderers.RenderError) as refused:
        renderer.render(email_spec(brand, mjml=without))
    assert str(refused.value) == "email HTML has no unsubscribe link"


def test_an_undefined_name_fails_the_render_naming_it(renderer, brand):
    with pytest.raises(renderers.RenderError) as refused:
        renderer.render(email_spec(brand, mjml=MJML.replace("{{ headline }}", "{{ headlin }}")))
    assert str(refused.value) == "email template failed: 'headlin' is undefined"


def test_the_pixel_is_added_once_before_the_body_ends(renderer, brand):
    html = renderer.render(email_spec(brand)).data.decode()
    pixel = ('<img src="https://go.example.com/p/abc.gif" width="1" height="1" alt="" '
             'style="display:block;border:0;height:1px;width:1px" /></body>')
    assert html.count(pixel) == 1 and html.count("</body>") == 1
    assert html.index(pixel) > html.index("Unsubscribe")


def test_an_email_result_is_utf8_html_with_its_subject(renderer, brand):
    result = renderer.render(email_spec(brand, headline="Grüße"))
    assert (result.media_type, result.extension) == ("text/html; charset=utf-8", "html")
    assert "Grüße" in result.data.decode("utf-8") and result.extra["subject"] == "Subject"


def test_text_keeps_its_trailing_newline_and_is_not_html_escaped(renderer, brand):
    spec = renderers.EmailSpec(MJML, "{{ headline }}\n{{ partner.address }} {{ unsubscribe_url }}\n",
                               "S", email_spec(brand, headline="A & B <C>").values, brand)
    assert renderer.render(spec).text == (
        "A & B <C>\n1 Main St\nSpringfield https://go.example.com/u/abc?x=1&y=2\n")


def test_nl2br_escapes_each_line():
    env = renderers.sandboxed_environment(autoescape=True)
    assert env.from_string("{{ v | nl2br }}").render(v="<b>1</b>\r\nMain") == "&lt;b&gt;1&lt;/b&gt;<br>Main"


def test_marketer_comments_in_mjml_do_not_reach_the_email(renderer, brand):
    noted = MJML.replace("<mj-text>{{ headline }}</mj-text>",
                         "<!-- internal: check with legal --><mj-text>{{ headline }}</mj-text>")
    assert "internal: check with legal" not in renderer.render(email_spec(brand, mjml=noted)).data.decode()


TOO_BIG = "a template may not build a value of more than 200000 characters"


@pytest.mark.parametrize("source", [
    "{{ 'x' * 200001 }}", "{{ 200001 * 'x' }}", "{{ ['x'] * 200001 }}", "{{ big + 'x' }}",
    "{{ 'x' | center(200001) }}", "{{ '%0200001d' | format(1) }}", "{{ 'x' | indent(width=200001) }}",
])
def test_the_sandbox_refuses_to_build_huge_values(source):
    env = renderers.sandboxed_environment(autoescape=False)
    with pytest.raises(SecurityError) as refused:
        env.from_string(source).render(big="x" * 200000)
    assert str(refused.value) == TOO_BIG


@pytest.mark.parametrize(("source", "length"), [
    ("{{ 'x' * 200000 }}", 200000), ("{{ 100000 * 'xy' }}", 200000), ("{{ big + '' }}", 200000),
    ("{{ 'x' | center(200000) }}", 200000), ("{{ 'ab' * true }}", 2), ("{{ 'ab' * -3 }}", 0),
])
def test_the_sandbox_allows_values_up_to_the_limit(source, length):
    env = renderers.sandboxed_environment(autoescape=False)
    assert len(env.from_string(source).render(big="x" * 200000)) == length


def test_the_sandbox_limits_exponents_to_64():
    env = renderers.sandboxed_environment(autoescape=False)
    assert env.from_string("{{ 2 ** 64 }}").render() == str(2**64)
    assert env.from_string("{{ 2 ** -64 }}").render() == str(2**-64)
    for source in ("{{ 2 ** 65 }}", "{{ 2 ** -65 }}"):
        with pytest.raises(SecurityError) as refused:
            env.from_string(source).render()
        assert str(refused.value) == "an exponent above 64 is not allowed in a template"


def test_a_huge_value_in_an_email_fails_the_render(renderer, brand):
    with pytest.raises(renderers.RenderError) as refused:
        renderer.render(email_spec(brand, mjml=MJML.replace("{{ headline }}", "{{ 'x' * 10**7 }}")))
    assert str(refused.value) == f"email template failed: {TOO_BIG}"
