"""Requests refused before any route still get the app's common error, as OpenAPI says.

A NUL in the path or query (400) and a body over the size limit (413) are refused by
middleware; the answer is the same ``{"error", "message"}`` body as every other refusal
(an error page for people), in the caller's language.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from myna.app import MAX_BODY_BYTES, create_app
from myna.bootstrap import Container


def test_a_nul_in_an_api_query_is_the_common_json_error(container: Container) -> None:
    with TestClient(create_app(container)) as client:
        response = client.get("/api/services?q=%00")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "error": "invalid_request",
        "message": "リクエストの内容が正しくありません。送信内容をご確認ください。",
    }
    assert response.headers["content-security-policy"]


def test_a_nul_in_a_page_s_query_is_the_error_page_in_the_reader_s_language(
    container: Container,
) -> None:
    with TestClient(create_app(container)) as client:
        response = client.get("/services?q=%00", headers={"accept-language": "en"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "The request is not valid. Please check what you sent." in response.text


def test_a_body_over_the_limit_is_the_common_json_error(container: Container) -> None:
    with TestClient(create_app(container)) as client:
        response = client.post(
            "/api/partners/organizations",
            content=b"{" + b" " * MAX_BODY_BYTES + b"}",
            headers={"content-type": "application/json"},
        )
    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"
    assert response.json()["message"] == "送信されたデータが大きすぎます。"
