"""The shop's URLs: Oscar's REST API under /api/ (store and admin), nothing else is needed by the tests."""

from django.urls import include, path

urlpatterns = [path("api/", include("oscarapi.urls"))]
