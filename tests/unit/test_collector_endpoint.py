"""`CollectorEndpoint`: the collector's Lambda Function URL exists only with `function-url`, is
public the way AWS requires since October 2025 (InvokeFunctionUrl plus InvokeFunction limited to
calls through the URL), answers CORS as the HTTP API does for the collector's methods, and the
`CollectorUrl` output points at whichever endpoint is chosen."""

from __future__ import annotations

from typing import Any

from helpers import TEMPLATE
from touchline_dev.devstack.template import parse_template_text

URL_RESOURCES = (
    "CollectorFunctionUrl",
    "CollectorFunctionUrlPublicAccess",
    "CollectorFunctionUrlInvokeAccess",
)


def template() -> dict[str, Any]:
    data: dict[str, Any] = parse_template_text(TEMPLATE.read_text())
    return data


def test_the_parameter_chooses_between_the_two_endpoints_and_defaults_to_the_http_api() -> None:
    data = template()
    parameter = data["Parameters"]["CollectorEndpoint"]
    assert parameter["Default"] == "httpapi"
    assert parameter["AllowedValues"] == ["httpapi", "function-url"]
    assert data["Conditions"]["CollectorOnFunctionUrl"] == {
        "Fn::Equals": [{"Ref": "CollectorEndpoint"}, "function-url"]
    }
    for name in URL_RESOURCES:
        assert data["Resources"][name]["Condition"] == "CollectorOnFunctionUrl", name


def test_the_url_is_public_through_the_url_only() -> None:
    resources = template()["Resources"]
    url = resources["CollectorFunctionUrl"]["Properties"]
    assert url["AuthType"] == "NONE"
    assert url["TargetFunctionArn"] == {"Fn::GetAtt": ["CollectorFunction", "Arn"]}
    public = resources["CollectorFunctionUrlPublicAccess"]["Properties"]
    assert (public["Action"], public["Principal"], public["FunctionUrlAuthType"]) == (
        "lambda:InvokeFunctionUrl",
        "*",
        "NONE",
    )
    invoke = resources["CollectorFunctionUrlInvokeAccess"]["Properties"]
    assert (invoke["Action"], invoke["Principal"], invoke["InvokedViaFunctionUrl"]) == (
        "lambda:InvokeFunction",
        "*",
        True,
    )
    for permission in (public, invoke):
        assert permission["FunctionName"] == {"Ref": "CollectorFunction"}


def test_cors_is_the_http_apis_for_the_collectors_methods() -> None:
    resources = template()["Resources"]
    url_cors = resources["CollectorFunctionUrl"]["Properties"]["Cors"]
    api_cors = resources["HttpApi"]["Properties"]["CorsConfiguration"]
    for key in ("AllowOrigins", "AllowHeaders", "ExposeHeaders", "MaxAge"):
        assert url_cors[key] == api_cors[key], key
    events = resources["CollectorFunction"]["Properties"]["Events"].values()
    methods = {e["Properties"]["Method"] for e in events if e["Type"] == "HttpApi"}
    assert set(url_cors["AllowMethods"]) == methods == {"GET", "POST"}
    assert methods <= set(api_cors["AllowMethods"])


def test_the_collector_url_output_follows_the_choice() -> None:
    value = template()["Outputs"]["CollectorUrl"]["Value"]
    condition, on_url, on_api = value["Fn::If"]
    assert condition == "CollectorOnFunctionUrl"
    assert on_url == {"Fn::Sub": "${CollectorFunctionUrl.FunctionUrl}api/event"}
    assert on_api == {"Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api/event"}
