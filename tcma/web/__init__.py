"""Pages and plain HTTP endpoints: health checks, signed file downloads, portal."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the web blueprints."""
    from tcma.web import files, health, media, tracking
    from tcma.web.sessions import ServerSessionInterface

    app.session_interface = ServerSessionInterface()

    app.register_blueprint(health.bp)
    app.register_blueprint(files.bp)
    app.register_blueprint(tracking.bp)
    app.register_blueprint(media.bp)

    from tcma.web import portal

    portal.init_app(app)
