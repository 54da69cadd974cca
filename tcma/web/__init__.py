"""Pages and plain HTTP endpoints: health checks, signed file downloads, portal."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the web blueprints."""
    from tcma.web import files, health, media, tracking, unsubscribe
    from tcma.web.sessions import ServerSessionInterface

    app.session_interface = ServerSessionInterface()

    app.register_blueprint(health.bp)
    app.register_blueprint(files.bp)
    app.register_blueprint(tracking.bp)
    app.register_blueprint(media.bp)
    app.register_blueprint(unsubscribe.bp)

    from tcma.web import portal

    portal.init_app(app)
    app.after_request(add_security_headers)


PAGE_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
               "script-src 'self'; form-action 'self'; base-uri 'self'; frame-ancestors 'none'")
MEDIA_POLICY = ("default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; "
                "frame-ancestors 'none'")


def add_security_headers(response):
    """No content sniffing anywhere; pages and media cannot be framed or run what they should not."""
    if 300 <= response.status_code < 400:
        return response  # a redirect has no body to sniff or frame (and /l/ is the hot path)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    mimetype = response.mimetype or ""
    if mimetype == "text/html" or mimetype.startswith("image/"):
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Content-Security-Policy",
                                    PAGE_POLICY if mimetype == "text/html" else MEDIA_POLICY)
    return response
