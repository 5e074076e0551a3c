"""The WSGI application gunicorn serves (Django's `startproject` wsgi.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.drf_peer.settings")

application = get_wsgi_application()
