"""The local JWT authorizer against real moto Cognito tokens: what API Gateway accepts, and what it
refuses (expired, tampered, wrong audience or issuer, foreign keys, `alg` tricks, scopes).

Tokens come from moto's InitiateAuth / RespondToAuthChallenge; the few that moto cannot produce
(`nbf` in the future, other algorithms) are signed with moto's own pool key, which its JWKS
publishes, so only the claim under test is wrong.
"""

from __future__ import annotations

import base64
import gzip
import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwk, jwt

from touchline_dev.devstack.cognito import jwks_fetcher
from touchline_dev.devstack.http_gateway import ApiInfo, Gateway, HttpRequest, RouteTable
from touchline_dev.devstack.jwt_authorizer import JwtAuthorizer, Unauthorized
from touchline_dev.devstack.lambda_runtime import LocalFunction
from touchline_dev.devstack.moto_backend import MotoServer, aws_client
from touchline_dev.devstack.template import FunctionSpec, HttpRoute, JwtAuthorizerSpec

FIXTURES = Path(__file__).parent / "fixtures"
PASSWORD = "Temporary-passw0rd"
NEW_PASSWORD = "Chosen-passw0rd-42"


class Pool:
    def __init__(self, moto: MotoServer, name: str = "people") -> None:
        self.cognito = aws_client("cognito-idp", moto.url)
        self.pool_id = self.cognito.create_user_pool(PoolName=name, UsernameAttributes=["email"])["UserPool"][
            "Id"
        ]
        self.client_id = self.client("dashboard")
        self.issuer = f"https://cognito-idp.us-east-1.amazonaws.com/{self.pool_id}"

    def client(self, name: str) -> str:
        created = self.cognito.create_user_pool_client(
            UserPoolId=self.pool_id, ClientName=name, ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
        )
        return str(created["UserPoolClient"]["ClientId"])

    def sign_in(self, email: str = "ada@example.com", client_id: str | None = None) -> dict[str, str]:
        """The first sign-in of an invited person, as the dashboard does it."""
        client_id = client_id or self.client_id
        try:
            self.cognito.admin_create_user(
                UserPoolId=self.pool_id, Username=email, TemporaryPassword=PASSWORD, MessageAction="SUPPRESS"
            )
            password = PASSWORD
        except self.cognito.exceptions.UsernameExistsException:
            password = NEW_PASSWORD
        started = self.cognito.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        if started.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
            started = self.cognito.respond_to_auth_challenge(
                ClientId=client_id,
                ChallengeName="NEW_PASSWORD_REQUIRED",
                Session=started["Session"],
                ChallengeResponses={
                    "USERNAME": started["ChallengeParameters"]["USERNAME"],
                    "NEW_PASSWORD": NEW_PASSWORD,
                },
            )
        result: dict[str, str] = started["AuthenticationResult"]
        return result


@pytest.fixture(scope="module")
def moto(moto_server: MotoServer) -> MotoServer:
    """One reset for the module: every test signs in with its own pool or person."""
    moto_server.reset()
    return moto_server


@pytest.fixture(scope="module")
def pool(moto: MotoServer) -> Pool:
    return Pool(moto)


def authorizer(pool: Pool, moto: MotoServer, clock: Any = None) -> JwtAuthorizer:
    spec = JwtAuthorizerSpec("CognitoAuthorizer", pool.issuer, (pool.client_id,))
    return JwtAuthorizer(spec, jwks_fetcher(moto.url), **({"clock": clock} if clock else {}))


