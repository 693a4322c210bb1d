from fastapi.testclient import TestClient

from tests.conftest import AUTH


def test_create_payment_has_redirect(client: TestClient) -> None:
    r = client.post(
        "/api/v1/payments",
        json={"amount": 1000, "currency": "EUR", "method": "sofort", "return_url": "https://shop.example/r"},
        headers=AUTH,
    )
    assert r.status_code == 201, r.text
    assert r.json()["next_action"]["redirect_url"].startswith("http://127.0.0.1:8000/pay/")
