"""HTML input for accounts; the writes themselves happen in users.services."""

from django import forms
from django.contrib.auth.forms import UserCreationForm

from users.models import ApiToken, User
from users.selectors import user_email_taken
from users.services import DUPLICATE_EMAIL


class SignupForm(UserCreationForm):
    """Username, e-mail and a password checked against AUTH_PASSWORD_VALIDATORS."""

    email = forms.EmailField(
        label="Email",
        max_length=254,
        help_text="Used to reset your password. Never shown to other users.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs["autocomplete"] = "username"

    def clean_email(self) -> str:
        # The model's case-insensitive constraint would report a clash above the form; say it at the field.
        email = self.cleaned_data["email"]
        if user_email_taken(email=email):
            raise forms.ValidationError(DUPLICATE_EMAIL, code="unique_email")
        return email


class ProfileForm(forms.Form):
    # A plain form, not a ModelForm: validating a ModelForm would write the input onto request.user.
    email = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=ApiToken.NAME_MAX_LENGTH,
        help_text="What the token is for, e.g. “laptop script”. Unique among your active tokens.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
