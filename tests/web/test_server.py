"""The playground server over HTTP (no browser): what it serves, what it refuses."""

from __future__ import annotations

import pytest

pytest.importorskip("starlette", reason="the playground needs the web extra (starlette, uvicorn)")
pytest.importorskip("httpx2", reason="Starlette's TestClient needs httpx2")

from starlette.testclient import TestClient

from backproplab.web.server import create_app


@pytest.fixture
def client():
    with TestClient(create_app(), base_url="http://127.0.0.1") as c:
        yield c


def post(client, path, body):
    return client.post(path, json=body)


def test_serves_the_page_and_its_own_files(client):
    page = client.get("/")
    assert page.status_code == 200 and "backproplab playground" in page.text
    assert page.headers["content-type"].startswith("text/html")
    served = (("common.js", "text/javascript"), ("playground.js", "text/javascript"), ("style.css", "text/css"))
    for name, kind in served:
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and r.headers["content-type"].startswith(kind), name


@pytest.mark.parametrize("path", ["/static/explorer.html", "/static/..%2F__init__.py", "/static/%2e%2e/server.py",
                                  "/../pyproject.toml", "/etc/passwd", "/static/", "/api/nothing"])
def test_serves_nothing_else(client, path):
    assert client.get(path).status_code == 404


def test_refuses_foreign_host_headers():
    with TestClient(create_app(), base_url="http://evil.example") as c:
        assert c.get("/").status_code == 400


def test_state_and_step(client):
    state = client.get("/api/state").json()
    assert state["frame"]["epoch"] == 0 and state["running"] is False and "xor" in state["choices"]["dataset"]
    r = post(client, "/api/control", {"action": "step"})
    assert r.status_code == 200 and r.json()["epoch"] == 1
    assert client.get("/api/state").json()["losses"] != []


def test_bad_settings_get_a_clear_400(client):
    r = post(client, "/api/settings", {"lr": "-1"})
    assert r.status_code == 400 and r.json()["error"] == "lr (learning rate) must be > 0 and <= 10, got -1.0"
    r = post(client, "/api/settings", {"dataset": "moons", "hidden": "6,6", "lr": "0.05"})
    assert r.status_code == 200 and r.json()["sizes"] == [2, 6, 6, 1]
    assert client.get("/api/state").json()["settings"]["dataset"] == "moons"


def test_posts_must_be_json(client):
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    r = client.post("/api/control", content="action=play", headers=form)
    assert r.status_code == 415 and "JSON" in r.json()["error"]
    r = client.post("/api/settings", content="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]
    assert post(client, "/api/control", {"action": "explode"}).status_code == 400


def test_gradcheck_verdict(client):
    post(client, "/api/control", {"action": "step"})
    r = post(client, "/api/gradcheck", {})
    body = r.json()
    assert r.status_code == 200 and body["passed"] is True and body["rtol"] == 1e-6 and body["atol"] == 1e-9
    assert "PASSED" in body["text"]


def test_reset_returns_to_epoch_zero(client):
    for _ in range(3):
        post(client, "/api/control", {"action": "step"})
    assert client.get("/api/state").json()["frame"]["epoch"] == 3
    post(client, "/api/control", {"action": "reset"})
    state = client.get("/api/state").json()
    assert state["frame"]["epoch"] == 0 and state["losses"] == []


def test_deeply_nested_json_is_a_400_with_a_message(client):
    """60k '[' made Python's JSON parser recurse until RecursionError: a 500 and a traceback in the log."""
    r = client.post("/api/settings", content="[" * 60_000, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"] == "the request's JSON is nested too deeply; settings are one flat object"
    assert client.get("/api/state").status_code == 200  # the server goes on
