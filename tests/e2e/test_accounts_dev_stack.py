"""Accounts through `touchline dev` as a person meets them: invited by the CLI, signing in through
moto's Cognito from a script (boto3 InitiateAuth, NEW_PASSWORD_REQUIRED) and from a real browser
(Chromium calling Cognito's API and the management API across origins), seeing only their
organisation's sites, refused what their role lacks, and the gateway's JWT authorizer refusing
tampered and wrong-audience tokens; then the audit log and a shared link from the CLI."""

from __future__ import annotations

import base64
import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from people_tools import cognito_sign_in, temporary_password
from tag_tools import ROOT, TOUCHLINE, PageServer, Stack, _env, cli, ensure_chromium, running_stack

pytestmark = pytest.mark.e2e
LEGACY = "legacy.example.com"
NEW_PASSWORD = "Chosen-passw0rd-42"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("accounts-stack"), LEGACY) as running:
        yield running


def base(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.port}"


def api(
    stack: Stack, method: str, path: str, token: str | None = None, body: Any = None
) -> tuple[int, Any, Any]:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base(stack) + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None, response.headers
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None, error.headers


def sign_in(stack: Stack, email: str, password: str) -> dict[str, Any]:
    """What a script does: the auth config, then Cognito's own API, unsigned (a public client)."""
    return cognito_sign_in(base(stack), email, password, NEW_PASSWORD)


@pytest.fixture(scope="module")
def acme(stack: Stack) -> dict[str, Any]:
    """Acme (owner Ada, who signs in) owning the legacy site and one more; Other owns a third."""
    created = cli("orgs", "create", "Acme", "--owner", "ada@example.com", data_dir=stack.data_dir)
    assert created.returncode == 0, created.stderr
    org_id = created.stdout.strip()
    moved = cli("sites", "move", LEGACY, "--org", "Acme", data_dir=stack.data_dir)
    assert moved.returncode == 0, moved.stderr
    added = cli("sites", "add", "shop.acme.example", "--org", org_id, data_dir=stack.data_dir)
    assert added.returncode == 0, added.stderr
    other = cli("orgs", "create", "Other", "--owner", "zed@example.com", data_dir=stack.data_dir)
    foreign = cli("sites", "add", "other.example.com", "--org", "Other", data_dir=stack.data_dir)
    assert other.returncode == 0 and foreign.returncode == 0, other.stderr + foreign.stderr
    tokens = sign_in(stack, "ada@example.com", temporary_password(created.stderr))
    return {
        "org_id": org_id,
        "sites": {stack.site_id, added.stdout.strip()},
        "foreign_site": foreign.stdout.strip(),
        "token": tokens["AccessToken"],
        "id_token": tokens["IdToken"],
    }


def test_an_invited_owner_signs_in_from_a_script_and_sees_only_their_sites(
    stack: Stack, acme: dict[str, Any]
) -> None:
    status, me, _ = api(stack, "GET", "/api/v1/me", acme["token"])
    assert status == 200 and me["email"] == "ada@example.com"
    assert [(o["org_id"], o["role"]) for o in me["organisations"]] == [(acme["org_id"], "owner")]
    status, sites, _ = api(stack, "GET", "/api/v1/sites", acme["id_token"])  # an ID token works too
    assert status == 200 and {s["site_id"] for s in sites} == acme["sites"]
    assert api(stack, "GET", f"/api/v1/sites/{acme['foreign_site']}", acme["token"])[0] == 404
    # The signed-in password is the new one: the temporary one no longer works.
    assert sign_in(stack, "ada@example.com", NEW_PASSWORD)["AccessToken"]


def test_a_viewer_is_refused_what_their_role_lacks(stack: Stack, acme: dict[str, Any]) -> None:
    status, invited, _ = api(
        stack,
        "POST",
        f"/api/v1/orgs/{acme['org_id']}/members",
        acme["token"],
        {"email": "val@example.com", "role": "viewer"},
    )
    assert status == 201 and invited["temporary_password"], invited
    viewer = sign_in(stack, "val@example.com", invited["temporary_password"])["AccessToken"]
    assert {s["site_id"] for s in api(stack, "GET", "/api/v1/sites", viewer)[1]} == acme["sites"]
    status, refused, _ = api(
        stack, "POST", "/api/v1/sites", viewer, {"org_id": acme["org_id"], "domain": "nope.example.com"}
    )
    assert status == 403 and refused["error"]["code"] == "forbidden"
    assert api(stack, "GET", f"/api/v1/orgs/{acme['org_id']}/members", viewer)[0] == 403


