"""What the account tests share: the password their therapists sign up with, a page's
text, and a `login` fixture posting the sign-in form with its CSRF token."""
import pytest

PASSWORD = "correct horse battery"


def text(resp):
    return resp.get_data(as_text=True)


@pytest.fixture
def login(post_form):
    def do(client, email, password=PASSWORD):
        return post_form(client, "/login", "/login", {"email": email, "password": password})
    return do
