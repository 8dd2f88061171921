import pytest
from django.urls import reverse

from users.models import ApiToken

ADMIN_PAGES = ["admin:users_user_changelist", "admin:users_apitoken_changelist"]


@pytest.mark.parametrize("url_name", ADMIN_PAGES)
@pytest.mark.django_db
def test_admin_lists_open_to_staff(client, staff_user, api_token, url_name):
    token, raw = api_token
    client.force_login(staff_user)

    response = client.get(reverse(url_name))

    assert response.status_code == 200
    html = response.content.decode()
    assert token.user.username in html
    assert raw not in html
    assert token.key_hash not in html


@pytest.mark.django_db
def test_admin_token_detail_hides_hash_and_is_read_only(client, staff_user, api_token):
    token, _ = api_token
    client.force_login(staff_user)

    response = client.get(reverse("admin:users_apitoken_change", args=[token.pk]))
    add = client.get(reverse("admin:users_apitoken_add"))

    assert response.status_code == 200
    assert token.key_hash not in response.content.decode()
    assert 'name="name"' not in response.content.decode()
    assert add.status_code == 403


@pytest.mark.django_db
def test_admin_revoke_action_revokes_tokens(client, staff_user, api_token):
    token, _ = api_token
    client.force_login(staff_user)

    response = client.post(
        reverse("admin:users_apitoken_changelist"),
        {"action": "revoke_tokens", "_selected_action": [token.pk]},
    )

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


@pytest.mark.parametrize("url_name", ADMIN_PAGES)
@pytest.mark.django_db
def test_admin_refuses_non_staff(user_client, url_name):
    response = user_client.get(reverse(url_name))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


@pytest.mark.parametrize("url_name", ADMIN_PAGES)
@pytest.mark.django_db
def test_admin_refuses_anonymous(client, url_name):
    """LoginRequiredMiddleware answers before the admin does, so anonymous users meet our login page."""
    url = reverse(url_name)

    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('users:login')}?next={url}"
    assert ApiToken.objects.count() == 0


@pytest.mark.django_db
def test_admin_add_user_with_email_of_another_case_is_a_form_error(client, staff_user, user):
    client.force_login(staff_user)

    response = client.post(
        reverse("admin:users_user_add"),
        {
            "username": "newbie",
            "email": user.email.upper(),
            "usable_password": "true",
            "password1": "Fresh-Meadow-Lantern-7",
            "password2": "Fresh-Meadow-Lantern-7",
        },
    )

    assert response.status_code == 200
    assert "A user with that email address already exists." in response.content.decode()
    assert not type(user).objects.filter(username="newbie").exists()
