from django.urls import path

from csv_processor.views import home

app_name = "csv_processor"

urlpatterns = [
    path("", home.home, name="home"),
]
