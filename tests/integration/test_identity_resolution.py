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


def _label(i: Identifier) -> str:
    prefix = "user" if i[0] == "user" else "visitor" if i[0] in NAMESPACE else i[0]
    return f"{RANK.get(i[0], 2)}|{prefix}:{i[1]}"


def expected(pairs: list[tuple[Identifier, Identifier]]) -> dict[Identifier, str]:
    """The documented rules (docs/identity.md), restated with Python sets: tier by tier (user
    ids, email hashes, customer ids) each unassigned node collects the seeds it can reach
    (anchors hear only anchors; devices hear anything); one seed is its person, two or more make
    it shared (its own person); devices no tier reaches form components as before."""
    identifiers = {i for pair in pairs for i in pair}
    label: dict[Identifier, str] = {}
    for i in identifiers:
        if not weak(i):
            label[node(i)] = min(label.get(node(i), _label(i)), _label(i))
    edges = {
        (node(a), node(b))
        for x, y in pairs
        for a, b in ((x, y), (y, x))
        if not weak(a) and not weak(b) and node(a) != node(b)
    }
    hears = {(a, b) for a, b in edges if not (label[a][0] != "3" and label[b][0] == "3")}
    person: dict[Identifier, str] = {}
    for tier in "012":
        open_nodes = set(label) - set(person)
        reach = {n: ({label[n]} if label[n][0] == tier else set()) for n in open_nodes}
        changed = True
        while changed:
            changed = False
            for a, b in hears:
                if a in reach and b in reach and label[a][0] != tier and not reach[b] <= reach[a]:
                    reach[a] |= reach[b]
                    changed = True
        for n, seeds in reach.items():
            if seeds:
                person[n] = min(seeds) if len(seeds) == 1 else label[n]
    rest = set(label) - set(person)
    best = {n: label[n] for n in rest}
    changed = True
    while changed:
        changed = False
        for a, b in edges:
            if a in rest and b in rest and best[b] < best[a]:
                best[a] = best[b]
                changed = True
    person.update(best)
    result: dict[Identifier, str] = {}
    for i in identifiers:
        if not weak(i):
            result[i] = person[node(i)][2:]
            if i[0] in NAMESPACE:
                result[("visitor", i[1])] = result[i]
    # A cookieless id gets a person only if no strong id claims its value and its links agree.
    for i in identifiers:
        if weak(i) and i not in result:
            persons = {person[node(o)][2:] for a, b in pairs for o in (a, b) if i in (a, b) and not weak(o)}
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


def test_two_signed_in_users_of_one_browser_stay_two_people(warehouse_url: str) -> None:
    """Issue 13: /v1/identify for alice and bob and the tag's identify from the same visitor id
    with each user id: the browser is shared, alice and bob (and their emails, bob's order's
    customer) never one person."""
    client = connect(warehouse_url)
    browser = "tagvisitor0000001"
    insert_links(
        client,
        "s1",
        [
            (("anonymous", browser), ("user", "alice")),
            (("anonymous", browser), ("user", "bob")),
            (("visitor", browser), ("user", "alice")),
            (("visitor", browser), ("user", "bob")),
            (("user", "alice"), ("email_sha256", "a" * 64)),
            (("user", "bob"), ("email_sha256", "b" * 64)),
            (("visitor", browser), ("stripe_customer", "cus_bob")),
            (("stripe_customer", "cus_bob"), ("email_sha256", "b" * 64)),
        ],
    )
    resolve(ClientSql(client), "s1")
    found = mapping(client, "s1")
    assert found[("email_sha256", "a" * 64)] == "user:alice"
    assert found[("email_sha256", "b" * 64)] == found[("stripe_customer", "cus_bob")] == "user:bob"
    assert found[("visitor", browser)] == f"visitor:{browser}"  # shared: nobody's
    persons: dict[str, set[Identifier]] = {}
    for identifier, person in found.items():
        persons.setdefault(person, set()).add(identifier)
    for members in persons.values():
        assert len({v for t, v in members if t == "user"}) <= 1
        assert len({v for t, v in members if t == "email_sha256"}) <= 1


def test_household_laptop_keeps_the_guest_buyer_apart(warehouse_url: str) -> None:
    """Alice is signed in on the family laptop; her partner checks out as a guest with his own
    email on the same browser. The laptop is alice's (the one user it knows); his email and
    customer stay a person of their own, never one of alice's identifiers."""
    client = connect(warehouse_url)
    insert_links(
        client,
        "s1",
        [
            (("visitor", "laptop00000000001"), ("user", "alice")),
            (("user", "alice"), ("email_sha256", "a" * 64)),
            (("visitor", "laptop00000000001"), ("email_sha256", "c" * 64)),
            (("visitor", "laptop00000000001"), ("stripe_customer", "cus_partner")),
            (("stripe_customer", "cus_partner"), ("email_sha256", "c" * 64)),
        ],
    )
    resolve(ClientSql(client), "s1")
    found = mapping(client, "s1")
    assert found[("visitor", "laptop00000000001")] == "user:alice"
    assert found[("email_sha256", "c" * 64)] == f"email_sha256:{'c' * 64}"
    assert found[("stripe_customer", "cus_partner")] == f"email_sha256:{'c' * 64}"


def test_an_agency_kiosk_merges_none_of_its_visitors(warehouse_url: str) -> None:
    """One kiosk browser: three staff sign in, and two walk-in customers buy as guests. Nobody
    is merged; the kiosk is its own person."""
    client = connect(warehouse_url)
    kiosk = ("visitor", "kiosk000000000001")
    pairs = [(kiosk, ("user", f"staff{i}")) for i in range(3)]
    pairs += [(kiosk, ("email_sha256", f"{i:064x}")) for i in range(2)]
    pairs += [(kiosk, ("anonymous", "kiosk-sdk-anon"))]
    insert_links(client, "s1", pairs)
    resolve(ClientSql(client), "s1")
    found = mapping(client, "s1")
    assert {found[("user", f"staff{i}")] for i in range(3)} == {f"user:staff{i}" for i in range(3)}
    assert found[("email_sha256", f"{1:064x}")] == f"email_sha256:{1:064x}"
    assert found[kiosk] == f"visitor:{kiosk[1]}"
    assert found[("visitor", "kiosk-sdk-anon")] != "user:staff0"  # shared through the kiosk too


def test_guest_orders_on_one_device_with_two_emails_are_two_people(warehouse_url: str) -> None:
    client = connect(warehouse_url)
    device = ("visitor", "shop-floor-tablet1")
    insert_links(client, "s1", [(device, ("email_sha256", "d" * 64)), (device, ("email_sha256", "e" * 64))])
    resolve(ClientSql(client), "s1")
    found = mapping(client, "s1")
    assert found[("email_sha256", "d" * 64)] != found[("email_sha256", "e" * 64)]
    assert found[device] == f"visitor:{device[1]}"


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
