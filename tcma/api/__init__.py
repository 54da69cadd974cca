"""REST API under /api/v1, described by OpenAPI from the marshmallow schemas."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from tcma.http_errors import http_error_response


class TcmaApi(Api):
    """flask-smorest, answering errors in tcma's one JSON shape."""

    def handle_http_exception(self, error):
        return http_error_response(error)


api = TcmaApi()

BLUEPRINTS: list[str] = ["auth", "vendor", "partners", "templates", "campaigns", "assets", "library", "stats",
                         "users", "social", "posts", "evergreen", "contacts", "email_sends", "experiments",
                         "insights"]


def init_app(app: Flask) -> None:
    """Configure flask-smorest and register every API blueprint."""
    app.config.setdefault("API_TITLE", "tcma")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api.init_app(app)
    for name in BLUEPRINTS:
        module = __import__(f"tcma.api.{name}", fromlist=["blp"])
        for blueprint in (getattr(module, attr) for attr in dir(module) if attr.endswith("blp")):
            api.register_blueprint(blueprint, url_prefix=f"/api/v1/{blueprint.url_prefix}")