def test_the_gateway_refuses_tokens_api_gateway_would(stack: Stack, acme: dict[str, Any]) -> None:
    assert api(stack, "GET", "/api/v1/me")[0] == 401
    header, payload, signature = acme["token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = (
        base64.urlsafe_b64encode(json.dumps(claims | {"sub": "someone-else"}).encode()).decode().rstrip("=")
    )
    status, body, headers = api(stack, "GET", "/api/v1/me", f"{header}.{forged}.{signature}")
    assert (status, body) == (401, {"message": "Unauthorized"})
    assert "signature" in headers["www-authenticate"]
    # A token of another app client of the same pool: the wrong audience.
    info = json.loads((stack.data_dir / "stack.json").read_text())
    cognito = boto3.client(
        "cognito-idp",
        region_name="us-east-1",
        endpoint_url=info["moto_endpoint"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    other = cognito.create_user_pool_client(
        UserPoolId=info["user_pools"]["UserPool"],
        ClientName="elsewhere",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]["ClientId"]
    token = cognito.initiate_auth(
        ClientId=other,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ada@example.com", "PASSWORD": NEW_PASSWORD},
    )["AuthenticationResult"]["AccessToken"]
    status, _, headers = api(stack, "GET", "/api/v1/me", token)
    assert status == 401 and "audience" in headers["www-authenticate"]


SIGN_IN_PAGE = """<!doctype html><meta charset="utf-8"><title>sign in</title><script>
async function cognito(endpoint, target, body) {
  const headers = {"Content-Type": "application/x-amz-json-1.1",
                   "X-Amz-Target": "AWSCognitoIdentityProviderService." + target};
  const r = await fetch(endpoint, {method: "POST", body: JSON.stringify(body), headers});
  const data = await r.json();
  if (!r.ok) throw new Error(target + ": " + JSON.stringify(data));
  return data;
}
window.signIn = async (api, email, password, newPassword) => {
  const config = await (await fetch(api + "/api/v1/auth/config")).json();
  let step = await cognito(config.cognito_endpoint, "InitiateAuth", {ClientId: config.client_id,
    AuthFlow: "USER_PASSWORD_AUTH", AuthParameters: {USERNAME: email, PASSWORD: password}});
  if (step.ChallengeName === "NEW_PASSWORD_REQUIRED") {
    step = await cognito(config.cognito_endpoint, "RespondToAuthChallenge", {ClientId: config.client_id,
      ChallengeName: "NEW_PASSWORD_REQUIRED", Session: step.Session,
      ChallengeResponses: {USERNAME: step.ChallengeParameters.USERNAME, NEW_PASSWORD: newPassword}});
  }
  const token = step.AuthenticationResult.AccessToken;
  const me = await fetch(api + "/api/v1/me", {headers: {Authorization: "Bearer " + token}});
  const sites = await fetch(api + "/api/v1/sites", {headers: {Authorization: "Bearer " + token}});
  return {me: await me.json(), sites: await sites.json(), status: sites.status};
};
</script>"""


def test_a_person_signs_in_from_the_browser_across_origins(stack: Stack, acme: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    invited = cli("members", "invite", "Acme", "bea@example.com", "--role", "editor", data_dir=stack.data_dir)
    assert invited.returncode == 0, invited.stderr
    with PageServer() as pages, sync_playwright() as playwright:
        pages.add("/signin.html", SIGN_IN_PAGE)
        browser = playwright.chromium.launch(
            executable_path=str(ensure_chromium()),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{pages.port}/signin.html")  # another origin than the API
            result = page.evaluate(
                "([api, email, password, chosen]) => window.signIn(api, email, password, chosen)",
                [base(stack), "bea@example.com", temporary_password(invited.stderr), NEW_PASSWORD],
            )
        finally:
            browser.close()
    assert result["me"]["email"] == "bea@example.com"
    assert result["me"]["organisations"][0]["role"] == "editor"
    assert result["status"] == 200 and {s["site_id"] for s in result["sites"]} == acme["sites"]


def test_the_audit_log_and_a_shared_link_from_the_cli(stack: Stack, acme: dict[str, Any]) -> None:
    made = subprocess_with_input(
        ["shared-links", "create", LEGACY, "--name", "board", "--password"], "board-password-1\n", stack
    )
    assert made.returncode == 0, made.stderr
    link = made.stdout.strip()
    status, session, _ = api(
        stack, "POST", "/api/v1/shared-links/session", body={"link": link, "password": "board-password-1"}
    )
    assert status == 201 and session["site_id"] == stack.site_id
    listed = json.loads(
        cli("shared-links", "list", LEGACY, "--format", "json", data_dir=stack.data_dir).stdout
    )
    revoked = cli("shared-links", "revoke", LEGACY, listed[0]["link_id"], data_dir=stack.data_dir)
    assert revoked.returncode == 0, revoked.stderr

    def audit() -> list[dict[str, Any]]:
        done = cli("audit", "--org", "Acme", "--format", "json", data_dir=stack.data_dir)
        assert done.returncode == 0, done.stderr
        entries: list[dict[str, Any]] = json.loads(done.stdout)
        return entries

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        actions = {e["action"] for e in audit()}
        if {"org.create", "site.move", "auth.sign_in", "member.invite", "shared_link.revoke"} <= actions:
            break
        time.sleep(0.5)
    entries = audit()
    actions = {e["action"] for e in entries}
    assert {
        "org.create",
        "site.move",
        "site.create",
        "auth.sign_in",
        "member.invite",
        "shared_link.open",
        "shared_link.revoke",
    } <= actions, actions
    assert any(e["outcome"] == "denied" and e["actor_email"] == "val@example.com" for e in entries)
    assert all(e["org_id"] == acme["org_id"] for e in entries)
    time.sleep(1.2)  # the dev stack caches for 1 s
    assert api(stack, "GET", "/api/v1/shared-links/session", session["token"])[0] == 401


def subprocess_with_input(args: list[str], text: str, stack: Stack) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TOUCHLINE), *args, "--data-dir", str(stack.data_dir)],
        cwd=ROOT,
        env=_env(),
        input=text,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# ---------------------------------------------------------------------- issue 18: annotations,
# realtime and outgoing webhooks, through the running stack as the signed-in owner.


class _Receiver:
    """A webhook endpoint on this machine (the dev stack allows loopback targets)."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.received: list[tuple[bytes, dict[str, str]]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.append(
                    (
                        self.rfile.read(int(self.headers["content-length"])),
                        {k.lower(): v for k, v in self.headers.items()},
                    )
                )
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self, secret: str) -> list[dict[str, Any]]:
        from touchline.outgoing_webhooks import signing

        out = []
        for body, headers in list(self.received):
            signing.verify(secret, body, headers.get("touchline-signature"))
            out.append(json.loads(body))
        return out


def wait_until(check: Any, seconds: float = 120) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def test_annotations_realtime_and_webhooks_through_the_local_stack(
    stack: Stack, acme: dict[str, Any]
) -> None:
    token, site = acme["token"], stack.site_id
    today = time.strftime("%Y-%m-%d", time.gmtime())
    # Annotations: written and listed by the owner, returned with a time series query.
    status, note, _ = api(
        stack,
        "POST",
        "/api/v1/annotations",
        token,
        {"site_id": site, "date": today, "content": "Launch", "tags": ["Release"]},
    )
    assert status == 201 and note["tags"] == ["release"], note
    status, series, _ = api(
        stack,
        "POST",
        "/api/v1/query",
        token,
        {
            "site_id": site,
            "metrics": ["visitors"],
            "date_range": [today, today],
            "dimensions": ["time:day"],
            "include": {"annotations": True},
        },
    )
    assert status == 200 and [a["id"] for a in series["meta"]["annotations"]] == [note["id"]], series
    # Realtime: a hit the collector accepted is counted once the loader stored it.
    request = urllib.request.Request(
        base(stack) + "/api/event",
        data=json.dumps({"name": "pageview", "url": f"https://{LEGACY}/pricing", "domain": LEGACY}).encode(),
        headers={
            "content-type": "application/json",
            "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as accepted:
        assert accepted.status == 202
    now = wait_until(
        lambda: (r := api(stack, "GET", f"/api/v1/realtime?site_id={site}", token)[1])["visitors"] and r
    )
    assert now and {"page": "/pricing", "visitors": 1} in now["pages"], now
    # Outgoing webhooks: subscribe, a test event, then a purchase through the payments API.
    receiver = _Receiver()
    try:
        status, hook, _ = api(
            stack,
            "POST",
            "/api/v1/webhooks",
            token,
            {"site_id": site, "url": receiver.url, "events": ["purchase.created", "goal.completed"]},
        )
        assert status == 201 and hook["secret"].startswith("whsec_"), hook
        secret = hook["secret"]
        assert api(stack, "POST", f"/api/v1/webhooks/{hook['id']}/test", token)[0] == 202
        assert wait_until(lambda: any(e["type"] == "webhook.test" for e in receiver.events(secret)))
        made = cli("tokens", "create", LEGACY, data_dir=stack.data_dir)
        assert made.returncode == 0, made.stderr
        payment = urllib.request.Request(
            base(stack) + "/api/v1/payments",
            data=json.dumps({"amount": "29.99", "currency": "eur", "transaction_id": "pay-e2e-1"}).encode(),
            headers={"content-type": "application/json", "authorization": f"Bearer {made.stdout.strip()}"},
            method="POST",
        )
        with urllib.request.urlopen(payment, timeout=30) as paid:
            assert paid.status in (200, 202)

        def purchase() -> dict[str, Any] | None:
            dispatched = cli("webhooks", "dispatch", data_dir=stack.data_dir)
            assert dispatched.returncode == 0, dispatched.stderr
            found = [e for e in receiver.events(secret) if e["type"] == "purchase.created"]
            return found[0] if found else None

        event = wait_until(purchase)
        assert event and event["data"]["order"]["order_id"] == "pay-e2e-1", receiver.received
        assert event["data"]["order"]["amount"] == "29.99" and event["data"]["order"]["currency"] == "EUR"
        log = wait_until(
            lambda: [
                d
                for d in api(stack, "GET", f"/api/v1/webhooks/{hook['id']}/deliveries", token)[1]
                if d["outcome"] == "delivered"
            ]
        )
        assert {d["event_type"] for d in log} >= {"webhook.test"}, log
        listed = json.loads(
            cli("webhooks", "list", LEGACY, "--format", "json", data_dir=stack.data_dir).stdout
        )
        assert listed[0]["failure_count"] == 0 and listed[0]["last_status"] == 200

        # A hit completing a goal: sent once its session is built (the aggregation run), once.
        assert api(stack, "POST", f"/api/v1/sites/{site}/goals", token, {"name": "Demo request"})[0] == 201
        hit = urllib.request.Request(
            base(stack) + "/api/event",
            data=json.dumps(
                {
                    "name": "Demo request",
                    "url": f"https://{LEGACY}/demo?utm_source=newsletter",
                    "domain": LEGACY,
                }
            ).encode(),
            headers={
                "content-type": "application/json",
                "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
            },
            method="POST",
        )
        with urllib.request.urlopen(hit, timeout=30) as accepted:
            assert accepted.status == 202

        def dev(path: str, payload: dict[str, Any]) -> Any:
            """A dev endpoint of the stack (what `touchline sql`/`aggregate run`/`webhooks
            dispatch` send, without starting a CLI process each)."""
            request = urllib.request.Request(
                base(stack) + path,
                data=json.dumps(payload).encode(),
                headers={"content-type": "application/json"},
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=300) as answer:
                return json.loads(answer.read())

        newest = "SELECT toUnixTimestamp64Milli(max(inserted_at)) FROM events WHERE name = 'Demo request'"
        stored_ms = wait_until(lambda: dev("/_dev/sql", {"query": newest})["rows"][0][0])
        # The dispatcher reads what the aggregation's run (its start minus 5 s of settling) covers.
        time.sleep(max(0.0, int(stored_ms) / 1000 + 5.5 - time.time()))

        def completed() -> list[dict[str, Any]]:
            dev("/_dev/invoke", {"function": "AggregatesFunction", "event": {"site": site}})
            dev("/_dev/invoke", {"function": "OutgoingWebhooksFunction", "event": {"action": "dispatch"}})
            return [e for e in receiver.events(secret) if e["type"] == "goal.completed"]

        [goal] = wait_until(completed)
        conversion = goal["data"]["conversion"]
        assert conversion["goal"]["name"] == "Demo request" and conversion["source"] == "newsletter", goal
        dev("/_dev/invoke", {"function": "OutgoingWebhooksFunction", "event": {"action": "dispatch"}})
        assert [e["id"] for e in receiver.events(secret) if e["type"] == "goal.completed"] == [goal["id"]]
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
