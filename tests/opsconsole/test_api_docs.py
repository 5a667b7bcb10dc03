"""The API docs are served from the project (drf-spectacular-sidecar), with no CDN and no
inline script or style: /api/docs/ (Swagger UI) and /api/redoc/ (Redoc)."""

import re

import pytest
from django.contrib.staticfiles import finders

from tests.helpers.clients import https_client


def _assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_only_local_assets_that_exist(path):
    response = https_client().get(path)
    html = response.content.decode()
    assert response.status_code == 200
    assert "cdn." not in html and "googleapis" not in html
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"<script>(?!</script>)", html)  # every script has a src
    for asset in _assets(html):
        assert asset.startswith("/"), asset
        if asset.startswith("/static/"):
            assert finders.find(asset.removeprefix("/static/").split("?")[0]), asset


@pytest.mark.django_db
def test_swagger_setup_script_points_at_the_schema_and_no_validator():
    client = https_client()
    page = client.get("/api/docs/").content.decode()
    script_url = next(a for a in _assets(page) if "script" in a).replace("&amp;", "&")
    script = client.get(script_url)
    body = script.content.decode()
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert '"/api/schema/"' in body
    assert '"validatorUrl": null' in body


@pytest.mark.django_db
def test_only_redoc_may_write_inline_styles_and_no_docs_page_inline_scripts():
    client = https_client()
    swagger = client.get("/api/docs/")["Content-Security-Policy"]
    redoc = client.get("/api/redoc/")["Content-Security-Policy"]
    assert "style-src 'self';" in swagger + ";" and "unsafe-inline" not in swagger
    assert "style-src 'self' 'unsafe-inline'" in redoc
    assert "script-src 'self';" in redoc + ";" and "script-src 'self';" in swagger + ";"
