"""The routes: a router for the viewsets, with or without the trailing slash (the service
serves `/users/` and `/users` alike, and `/users/{id}` without one), and no API root."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from bench.drf_peer.views import HealthView, ItemViewSet, LoginView, UserViewSet


class OptionalSlashRouter(SimpleRouter):
    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("users", UserViewSet, basename="user")
router.register("items", ItemViewSet, basename="item")

urlpatterns = [
    path("health", HealthView.as_view()),
    path("auth/token", LoginView.as_view()),
    *router.urls,
]

handler404 = "bench.drf_peer.views.not_found"
