"""Identity resolution on the embedded ClickHouse, checked against a plain union-find of the rules."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from clickhouse_connect.driver.client import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from touchline.identity.resolve import person_id, resolve
from touchline.identity.rows import IdentityLinkRow
from touchline.warehouse.client import connect
from touchline.warehouse.sql import ClientSql

AT = datetime(2026, 11, 1, tzinfo=UTC)
Identifier = tuple[str, str]
NAMESPACE = ("visitor", "anonymous", "user")
RANK = {"user": 0, "email_sha256": 1, "visitor": 3, "anonymous": 3}


def insert_links(
    client: Client, site: str, pairs: list[tuple[Identifier, Identifier]], deleted: int = 0
) -> None:
    rows = []
    for a, b in pairs:
        row = IdentityLinkRow.between(site, a, b, "test", AT)
        rows.append(
            row.model_copy(update={"is_deleted": deleted, "version": row.version + deleted}).to_json()
        )
    client.raw_insert("identity_links", insert_block="\n".join(rows).encode(), fmt="JSONEachRow")


def mapping(client: Client, site: str) -> dict[Identifier, str]:
    result = client.query(
        "SELECT id_type, id_value, person_id FROM identity_map FINAL"
        " WHERE site_id = %(s)s AND is_deleted = 0",
        parameters={"s": site},
    )
    return {(t, v): p for t, v, p in result.result_rows}


def weak(identifier: Identifier) -> bool:
    return identifier[0] == "visitor" and identifier[1].isdigit()


def node(identifier: Identifier) -> Identifier:
    return ("id", identifier[1]) if identifier[0] in NAMESPACE else identifier


def expected(pairs: list[tuple[Identifier, Identifier]]) -> dict[Identifier, str]:
    """The documented rules, restated as a union-find (docs/identity.md)."""
    parent: dict[Identifier, Identifier] = {}

    def find(x: Identifier) -> Identifier:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    identifiers = {i for pair in pairs for i in pair}
    for i in identifiers:
        if not weak(i):
            find(node(i))
    for a, b in pairs:
        if not weak(a) and not weak(b):
            parent[find(node(a))] = find(node(b))
    best: dict[Identifier, tuple[int, str]] = {}
    for i in identifiers:
        if weak(i):
            continue
        prefix = "user" if i[0] == "user" else "visitor" if i[0] in NAMESPACE else i[0]
        label = (RANK.get(i[0], 2), f"{prefix}:{i[1]}")
        root = find(node(i))
        best[root] = min(best.get(root, label), label)
    result: dict[Identifier, str] = {}
    for i in identifiers:
        if not weak(i):
            result[i] = best[find(node(i))][1]
            if i[0] in NAMESPACE:
                result[("visitor", i[1])] = result[i]
    # A cookieless id gets a person only if no strong id claims its value and its links agree.
    for i in identifiers:
        if weak(i) and i not in result:
            persons = {
                best[find(node(o))][1] for a, b in pairs for o in (a, b) if i in (a, b) and not weak(o)
            }
            if len(persons) == 1:
                result[i] = persons.pop()
    return result


def test_devices_joined_by_identify_and_alias_are_one_person(warehouse_url: str) -> None:
    client = connect(warehouse_url)
    insert_links(
        client,
        "s1",
        [
            (("anonymous", "phone"), ("user", "u1")),
            (("anonymous", "laptop"), ("user", "u1")),
            (("user", "u1"), ("email_sha256", "h1")),
            (("visitor", "tag-id-1234567890"), ("email_sha256", "h1")),
            (("anonymous", "other"), ("user", "u2")),
        ],
    )
    result = resolve(ClientSql(client), "s1")
    found = mapping(client, "s1")
    assert {found[("visitor", v)] for v in ("phone", "laptop", "u1", "tag-id-1234567890")} == {"user:u1"}
    assert found[("email_sha256", "h1")] == "user:u1"
    assert found[("visitor", "other")] == "user:u2"
    assert result.persons == 2 and result.changed == len(found)


def test_a_shared_cookieless_hash_never_merges_two_people(warehouse_url: str) -> None:
    client = connect(warehouse_url)
    shared, own = "13845129384756112233", "99887766554433221100"
    insert_links(
        client,
        "s1",
        [
            (("visitor", shared), ("user", "alice")),
            (("visitor", shared), ("user", "bob")),
            (("visitor", own), ("user", "alice")),
        ],
    )
    resolve(ClientSql(client), "s1")
    found = mapping(client, "s1")
    assert found[("user", "alice")] == "user:alice" and found[("user", "bob")] == "user:bob"
    assert ("visitor", shared) not in found  # ambiguous: stays its own person
    assert found[("visitor", own)] == "user:alice"


def test_rerun_writes_nothing_and_unlinking_writes_tombstones(warehouse_url: str) -> None:
    client = connect(warehouse_url)
    sql = ClientSql(client)
    link = (("anonymous", "a1"), ("user", "u1"))
    insert_links(client, "s1", [link, (("anonymous", "a2"), ("user", "u2"))])
    first = resolve(sql, "s1")
    assert first.changed > 0 and first.removed == 0
    again = resolve(sql, "s1")
    assert (again.changed, again.removed) == (0, 0)
    assert client.command("SELECT count() FROM identity_map") == first.changed

    insert_links(client, "s1", [link], deleted=1)
    after = resolve(sql, "s1")
    found = mapping(client, "s1")
    assert ("anonymous", "a1") not in found and ("user", "u1") not in found
    assert found[("user", "u2")] == "user:u2"
    assert after.removed == 4  # anonymous a1, user u1, and both as visitor ids


def test_merging_components_moves_the_anonymous_one_to_the_user(warehouse_url: str) -> None:
    client = connect(warehouse_url)
    sql = ClientSql(client)
    insert_links(client, "s1", [(("anonymous", "a1"), ("anonymous", "a2"))])
    resolve(sql, "s1")
    assert mapping(client, "s1")[("visitor", "a2")] == "visitor:a1"
    insert_links(client, "s1", [(("anonymous", "a2"), ("user", "zed"))])
    resolve(sql, "s1")
    assert set(mapping(client, "s1").values()) == {"user:zed"}


def test_sites_are_resolved_apart(warehouse_url: str) -> None:
    client = connect(warehouse_url)
    insert_links(client, "s1", [(("anonymous", "a"), ("user", "u"))])
    insert_links(client, "s2", [(("anonymous", "a"), ("user", "v"))])
    resolve(ClientSql(client), None)
    assert mapping(client, "s1")[("visitor", "a")] == "user:u"
    assert mapping(client, "s2")[("visitor", "a")] == "user:v"


def test_long_alias_chain_converges(warehouse_url: str) -> None:
    client = connect(warehouse_url)
    chain = [(("anonymous", f"a{i:03d}"), ("anonymous", f"a{i + 1:03d}")) for i in range(40)]
    insert_links(client, "s1", [*chain, (("anonymous", "a040"), ("user", "end"))])
    result = resolve(ClientSql(client), "s1")
    assert set(mapping(client, "s1").values()) == {"user:end"}
    assert result.rounds > 30


_types = st.sampled_from(["visitor", "anonymous", "user", "email_sha256", "stripe_customer"])
_values = st.sampled_from(["1", "2", "3", "x", "y", "123456789012345", "98765432109876"])
_identifier = st.tuples(_types, _values)
_counter = itertools.count()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(_identifier, _identifier).filter(lambda p: p[0] != p[1]), max_size=12))
def test_resolution_matches_the_rules(warehouse_url: str, pairs: list[tuple[Identifier, Identifier]]) -> None:
    client = connect(warehouse_url)
    site = f"h{next(_counter)}"
    if pairs:
        insert_links(client, site, pairs)
    resolve(ClientSql(client), site)
    assert mapping(client, site) == expected(pairs)


@pytest.mark.parametrize(
    ("id_type", "value", "person"),
    [
        ("user", "42", "user:42"),
        ("anonymous", "a", "visitor:a"),
        ("stripe_customer", "c", "stripe_customer:c"),
    ],
)
def test_person_id_helper_matches_sql(id_type: str, value: str, person: str) -> None:
    assert person_id(id_type, value) == person
