"""Compliance pages under /admin/compliance/ (mounted before the admin site in config/urls.py)."""

from django.contrib import admin
from django.urls import path

from compliance import views

urlpatterns = [
    path("register/", admin.site.admin_view(views.register_view), name="compliance-register"),
    path("minimisation/", admin.site.admin_view(views.minimisation_view), name="compliance-minimisation"),
]
