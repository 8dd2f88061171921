from django.urls import path

from csv_processor import views

app_name = "csv_processor"

urlpatterns = [
    path("", views.home, name="home"),
]
