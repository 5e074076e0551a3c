"""The Django REST framework peer: what a Django-style developer would otherwise deploy.

Django 5.2 and DRF on the service's tables (`managed = False` models), ModelSerializers,
GenericViewSets on a router, a JWT authentication class, LimitOffsetPagination; served by
gunicorn's threaded sync worker with Django's persistent connections (bench/README.md).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench SECRET_KEY=... \
        gunicorn bench.drf_peer.wsgi -k gthread -w 1 --threads 10
"""
