app_name = "users_api"

urlpatterns: list = []
