"""The fuzz suite's stack: every template route in process, a site with every credential."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from accounts_world import FAST_HASHER
from fuzz.inputs import World
from fuzz.stack import FuzzStack, session_token
from helpers import fresh_warehouse, moto_stack
from touchline.accounts import wiring as accounts_wiring
from touchline.accounts.orgs import Member, OrgStore
from touchline.accounts.permissions import Role
from touchline.auth.api_keys import ApiKeyStore
from touchline.aws import clients
from touchline.aws.sqs import SqsEventQueue
from touchline.config.integrations import IntegrationStore
from touchline.config.sites import SiteStore
from touchline.config.tokens import TokenStore
from touchline.config.write_keys import WriteKeyStore
from touchline.ingest import service as ingest_service
from touchline.ingest.queue import ListQueue
from touchline.load import service as load_service
from touchline.query import service as query_service
from touchline.revenue import service as revenue_service
from touchline.tracking import service as tracking_service

TABLE = "touchline-ConfigTable"
STRIPE_SECRET = "whsec_fuzz_0123456789abcdef"
SHOPIFY_SECRET = "shpss_fuzz_0123456789abcdef"


def _reset_wiring() -> None:
    """Each function's adapters are built once per container (`functools.cache`): rebuild them
    against this test's moto and warehouse."""
    for cached in (
        ingest_service.collector,
        ingest_service.trust_rule,
        tracking_service.tracking_api,
        revenue_service.intake,
        revenue_service.deduper,
        query_service.api,
        clients.secretsmanager,
        clients.cognito,
    ):
        cached.cache_clear()
    load_service.reset()
    accounts_wiring.reset()


@pytest.fixture(scope="package")
def fuzz_stack(
    chdb_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FuzzStack, World]]:
    """One stack for the whole fuzz package (its setup costs seconds, a request milliseconds)."""
    with pytest.MonkeyPatch.context() as monkeypatch, moto_stack(monkeypatch, user_pools=True):
        fresh_warehouse(chdb_path, monkeypatch)
        # Caches as deployed: the fuzz sends thousands of requests for one site and key.
        monkeypatch.setenv("TOUCHLINE_SITE_CACHE_SECONDS", "60")
        monkeypatch.setenv("TOUCHLINE_KEY_CACHE_SECONDS", "60")
        _reset_wiring()
        queue = ListQueue()
        # SQS itself is tested elsewhere (tests/unit/test_event_queue.py, the e2e suite): here
        # it would only cost a moto round trip per request, so the queue is kept in memory.
        monkeypatch.setattr(SqsEventQueue, "send", lambda self, bodies: queue.send(bodies))
        stack, world = _world(queue)
        # Shared links fuzzed with passwords: a cheap Argon2id (the real profile is tested alone).
        monkeypatch.setattr(accounts_wiring.accounts().links, "_hasher", lambda: FAST_HASHER)
        _serve_a_built_dashboard(stack, tmp_path_factory.mktemp("dashboard"))
        yield stack, world
        _reset_wiring()


def _world(queue: ListQueue) -> tuple[FuzzStack, World]:
    dynamodb = boto3.client("dynamodb")
    site = SiteStore(dynamodb, TABLE).add("fuzz.example.com")
    secrets = boto3.client("secretsmanager")
    IntegrationStore(dynamodb, TABLE).add(site.site_id, "stripe", STRIPE_SECRET, secrets)
    IntegrationStore(dynamodb, TABLE).add(site.site_id, "shopify", SHOPIFY_SECRET, secrets)
    write_key, _ = WriteKeyStore(dynamodb, TABLE).create(site.site_id, site.domain)
    token, _ = TokenStore(dynamodb, TABLE).create(site.site_id, "fuzz")
    query_key, _ = ApiKeyStore(dynamodb, TABLE).create([site.site_id], ["stats:read"], rate_limit=1_000_000)
    # The people routes: an owner signed in (a token the fuzz stack's authorizer accepts), of an
    # organisation with its own site, so hostile deletes and renames cannot touch the site the
    # other routes' good requests write to.
    orgs = OrgStore(dynamodb, TABLE)
    org = orgs.create("Fuzz org")
    owner = "fuzz-owner-0001"
    orgs.save_user(owner, "owner@fuzz.example.com")
    orgs.put_member(
        Member(org.org_id, owner, "owner@fuzz.example.com", Role.OWNER, None, "2026-11-01T00:00:00+00:00"),
        new=True,
    )
    owned = SiteStore(dynamodb, TABLE).add("owned.fuzz.example.com", org_id=org.org_id)
    spare = SiteStore(dynamodb, TABLE).add("spare.fuzz.example.com", org_id=org.org_id)
    world = World(
        site_id=site.site_id,
        domain=site.domain,
        write_key=write_key,
        payments_token=token,
        query_key=query_key,
        stripe_secret=STRIPE_SECRET,
        shopify_secret=SHOPIFY_SECRET,
        run=uuid.uuid4().hex[:8],
        session=session_token(owner, "owner@fuzz.example.com"),
        org_id=org.org_id,
        owned_site_id=owned.site_id,
        spare_site_id=spare.site_id,
    )
    return FuzzStack.start(queue), world


def _serve_a_built_dashboard(stack: FuzzStack, static: Path) -> None:
    """`sam build` puts the Vite build beside the dashboard handler; the tests do not build it
    (tests/e2e does), so the fuzzed dashboard serves a stand-in build of the same shape."""
    module = stack.modules.get("DashboardFunction")
    if module is None:
        return
    (static / "assets").mkdir()
    (static / "index.html").write_text('<!doctype html><script src="/assets/app-3f2a9c1d.js"></script>')
    (static / "assets" / "app-3f2a9c1d.js").write_text("console.log('touchline');")
    module.STATIC = static
