"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""
from pos import create_app

app = create_app()
