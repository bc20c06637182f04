from django.contrib import admin
from django.urls import include, path

from config import views
from dunning import api as dunning_api
from dunning import views_letters, views_pay

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/compliance/", include("compliance.urls")),  # register, minimisation (before the site)
    path("admin/letters/<int:message_id>.pdf", views_letters.letter_download, name="letter-download"),
    path("admin/", admin.site.urls),
    path("anymail/", include("anymail.urls")),
    path("api/v1/payments/", dunning_api.payments_create, name="api-payments"),
    path("payments/mollie/webhook/", dunning_api.mollie_webhook, name="mollie-webhook"),
    path("pay/<str:token>/", views_pay.pay, name="pay"),  # the citizen's payment link
    path("", views.home, name="home"),
]
