"""CLI: `tcma templates list` and `tcma render` (no database needed)."""

from __future__ import annotations

from pathlib import Path

import click

from tcma.services.catalogue import files as rendering


@click.group("templates")
def templates_cli() -> None:
    """Browse the campaign template library."""


@templates_cli.command("list")
@click.option("--templates-dir", type=click.Path(path_type=Path),
              default=rendering.DEFAULT_TEMPLATES_DIR, show_default=True)
def list_command(templates_dir: Path) -> None:
    """Print one template a line: its slug, then its outputs (pdf, png, jpg, email, post:<network>)."""
    try:
        entries = rendering.list_templates(templates_dir)
    except rendering.RenderingError as exc:
        raise click.ClickException(str(exc)) from None
    for slug, outputs in entries:
        click.echo(f"{slug} {' '.join(outputs)}")


def _parse_fields(values: tuple[str, ...]) -> dict[str, str]:
    """--field name=value pairs to a dict."""
    fields = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{item!r} is not name=value", param_hint="--field")
        fields[name] = value
    return fields


@click.command("render")
@click.argument("template")
@click.option("--partner", "partner", required=True, type=click.Path(path_type=Path),
              help="Partner JSON file, or a folder of them.")
@click.option("--format", "fmt", required=True, type=click.Choice(rendering.FORMATS))
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="Output file (a folder when --partner is a folder).")
@click.option("--variant", default=None, help="A/B variant name.")
@click.option("--field", "fields", multiple=True, help="Field override name=value.")
@click.option("--templates-dir", type=click.Path(path_type=Path),
              default=rendering.DEFAULT_TEMPLATES_DIR, show_default=True)
@click.option("--print", "print_ready", is_flag=True,
              help="PDF only: the print-ready variant (CMYK, output intent, bleed and crop marks).")
def render_command(template, partner, fmt, out, variant, fields, templates_dir, print_ready) -> None:
    """Render TEMPLATE for one partner file or a folder of partner files (no database needed).

    \b
    A partner file is a JSON object (samples: assets/samples/partners/):
      {"name": "Acme Cloud Services",          required, at most 200 characters
       "tier": "gold", "vertical": "healthcare", "region": "emea-de", "locale": "de-DE",
       "logo": "acme.png",                     PNG/JPEG/WebP beside the file (optional)
       "colors": {"primary": "#c83c14", "secondary": "#1d2b3a"},
       "contact": {"name": "...", "email": "...", "phone": "...", "website": "https://..."},
       "address": "1 Example Street\\n10115 Berlin",   needed by emails
       "fields": {"contact_cta": "Call us"}}   the template's editable fields (optional)

    \b
    An email renders as a complete file: --format eml (subject, text and HTML parts, the logo
    and hero as CID parts) or --format html (standalone, images inline); the unsubscribe link is
    the merge tag %%UNSUBSCRIBE_URL%%, which the sender fills per recipient.

    \b
    Examples:
      tcma render solution-brief --partner assets/samples/partners/acme.json --format pdf --out acme.pdf
      tcma render solution-brief --partner acme.json --format pdf --print --out acme-print.pdf
      tcma render newsletter --partner assets/samples/partners/acme.json --format eml --out acme.eml
    """
    try:
        written = rendering.render_partner_files(
            template, partner, fmt, out, variant=variant, fields=_parse_fields(fields),
            templates_dir=templates_dir, print_ready=print_ready)
    except rendering.RenderingError as exc:
        raise click.ClickException(str(exc)) from None
    for path in written:
        click.echo(str(path))
