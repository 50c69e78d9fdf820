"""Objects and relationships end to end in process: tracking API → loader → `objects`,
`relationships`, `object_events` → query API, with revenue by account from the aggregation.

Fed with Segment's published `group` example (tests/payloads/specs) and Customer.io's
`objectTypeId` / `relationshipAttributes` traits; every envelope is delivered three times.
"""

from __future__ import annotations

import json
from typing import Any

from tracking_pipeline import SPECS, Pipeline

from touchline.aggregate.run import Aggregator
from touchline.config.attribution_settings import AttributionSettings
from touchline.config.watermarks import MemoryWatermarks
from touchline.identity.gdpr import export, find_subject
from touchline.identity.resolve import resolve
from touchline.warehouse.sql import ClientSql


def table(pipeline: Pipeline, name: str, order: str) -> list[dict[str, Any]]:
    result = pipeline.client.query(
        f"SELECT * FROM {name} FINAL WHERE site_id = {{site:String}} ORDER BY {order}",
        parameters={"site": pipeline.site},
    )
    return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]


def call(kind: str, user: str, message_id: str, minute: int, **fields: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "userId": user,
        "messageId": message_id,
        "timestamp": f"2026-11-20T11:{minute:02d}:00Z",
        **fields,
    }


def test_segment_group_example_is_an_object_and_a_relationship(pipeline: Pipeline) -> None:
    example = json.loads((SPECS / "segment-group.json").read_text())
    assert pipeline.send([example])["accepted"] == 1
    pipeline.deliver()
    [obj] = table(pipeline, "objects", "object_id")
    assert (obj["object_type"], obj["object_id"], obj["name"], obj["deleted"]) == (
        "1",
        "0e8c78ea9d97a7b8185e8632",
        "Initech",
        0,
    )
    assert obj["traits"] == {
        "name": "Initech",
        "industry": "Technology",
        "employees": "329",
        "plan": "enterprise",
        "total billed": "830",
    }
    [rel] = table(pipeline, "relationships", "member_id")
    assert {k: rel[k] for k in ("member_id", "member_kind", "person_id", "user_id", "anonymous_id")} == {
        "member_id": "97980cfea0067",
        "member_kind": "user",
        "person_id": "user:97980cfea0067",
        "user_id": "97980cfea0067",
        "anonymous_id": "507f191e810c19729de860ea",
    }
    history = table(pipeline, "object_events", "at, action")
    assert [(h["action"], h["message_id"]) for h in history] == [
        ("object_updated", "022bb90c-bbac-11e4-8dfc-aa07a5b093db"),
        ("related", "022bb90c-bbac-11e4-8dfc-aa07a5b093db"),
    ]
    # Bookkeeping: a group call is no visitor, event or pageview.
    assert pipeline.query(metrics=["visitors", "events", "objects", "related_people"]) == [
        {"metrics": [0, 0, 1, 1], "dimensions": []}
    ]


def test_customerio_types_relationship_attributes_and_deletions(pipeline: Pipeline) -> None:
    traits = {"objectTypeId": "2", "name": "Acme", "plan": "pro", "relationshipAttributes": {"role": "admin"}}
    pipeline.send([call("group", "u1", "g1", 1, groupId="acme", traits=traits)])
    pipeline.deliver()
    [obj] = table(pipeline, "objects", "object_id")
    assert (obj["object_type"], obj["traits"]) == ("2", {"name": "Acme", "plan": "pro"})
    [rel] = table(pipeline, "relationships", "member_id")
    assert (rel["object_type"], rel["attributes"], rel["deleted"]) == ("2", {"role": "admin"}, 0)
    by_type = pipeline.query(metrics=["objects", "related_people"], dimensions=["object:type", "object:name"])
    assert by_type == [{"metrics": [1, 1], "dimensions": ["2", "Acme"]}]

    unrelate = {"objectId": "acme", "objectTypeId": "2"}
    pipeline.send([call("track", "u1", "d1", 2, event="Relationship Deleted", properties=unrelate)])
    pipeline.deliver()
    [rel] = table(pipeline, "relationships", "member_id")
    assert rel["deleted"] == 1
    assert pipeline.query(metrics=["objects", "related_people"]) == [{"metrics": [1, 0], "dimensions": []}]

    pipeline.send([call("track", "u1", "d2", 3, event="Object Deleted", properties=unrelate)])
    pipeline.deliver()
    assert pipeline.query(metrics=["objects", "deleted_objects", "events"]) == [
        {"metrics": [0, 1, 0], "dimensions": []}
    ]
    history = table(pipeline, "object_events", "at, action")
    assert [h["action"] for h in history] == ["object_updated", "related", "unrelated", "object_deleted"]
    # The person's export holds their relationship history; the object itself is not theirs.
    sql = ClientSql(pipeline.client)
    exported = export(sql, find_subject(sql, pipeline.site, user_id="u1"))["tables"]
    assert [r["deleted"] for r in exported["relationships"]] == [1]
    assert [r["action"] for r in exported["object_events"]] == ["related", "unrelated"]
    assert "objects" not in exported


def test_revenue_and_conversions_by_account(pipeline: Pipeline) -> None:
    members = [
        ("u1", "acme", "Acme"),
        ("u2", "acme", "Acme"),
        ("u2", "globex", "Globex"),
        ("u3", "globex", "Globex"),
    ]
    calls = [
        call("group", user, f"g-{user}-{group}", 1, groupId=group, traits={"name": name})
        for user, group, name in members
    ]
    for minute, (user, amount) in enumerate((("u1", 100), ("u2", 50), ("u3", 30), ("u4", 20)), start=10):
        page = {"url": f"https://{pipeline.site}.test/?utm_source=news&utm_medium=email"}
        calls.append(call("page", user, f"p-{user}", minute, context={"page": page}))
        order = {"order_id": f"o-{user}", "total": amount, "currency": "EUR"}
        calls.append(call("track", user, f"o-{user}", minute + 5, event="Order Completed", properties=order))
    assert pipeline.send(calls)["accepted"] == len(calls)
    pipeline.deliver()
    sql = ClientSql(pipeline.client)
    resolve(sql, pipeline.site)
    Aggregator(sql, MemoryWatermarks()).run(pipeline.site, AttributionSettings(), full=True)

    by_account = pipeline.query(
        metrics=["attributed_revenue:last_touch", "attributed_conversions:last_touch"],
        dimensions=["object:name"],
        order_by=[["object:name", "asc"]],
    )
    assert [(r["dimensions"][0], r["metrics"][0]["amount"], r["metrics"][1]) for r in by_account] == [
        ("Acme", "150.00", 2.0),  # u1 + u2
        ("Globex", "80.00", 2.0),  # u2 again + u3: an account's revenue is its people's
    ]
    site_total = pipeline.query(metrics=["attributed_revenue:last_touch"])
    assert site_total[0]["metrics"][0]["amount"] == "200.00"  # u4 belongs to no account
    acme = pipeline.query(
        metrics=["attributed_conversions:last_touch", "related_people"],
        filters=[["is", "object:name", ["Acme"]]],
    )
    assert acme == [{"metrics": [2.0, 2], "dimensions": []}]
