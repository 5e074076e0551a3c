"""The service with its request ids, request log lines and metrics taken out: the "off"
side of the observability overhead that `bench/overhead.py` measures. Never deployed."""

from asgi_correlation_id import CorrelationIdMiddleware

from app.api.middleware import RequestLogMiddleware
from app.db.tortoise_ext.instrumentation import QUERY_OBSERVERS
from app.main import create_app

OBSERVING = (CorrelationIdMiddleware, RequestLogMiddleware)

app = create_app()
# Starlette builds the middleware stack at the first request: this list is what it uses.
app.user_middleware = [entry for entry in app.user_middleware if entry.cls not in OBSERVING]
QUERY_OBSERVERS.clear()  # no statement timed or counted
