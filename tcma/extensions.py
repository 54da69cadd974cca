"""Flask extensions, created unbound and bound to an app in init_app."""

from __future__ import annotations

from flask import Flask
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy

from tcma.models.base import Base


class TcmaApi(Api):
    """flask-smorest, answering errors in tcma's one JSON shape."""

    def handle_http_exception(self, error):
        from tcma.http_errors import http_error_response

        return http_error_response(error)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
api = TcmaApi()


def init_app(app: Flask) -> None:
    """Bind the database and migrations to `app`."""
    from pathlib import Path

    from tcma import models  # noqa: F401  (registers every table on the metadata)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
