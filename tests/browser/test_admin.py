import pytest


@pytest.mark.browser
def test_support_logs_in_and_sees_the_ops_console(admin_page, screenshot):
    page = admin_page("support")

    assert page.title().endswith("Ops console")
    assert page.locator("#site-name").inner_text() == "Ops console"
    assert (
        page.locator("#user-tools")
        .inner_text()
        .upper()
        .startswith(f"WELCOME, {admin_page.user.username.upper()}")
    )
    shot = screenshot(page, "admin-index-support")
    assert shot.stat().st_size > 0


@pytest.mark.browser
def test_wrong_password_stays_on_the_login_page(page, make_user):
    user = make_user("support")
    page.goto("/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", "not-the-password")
    page.click("input[type=submit]")

    assert "/login/" in page.url
    assert "correct username and password" in page.locator(".errornote").inner_text()
