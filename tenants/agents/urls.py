from django.urls import path

from tenants.agents import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
