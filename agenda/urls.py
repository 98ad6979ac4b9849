from django.urls import path

from agenda import views

urlpatterns = [
    path("", views.overview, name="pmo_home"),
]
