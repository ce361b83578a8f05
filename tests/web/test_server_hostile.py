"""The playground's HTTP API under hostile requests (issue 20, item 7): a 4xx naming the field, never a 500.

Each row is one request and the status it must get. Every answer is one short
line of JSON (a 20 MB value is never echoed back), the server raises nothing
(the test client re-raises any server error, which would be the 500 and the
traceback in the log), keeps serving, and writes no file.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("starlette", reason="the playground needs the web extra (starlette, uvicorn)")
pytest.importorskip("httpx2", reason="Starlette's TestClient needs httpx2")

from starlette.testclient import TestClient

from backproplab.web.server import MAX_BODY, create_app

JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
TEXT = {"Content-Type": "text/plain"}

#: name -> (method, path, body: bytes, headers, status, words the error must hold)
ROWS: dict[str, tuple[str, str, bytes, dict[str, str], int, str]] = {
    "lr-400-digits": ("POST", "/api/settings", b'{"lr": ' + b"9" * 400 + b"}", JSON, 400, "lr"),
    "lr-5000-digits": ("POST", "/api/settings", b'{"lr": ' + b"9" * 5000 + b"}", JSON, 400, "JSON"),
    "lr-true": ("POST", "/api/settings", b'{"lr": true}', JSON, 400, "lr (learning rate) must be a number"),
    "lr-list": ("POST", "/api/settings", b'{"lr": [0.1]}', JSON, 400, "lr (learning rate) must be a number"),
    "activation-list": ("POST", "/api/settings", b'{"activation": []}', JSON, 400, "activation must be one of"),
    "activation-object": ("POST", "/api/settings", b'{"activation": {}}', JSON, 400, "activation must be one of"),
    "optimizer-list": ("POST", "/api/settings", b'{"optimizer": ["sgd"]}', JSON, 400, "optimizer must be one of"),
    "dataset-number": ("POST", "/api/settings", b'{"dataset": 3}', JSON, 400, "dataset (data set) must be"),
    "dataset-long": ("POST", "/api/settings", json.dumps({"dataset": "x" * 50_000}).encode(), JSON, 400,
                     "dataset (data set) must be"),
    "hidden-bools": ("POST", "/api/settings", b'{"hidden": [true]}', JSON, 400, "whole numbers"),
    "hidden-huge": ("POST", "/api/settings", b'{"hidden": [' + b"9" * 400 + b"]}", JSON, 400, "whole numbers"),
    "hidden-object": ("POST", "/api/settings", b'{"hidden": {"a": 1}}', JSON, 400, "hidden must be layer sizes"),
    "seed-1e300": ("POST", "/api/settings", b'{"seed": 1e300}', JSON, 400, "seed must be a whole number"),
    "batch-size-nested": ("POST", "/api/settings", b'{"batch_size": [[1]]}', JSON, 400, "batch_size"),
    "unknown-long-key": ("POST", "/api/settings", json.dumps({"k" * 30_000: 1}).encode(), JSON, 400,
                         "unknown setting"),
    "settings-null": ("POST", "/api/settings", b"null", JSON, 400, "must be a JSON object"),
    "settings-not-utf8": ("POST", "/api/settings", b'{"lr": "\xff\xfe"}', JSON, 400, "JSON"),
    "settings-no-type": ("POST", "/api/settings", b'{"lr": 0.1}', {}, 415, "must be JSON"),
    "body-too-large": ("POST", "/api/settings", b'{"lr": "' + b"1" * (MAX_BODY + 10) + b'"}', JSON, 413, "larger"),
    "gradcheck-text": ("POST", "/api/gradcheck", b"{}", TEXT, 415, "must be JSON"),
    "gradcheck-form": ("POST", "/api/gradcheck", b"a=1", FORM, 415, "must be JSON"),
    "gradcheck-bad-json": ("POST", "/api/gradcheck", b"{", JSON, 400, "not valid JSON"),
    "control-form": ("POST", "/api/control", b"action=play", FORM, 415, "must be JSON"),
    "control-action-list": ("POST", "/api/control", b'{"action": ["play"]}', JSON, 400, "action must be one of"),
    "control-action-long": ("POST", "/api/control", json.dumps({"action": "p" * 40_000}).encode(), JSON, 400,
                            "action must be one of"),
}


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(), base_url="http://127.0.0.1") as c:
        yield c


@pytest.mark.parametrize("name", list(ROWS))
def test_hostile_requests_get_a_4xx_naming_the_problem(name, client, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    method, path, body, headers, status, words = ROWS[name]
    r = client.request(method, path, content=body, headers=headers)
    assert r.status_code == status, (name, r.status_code, r.text[:300])
    error = r.json()["error"]
    assert words in error and "\n" not in error and len(error) < 300, error
    assert "Traceback" not in r.text
    assert client.get("/api/state").status_code == 200  # the server goes on
    assert list(tmp_path.iterdir()) == []  # and writes nothing


def test_a_streamed_body_past_the_cap_is_refused_without_reading_it_all(client) -> None:
    def chunks():  # no Content-Length: the server must count as it reads, and stop
        for _ in range(64):
            yield b" " * 65536

    r = client.post("/api/settings", content=chunks(), headers=JSON)
    assert r.status_code == 413


def test_the_table_has_the_rows_issue_20_names() -> None:
    assert len(ROWS) >= 20
    assert {"lr-400-digits", "activation-list", "activation-object", "optimizer-list", "gradcheck-text",
            "gradcheck-form", "body-too-large"} <= set(ROWS)
