"""tcma: through-channel marketing automation with a co-branding renderer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask application; settings come from TCMA_* variables, then `config`."""
    from tcma import config as settings
    from tcma import errors, extensions

    app = Flask(__name__, instance_relative_config=True)
    settings.configure(app, config)
    extensions.init_app(app)
    errors.init_app(app)

    from tcma import api, cli, web

    api.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    return app
