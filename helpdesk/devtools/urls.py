from django.urls import path

from helpdesk.devtools import views

urlpatterns = [
    path("outbox/", views.outbox_index, name="outbox"),
    path("outbox/clear/", views.outbox_clear, name="outbox_clear"),
    path("store/", views.demo_store, name="demo_store"),
]