def claims_of(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return data


@cache
def moto_key() -> jwk.RSAKey:
    """The private key moto signs every pool's tokens with (its JWKS publishes the public half)."""
    raw = (resources.files("moto") / "cognitoidp/resources/jwks-private.json.gz").read_bytes()
    return jwk.RSAKey.import_key(json.loads(gzip.decompress(raw)))


def forged(claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    return jwt.encode(header or {"alg": "RS256", "kid": "dummy"}, claims, moto_key())


def refused(auth: JwtAuthorizer, token: str, scopes: tuple[str, ...] = ()) -> Unauthorized:
    with pytest.raises(Unauthorized) as caught:
        auth.authorize({"authorization": f"Bearer {token}"}, scopes)
    return caught.value


def test_id_and_access_tokens_of_the_pool_pass_and_their_claims_reach_the_function_as_strings(
    pool: Pool, moto: MotoServer
) -> None:
    tokens = pool.sign_in()
    auth = authorizer(pool, moto)
    by_id = auth.authorize({"authorization": tokens["IdToken"]})  # without the Bearer prefix too
    by_access = auth.authorize({"authorization": f"Bearer {tokens['AccessToken']}"})
    assert by_id.claims["sub"] == by_access.claims["sub"] == claims_of(tokens["IdToken"])["sub"]
    assert by_id.claims["aud"] == pool.client_id  # ID tokens name the client in aud
    assert by_access.claims["client_id"] == pool.client_id  # access tokens in client_id
    assert by_access.claims["exp"] == str(claims_of(tokens["AccessToken"])["exp"])
    assert by_access.scopes == ["aws.cognito.signin.user.admin"]
    assert by_id.context() == {"jwt": {"claims": by_id.claims, "scopes": None}}


def test_a_token_of_another_app_client_has_the_wrong_audience(pool: Pool, moto: MotoServer) -> None:
    other_client = pool.client("someone-elses-app")
    tokens = pool.sign_in(client_id=other_client)
    for token in (tokens["IdToken"], tokens["AccessToken"]):
        assert (
            refused(authorizer(pool, moto), token).description == "the token does not have a valid audience"
        )


def test_a_token_of_another_pool_has_the_wrong_issuer(pool: Pool, moto: MotoServer) -> None:
    other = Pool(moto, "other-people")
    token = other.sign_in()["AccessToken"]
    assert refused(authorizer(pool, moto), token).description == "the token does not have a valid issuer"


def test_an_expired_token_is_refused(pool: Pool, moto: MotoServer) -> None:
    token = pool.sign_in()["AccessToken"]
    expires = claims_of(token)["exp"]
    assert authorizer(pool, moto, clock=lambda: expires - 1).authorize({"authorization": token})
    refusal = refused(authorizer(pool, moto, clock=lambda: expires), token)
    assert refusal.status == 401 and refusal.description == "the token has expired"
    assert refusal.headers() == [
        (
            "www-authenticate",
            'Bearer scope="" error="invalid_token" error_description="the token has expired"',
        )
    ]


def test_a_tampered_token_fails_its_signature(pool: Pool, moto: MotoServer) -> None:
    token = pool.sign_in()["AccessToken"]
    header, payload, signature = token.split(".")
    claims = claims_of(token) | {"sub": "someone-else"}
    swapped = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    assert refused(authorizer(pool, moto), f"{header}.{swapped}.{signature}").description == (
        "the token's signature is invalid"
    )
    flipped = signature[:-4] + ("AAAA" if not signature.endswith("AAAA") else "BBBB")
    assert refused(authorizer(pool, moto), f"{header}.{payload}.{flipped}").description == (
        "the token's signature is invalid"
    )


def test_algorithm_tricks_and_foreign_keys_are_refused(pool: Pool, moto: MotoServer) -> None:
    claims = claims_of(pool.sign_in()["AccessToken"])
    auth = authorizer(pool, moto)
    unsigned = (
        base64.urlsafe_b64encode(b'{"alg":"none","kid":"dummy"}').decode().rstrip("=")
        + "."
        + base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        + "."
    )
    assert "algorithm" in refused(auth, unsigned).description
    hmac_key = jwk.OctKey.import_key(b"the-public-key-used-as-a-secret-" * 2)
    assert (
        "algorithm"
        in refused(auth, jwt.encode({"alg": "HS256", "kid": "dummy"}, claims, hmac_key)).description
    )
    stranger = jwt.encode({"alg": "RS256", "kid": "dummy"}, claims, jwk.RSAKey.generate_key(2048))
    assert refused(auth, stranger).description == "the token's signature is invalid"
    unknown_kid = jwt.encode({"alg": "RS256", "kid": "rotated-away"}, claims, moto_key())
    assert "does not publish" in refused(auth, unknown_kid).description
    assert refused(auth, "not-a-jwt").description == "the token is not a JWT"
    with pytest.raises(Unauthorized, match="missing"):
        auth.authorize({})


def test_not_before_and_issued_at_in_the_future_are_refused(pool: Pool, moto: MotoServer) -> None:
    claims = claims_of(pool.sign_in()["AccessToken"])
    auth = authorizer(pool, moto, clock=lambda: claims["iat"] + 1)
    assert auth.authorize({"authorization": forged(claims)}).claims["sub"] == claims["sub"]
    assert (
        refused(auth, forged(claims | {"nbf": claims["iat"] + 60})).description
        == "the token is not valid yet"
    )
    assert "future" in refused(auth, forged(claims | {"iat": claims["iat"] + 60})).description
    assert "expired" in refused(auth, forged({k: v for k, v in claims.items() if k != "exp"})).description


def test_route_scopes_need_one_of_them_in_the_token(pool: Pool, moto: MotoServer) -> None:
    auth = authorizer(pool, moto)
    tokens = pool.sign_in()
    assert auth.authorize({"authorization": tokens["AccessToken"]}, ("aws.cognito.signin.user.admin", "x"))
    refusal = refused(auth, tokens["AccessToken"], ("touchline/admin",))
    assert (
        refusal.status == 403
        and refusal.error == "insufficient_scope"
        and refusal.body() == {"message": "Forbidden"}
    )
    assert refused(auth, tokens["IdToken"], ("touchline/admin",)).status == 403  # ID tokens carry no scope


def test_the_gateway_answers_401_before_the_function_and_passes_verified_claims_after(
    pool: Pool, moto: MotoServer
) -> None:
    spec = FunctionSpec("Echo", FIXTURES / "functions" / "echo", "app.handler", "python3.11", 3, 128, {}, [])
    echo = LocalFunction(spec, name="echo", environment={})
    echo.load()
    calls: list[str] = []
    invoke = echo.invoke

    def counted(event: dict[str, Any], **options: Any) -> Any:
        calls.append(event["rawPath"])
        return invoke(event, **options)

    echo.invoke = counted  # type: ignore[method-assign,assignment]
    guarded = HttpRoute("Echo", "Me", "Api", "GET", "/me", "2.0", authorizer="CognitoAuthorizer")
    open_route = HttpRoute("Echo", "Config", "Api", "GET", "/config", "2.0")
    api = ApiInfo("api123", authorizers={"CognitoAuthorizer": authorizer(pool, moto)})
    gateway = Gateway(RouteTable([guarded, open_route]), {"Echo": echo}, {"Api": api})

    refused_response = gateway.handle(
        HttpRequest("GET", "/me", [("Authorization", "Bearer expired.or.forged")])
    )
    assert refused_response.status == 401
    assert json.loads(refused_response.body) == {"message": "Unauthorized"}
    assert 'error="invalid_token"' in (refused_response.header("www-authenticate") or "")
    assert calls == []  # the function never ran

    token = pool.sign_in()["AccessToken"]
    answered = gateway.handle(HttpRequest("GET", "/me", [("Authorization", f"Bearer {token}")]))
    assert answered.status == 200, answered.body
    event = json.loads(answered.body)["event"]
    assert event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] == claims_of(token)["sub"]
    assert gateway.handle(HttpRequest("GET", "/config", [])).status == 200
