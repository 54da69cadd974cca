"""WSGI entry point for gunicorn: `gunicorn 'wsgi:app'`."""

from tcma import create_app

app = create_app()
