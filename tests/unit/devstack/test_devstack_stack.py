"""The whole stack in-process on the fixture template (no ClickHouse): HTTP -> SQS -> function."""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from touchline_dev.devstack.moto_backend import aws_client
from touchline_dev.devstack.runner import DevStack, StackOptions, StackStartError
from touchline_dev.devstack.state import StackInfo, local_aws, running_stack

pytestmark = pytest.mark.usefixtures("restore_process")


def _options(data_dir: Path, template: Path, **overrides: Any) -> StackOptions:
    values: dict[str, Any] = {
        "port": 0,
        "data_dir": data_dir,
        "template": template,
        "clickhouse": False,
        "drain_timeout": 10.0,
        "access_log": False,
        "snapshot_interval": 0.5,
    }
    values.update(overrides)
    return StackOptions(**values)


@pytest.fixture
def stack(tmp_path: Path, fixture_template: Path) -> Iterator[DevStack]:
    running = DevStack(_options(tmp_path / "data", fixture_template))
    running.start()
    try:
        yield running
    finally:
        if running.lock.held:
            running.stop()


def _post(url: str, body: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=body.encode(), method="POST", headers={"content-type": "text/plain", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def _processed(info: StackInfo) -> list[str]:
    dynamodb = aws_client("dynamodb", info.moto_endpoint)
    items = dynamodb.scan(TableName=info.tables["ConfigTable"])["Items"]
    return sorted(i["sk"]["S"] for i in items if i["pk"]["S"] == "processed")


def _wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_http_to_queue_to_function(stack: DevStack) -> None:
    info = stack.info
    assert info is not None
    assert running_stack(stack.data_dir) == info
    status, body = _post(info.http_url + "/api/event?x=1", "hello")
    event = json.loads(body)["event"]
    assert (status, event["routeKey"], event["queryStringParameters"]) == (200, "POST /api/event", {"x": "1"})
    assert json.loads(body)["env"]["FIXTURE_QUEUE_URL"] == info.queues["WorkQueue"]
    for i in range(30):
        assert _post(info.http_url + "/api/event", f"enqueue:m{i:02d}")[0] == 202
    _wait_for(lambda: len(_processed(info)) == 30)
    assert _post(info.http_url + "/unknown", "x") == (404, b'{"message":"Not Found"}')
    health = urllib.request.urlopen(info.http_url + "/_dev/health", timeout=5).read()
    assert json.loads(health)["status"] == "ok"


def test_chunked_bodies_and_keep_alive(stack: DevStack) -> None:
    assert stack.info is not None
    connection = http.client.HTTPConnection(
        "127.0.0.1", int(stack.info.http_url.rsplit(":", 1)[1]), timeout=10
    )
    for _ in range(2):  # two requests on one kept-alive connection
        connection.request(
            "POST",
            "/api/event",
            body=iter([b"hel", b"lo"]),
            headers={"Content-Type": "text/plain", "Transfer-Encoding": "chunked"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["event"]["body"] == "hello"
    connection.close()


def test_dev_invoke_endpoint(stack: DevStack) -> None:
    assert stack.info is not None
    url, as_json = stack.info.http_url + "/_dev/invoke", {"content-type": "application/json"}
    status, body = _post(
        url, json.dumps({"function": "TickFunction", "event": {"at": "t", "job": "j"}}), as_json
    )
    assert (status, json.loads(body)) == (200, {"result": {"ok": True}})
    assert _post(url, json.dumps({"function": "Nope"}), as_json)[0] == 400
    # Issue 13: what a web page can send (a text/plain POST, or JSON from a foreign origin) is refused.
    forged = _post(url, json.dumps({"function": "TickFunction", "event": {}}))
    assert forged[0] == 403 and json.loads(forged[1])["error"] == "forbidden"
    assert _post(url, "{}", {**as_json, "origin": "https://evil.example"})[0] == 403


def test_state_survives_a_restart_and_undelivered_messages_are_kept(
    tmp_path: Path, fixture_template: Path
) -> None:
    data_dir = tmp_path / "data"
    first = DevStack(_options(data_dir, fixture_template))
    info = first.start()
    assert _post(info.http_url + "/api/event", "enqueue:kept")[0] == 202
    assert _post(info.http_url + "/api/event", "enqueue:fail-forever")[0] == 202
    _wait_for(lambda: _processed(info) == ["kept"])
    first.stop()  # fail-forever reaches the DLQ after 3 receives, before the drain gives up
    assert not (data_dir / "stack.json").exists()
    saved = json.loads((data_dir / "queues.json").read_text())
    assert saved["queues"] == {"WorkDeadLetterQueue": [{"body": "fail-forever"}]}

    second = DevStack(_options(data_dir, fixture_template))
    info = second.start()
    try:
        assert _processed(info) == ["kept"]
        dlq = aws_client("sqs", info.moto_endpoint).receive_message(
            QueueUrl=info.queues["WorkDeadLetterQueue"]
        )
        assert [m["Body"] for m in dlq["Messages"]] == ["fail-forever"]
    finally:
        second.stop()


def test_local_aws_uses_the_running_stack(stack: DevStack, fixture_template: Path) -> None:
    assert stack.info is not None
    with local_aws(stack.data_dir, fixture_template) as aws:
        assert aws.endpoint_url == stack.info.moto_endpoint
        aws.client("dynamodb").put_item(
            TableName=aws.table_name(), Item={"pk": {"S": "site"}, "sk": {"S": "x.com"}}
        )
    # The stack wrote its snapshot when the command finished.
    saved = json.loads((stack.data_dir / "config-table.json").read_text())
    assert {"pk": {"S": "site"}, "sk": {"S": "x.com"}} in saved["tables"]["ConfigTable"]["items"]


def test_second_stack_on_the_same_data_dir_is_refused(stack: DevStack, fixture_template: Path) -> None:
    with pytest.raises(StackStartError, match=r"is in use by another touchline dev \(pid \d+\)"):
        DevStack(_options(stack.data_dir, fixture_template)).start()


def test_taken_port_is_refused(tmp_path: Path, fixture_template: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        stack = DevStack(_options(tmp_path / "data", fixture_template, port=port))
        with pytest.raises(StackStartError, match=f"port {port} on 127.0.0.1 is already in use"):
            stack.start()
    assert not stack.lock.held  # released, so the next attempt can start


def test_template_errors_are_start_errors(tmp_path: Path) -> None:
    with pytest.raises(StackStartError, match="cannot read template"):
        DevStack(_options(tmp_path / "data", tmp_path / "missing.yaml")).start()
