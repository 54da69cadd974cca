"""WSGI entry point for gunicorn: `gunicorn 'wsgi:app'`."""

from tcma import create_app
from tcma.state import start_background_work

app = create_app()
start_background_work(app)  # each gunicorn worker imports this module: one click shipper each
