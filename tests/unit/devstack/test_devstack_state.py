"""Persistence and ownership of the data dir: snapshots, saved messages, the lock, stack.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from touchline_dev.devstack.lock import DataDirLock, DataDirLockedError, is_locked
from touchline_dev.devstack.moto_backend import MotoServer
from touchline_dev.devstack.resources import LocalResources
from touchline_dev.devstack.snapshot import (
    TableSnapshots,
    dump_tables,
    restore_messages,
    restore_tables,
    save_messages,
    take_messages,
)
from touchline_dev.devstack.state import STACK_FILE, StackInfo, clickhouse_url, local_aws, running_stack
from touchline_dev.devstack.template import load_template


def _resources(moto: MotoServer, template: Path) -> LocalResources:
    return LocalResources(load_template(template), endpoint_url=moto.url)


def test_table_snapshot_round_trip(
    moto: MotoServer, dynamodb: Any, fixture_template: Path, tmp_path: Path
) -> None:
    resources = _resources(moto, fixture_template)
    tables = resources.create_tables(dynamodb)
    name = tables[0].name
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "site"}, "sk": {"S": "a"}, "n": {"N": "1"}})
    dynamodb.put_item(
        TableName=name,
        Item={"pk": {"S": "site"}, "sk": {"S": "b"}, "blob": {"B": b"\x00\xff"}, "tags": {"SS": ["x", "y"]}},
    )
    path = tmp_path / "config-table.json"
    snapshots = TableSnapshots(dynamodb, tables, path)
    assert snapshots.save() is True
    assert snapshots.save() is False  # unchanged: not rewritten
    assert [p.name for p in tmp_path.iterdir()] == ["config-table.json"]  # no temporary file left
    saved = json.loads(path.read_text())
    assert saved["tables"]["ConfigTable"]["name"] == name
    assert {"S": "site"} in [item["pk"] for item in saved["tables"]["ConfigTable"]["items"]]

    moto.reset()
    tables = resources.create_tables(dynamodb)
    assert restore_tables(dynamodb, tables, path) == 2
    items = dump_tables(dynamodb, tables)["tables"]["ConfigTable"]["items"]
    assert items == saved["tables"]["ConfigTable"]["items"]
    blob = dynamodb.get_item(TableName=name, Key={"pk": {"S": "site"}, "sk": {"S": "b"}})["Item"]["blob"]["B"]
    assert blob == b"\x00\xff"


def test_restore_without_snapshot_and_with_a_table_the_template_dropped(
    moto: MotoServer, dynamodb: Any, fixture_template: Path, tmp_path: Path
) -> None:
    tables = _resources(moto, fixture_template).create_tables(dynamodb)
    path = tmp_path / "config-table.json"
    assert restore_tables(dynamodb, tables, path) == 0
    path.write_text(json.dumps({"format": "touchline-devstack/1", "tables": {"OldTable": {"items": [{}]}}}))
    assert restore_tables(dynamodb, tables, path) == 0
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not a readable snapshot"):
        restore_tables(dynamodb, tables, path)


def test_undelivered_messages_are_saved_and_resent(
    moto: MotoServer, sqs: Any, fixture_template: Path, tmp_path: Path
) -> None:
    resources = _resources(moto, fixture_template)
    queues = resources.create_queues(sqs)
    work = resources.queue("WorkQueue")
    sqs.send_message(QueueUrl=work.url, MessageBody="one")
    sqs.send_message(
        QueueUrl=work.url,
        MessageBody="two",
        MessageAttributes={"kind": {"DataType": "Binary", "BinaryValue": b"\x01"}},
    )
    path = tmp_path / "queues.json"
    assert save_messages(path, {"WorkQueue": take_messages(sqs, work.url)}) == 2
    moto.reset()
    queues = resources.create_queues(sqs)
    assert restore_messages(sqs, queues, path) == 2
    assert not path.exists()
    got = sqs.receive_message(QueueUrl=work.url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])[
        "Messages"
    ]
    assert sorted(m["Body"] for m in got) == ["one", "two"]
    two = next(m for m in got if m["Body"] == "two")
    assert two["MessageAttributes"]["kind"]["BinaryValue"] == b"\x01"
    assert save_messages(path, {"WorkQueue": []}) == 0 and not path.exists()


def test_second_locker_gets_a_clear_error(tmp_path: Path) -> None:
    data_dir = tmp_path / ".touchline"
    with DataDirLock(data_dir, role="dev"):
        assert is_locked(data_dir)
        with pytest.raises(DataDirLockedError) as caught:
            DataDirLock(data_dir, role="command").acquire(wait=0.1)
        assert (
            str(caught.value) == f"data dir {data_dir} is in use by another touchline dev (pid {os.getpid()})"
        )
    assert not is_locked(data_dir)
    DataDirLock(data_dir).acquire()  # free again (released when the holder's file closes)


def test_lock_held_by_another_process_names_its_pid(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from pathlib import Path; from touchline_dev.devstack.lock import DataDirLock;"
            f"lock = DataDirLock(Path({str(tmp_path)!r})); lock.acquire();"
            "print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(
            DataDirLockedError, match=rf"in use by another touchline dev \(pid {holder.pid}\)"
        ):
            DataDirLock(tmp_path).acquire(wait=0.1)
    finally:
        holder.kill()
        holder.wait()
    DataDirLock(tmp_path).acquire()  # the kernel released the dead holder's lock


def test_running_stack_ignores_stale_stack_files(tmp_path: Path) -> None:
    info = StackInfo(
        pid=os.getpid(),
        http_url="http://127.0.0.1:1",
        moto_endpoint="http://127.0.0.1:2",
        region="r",
        data_dir="d",
    )
    assert running_stack(tmp_path) is None
    (tmp_path / STACK_FILE).write_text(info.to_json())
    assert running_stack(tmp_path) is None  # nobody holds the lock: a crashed stack's file
    with DataDirLock(tmp_path, role="dev"):
        assert running_stack(tmp_path) == info
        dead = StackInfo(**{**info.__dict__, "pid": 2**22 + 12345})
        (tmp_path / STACK_FILE).write_text(dead.to_json())
        assert running_stack(tmp_path) is None


def test_clickhouse_url_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert clickhouse_url(Path(".touchline")) == f"chdb://{tmp_path.resolve()}/.touchline/clickhouse"


def test_local_aws_without_a_stack_persists_to_the_snapshot(
    moto_server: MotoServer, fixture_template: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    with local_aws(data_dir, fixture_template) as aws:
        table = aws.table_name()
        assert table == "touchline-ConfigTable"
        aws.client("dynamodb").put_item(TableName=table, Item={"pk": {"S": "site"}, "sk": {"S": "x.com"}})
        with pytest.raises(DataDirLockedError, match="touchline command"):
            DataDirLock(data_dir).acquire(wait=0.1)
        aws.client("sqs").send_message(QueueUrl=aws.queue_url("WorkQueue"), MessageBody="for later")
        with pytest.raises(KeyError, match="no table Nope"):
            aws.table_name("Nope")
    assert not is_locked(data_dir)
    saved = json.loads((data_dir / "config-table.json").read_text())
    assert saved["tables"]["ConfigTable"]["items"] == [{"pk": {"S": "site"}, "sk": {"S": "x.com"}}]
    queued = json.loads((data_dir / "queues.json").read_text())
    assert queued["queues"]["WorkQueue"] == [{"body": "for later"}]
    with local_aws(data_dir, fixture_template) as aws:  # loaded back
        items = aws.client("dynamodb").scan(TableName=aws.table_name())["Items"]
        assert items == [{"pk": {"S": "site"}, "sk": {"S": "x.com"}}]
