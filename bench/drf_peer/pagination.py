"""`?skip=&limit=` pages, as the service answers them.

LimitOffsetPagination on the service's parameter names, customised only where its
defaults answer otherwise: out-of-range values are 422 (PageQuery) rather than clamped,
and the page is a bare list with the count in X-Total-Count rather than DRF's
`{"count", "next", "previous", "results"}`. The count, then the page: two queries, as
the service's.
"""

from typing import Any

from django.db.models import QuerySet
from rest_framework import pagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.drf_peer.serializers import PageQuery, validated


class SkipLimitPagination(pagination.LimitOffsetPagination):
    offset_query_param = "skip"
    default_limit = max_limit = 100

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: APIView | None = None
    ) -> list[Any]:
        self.window = validated(PageQuery, request.query_params)
        return super().paginate_queryset(queryset, request, view)

    def get_limit(self, request: Request) -> int:
        return self.window["limit"]

    def get_offset(self, request: Request) -> int:
        return self.window["skip"]

    def get_paginated_response(self, data: list[Any]) -> Response:
        return Response(data, headers={"X-Total-Count": str(self.count)})
