"""The shop's URLs: Oscar's REST API under /api/ (store and admin) and Oscar's own pages (the dashboard's
order status form is how staff, and the bridge, move an order through its status pipeline).
"""

from django.apps import apps
from django.urls import include, path

urlpatterns = [
    path("api/", include("oscarapi.urls")),
    path("", include(apps.get_app_config("oscar").urls[0])),
]
