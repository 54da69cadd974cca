"""tcma: through-channel marketing automation with a co-branding renderer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

from campaigns.vocabulary import MAX_DATABASE_ID


class DatabaseId(IntegerConverter):
    """`<int:...>` in routes: ids the database can hold (larger ones answer 404, not 500)."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_DATABASE_ID)
        super().__init__(url_map, *args, **kwargs)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask application; settings come from TCMA_* variables, then `config`."""
    from tcma import config as settings
    from tcma import extensions, http_errors

    app = Flask(__name__, instance_relative_config=True)
    app.url_map.converters["int"] = DatabaseId
    loaded = settings.configure(app, config)
    extensions.init_app(app)
    http_errors.init_app(app)

    from tcma.services.tracking.ingest import write_events
    from tcma.state import init_state

    init_state(app, loaded, write_events)

    from tcma import api, cli, web

    api.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    if loaded.proxy_hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind N proxies: the client address (visitor keys, bot rules) and scheme come from
        # the X-Forwarded-* headers those proxies set.
        hops = loaded.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app
