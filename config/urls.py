from django.contrib import admin
from django.urls import include, path

from config import views
from dunning import api as dunning_api

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/payments/", dunning_api.payments_create, name="api-payments"),
    path("payments/mollie/webhook/", dunning_api.mollie_webhook, name="mollie-webhook"),
    path("", views.home, name="home"),
]
