"""Reading templates: short tags, Globals, intrinsics, names, environments, event sources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from touchline_dev.devstack.environment import apply_process_environment, function_environment
from touchline_dev.devstack.intrinsics import NO_VALUE, PseudoParameters, Resolver, UnresolvableError
from touchline_dev.devstack.resources import LocalResources
from touchline_dev.devstack.template import (
    TemplateError,
    cors_config,
    function_spec,
    http_routes,
    load_template,
    merge_globals,
    parse_template_text,
    schedule_sources,
    sqs_sources,
    template_from_dict,
)

FIXTURE_TEMPLATE = Path(__file__).parent / "fixtures" / "template.yaml"
ROOT = Path(__file__).resolve().parents[3]
ENDPOINT = "http://127.0.0.1:5555"


def test_short_tags_become_long_form() -> None:
    data = parse_template_text(
        """
AWSTemplateFormatVersion: 2010-09-09
Values:
  ref: !Ref Thing
  att: !GetAtt Queue.Arn
  att_list: !GetAtt [Queue, QueueName]
  sub: !Sub "${AWS::StackName}-x"
  sub_list: !Sub ["${A}-${B}", {A: a, B: !Ref B}]
  join: !Join [",", [a, !Ref B]]
  if: !If [Cond, kept, !Ref AWS::NoValue]
  eq: !Equals [!Ref P, ""]
  not: !Not [!Condition C]
  select: !Select [1, !Split [",", "a,b"]]
  map: !FindInMap [M, K, V]
  b64: !Base64 hi
  imp: !ImportValue shared
"""
    )
    assert data["AWSTemplateFormatVersion"] == "2010-09-09"
    values = data["Values"]
    assert values["ref"] == {"Ref": "Thing"}
    assert values["att"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert values["att_list"] == {"Fn::GetAtt": ["Queue", "QueueName"]}
    assert values["sub"] == {"Fn::Sub": "${AWS::StackName}-x"}
    assert values["sub_list"] == {"Fn::Sub": ["${A}-${B}", {"A": "a", "B": {"Ref": "B"}}]}
    assert values["join"] == {"Fn::Join": [",", ["a", {"Ref": "B"}]]}
    assert values["if"] == {"Fn::If": ["Cond", "kept", {"Ref": "AWS::NoValue"}]}
    assert values["eq"] == {"Fn::Equals": [{"Ref": "P"}, ""]}
    assert values["not"] == {"Fn::Not": [{"Condition": "C"}]}
    assert values["select"] == {"Fn::Select": [1, {"Fn::Split": [",", "a,b"]}]}
    assert values["map"] == {"Fn::FindInMap": ["M", "K", "V"]}
    assert values["b64"] == {"Fn::Base64": "hi"}
    assert values["imp"] == {"Fn::ImportValue": "shared"}


def test_invalid_yaml_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="not valid YAML"):
        parse_template_text("a: [unclosed")


def test_globals_merge_maps_concatenate_lists_and_local_scalars_win() -> None:
    merged = merge_globals(
        {"Timeout": 5, "Layers": ["L1"], "Environment": {"Variables": {"A": "g", "B": "g"}}},
        {"Timeout": 60, "Layers": ["L2"], "Environment": {"Variables": {"B": "f", "C": {"Ref": "X"}}}},
    )
    assert merged == {
        "Timeout": 60,
        "Layers": ["L1", "L2"],
        "Environment": {"Variables": {"A": "g", "B": "f", "C": {"Ref": "X"}}},
    }


def _template(extra: dict[str, Any] | None = None) -> Any:
    data = {
        "Parameters": {
            "Stage": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]},
            "Days": {"Type": "Number", "Default": 730, "MinValue": 30},
            "Origins": {"Type": "CommaDelimitedList", "Default": "https://a.example, https://b.example"},
            "Secret": {"Type": "String"},
        },
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
        "Mappings": {"Sizes": {"dev": {"Memory": 512}}},
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
        **(extra or {}),
    }
    return template_from_dict(data, Path("/nowhere/template.yaml"))


def test_parameters_defaults_overrides_lists_and_checks() -> None:
    resolver = Resolver(_template())
    assert resolver.resolve({"Ref": "Stage"}) == "dev"
    assert resolver.resolve({"Ref": "Days"}) == "730"
    assert resolver.resolve({"Ref": "Origins"}) == ["https://a.example", "https://b.example"]
    assert resolver.resolve({"Fn::Join": ["|", {"Ref": "Origins"}]}) == "https://a.example|https://b.example"
    with pytest.raises(UnresolvableError, match="Secret has no Default"):
        resolver.resolve({"Ref": "Secret"})
    assert Resolver(_template(), parameter_overrides={"Stage": "prod"}).condition("IsProd") is True
    with pytest.raises(TemplateError, match="not one of"):
        Resolver(_template(), parameter_overrides={"Stage": "qa"}).resolve({"Ref": "Stage"})
    with pytest.raises(TemplateError, match="outside"):
        Resolver(_template(), parameter_overrides={"Days": "7"}).resolve({"Ref": "Days"})
    with pytest.raises(TemplateError, match="lacks: Nope"):
        Resolver(_template(), parameter_overrides={"Nope": "x"})


class _Refs:
    def ref(self, logical_id: str) -> Any:
        return f"ref:{logical_id}"

    def get_att(self, logical_id: str, attribute: str) -> Any:
        return f"att:{logical_id}.{attribute}"


def test_functions_resolve() -> None:
    resolver = Resolver(_template(), pseudo=PseudoParameters(stack_name="s"), resources=_Refs())
    assert resolver.resolve({"Fn::Sub": "${AWS::StackName}-${Stage}-${Queue}-${Queue.Arn}-${!Literal}"}) == (
        "s-dev-ref:Queue-att:Queue.Arn-${Literal}"
    )
    assert resolver.resolve({"Fn::Sub": ["${A}/${AWS::Region}", {"A": {"Ref": "Stage"}}]}) == "dev/us-east-1"
    assert resolver.resolve({"Fn::If": ["IsProd", "strict", "lenient"]}) == "lenient"
    assert resolver.resolve({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}) == "b"
    assert resolver.resolve({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]}) == 512
    assert resolver.resolve({"Fn::Base64": "hi"}) == "aGk="
    assert resolver.resolve({"Fn::GetAtt": ["Queue", "Arn"]}) == "att:Queue.Arn"
    assert resolver.resolve({"Fn::GetAtt": "Queue.QueueName"}) == "att:Queue.QueueName"
    assert resolver.resolve({"Ref": "AWS::NoValue"}) is NO_VALUE
    assert resolver.resolve({"a": 1, "b": {"Fn::If": ["IsProd", 2, {"Ref": "AWS::NoValue"}]}}) == {"a": 1}
    assert resolver.resolve([1, {"Ref": "AWS::NoValue"}, 2]) == [1, 2]
    with pytest.raises(UnresolvableError):
        resolver.resolve({"Fn::ImportValue": "shared"})
    with pytest.raises(UnresolvableError, match="no such parameter or resource"):
        resolver.resolve({"Ref": "Missing"})


def test_resources_get_stable_names_arns_and_moto_urls() -> None:
    template = load_template(FIXTURE_TEMPLATE)
    resources = LocalResources(template, endpoint_url=ENDPOINT, http_base_url="http://127.0.0.1:3000")
    resolve = resources.resolver.resolve
    assert resolve({"Ref": "WorkQueue"}) == f"{ENDPOINT}/123456789012/touchline-WorkQueue"
    assert (
        resolve({"Fn::GetAtt": ["WorkQueue", "Arn"]})
        == "arn:aws:sqs:us-east-1:123456789012:touchline-WorkQueue"
    )
    assert resolve({"Ref": "ConfigTable"}) == "touchline-ConfigTable"
    assert resolve({"Fn::GetAtt": ["ConfigTable", "Arn"]}).endswith(":table/touchline-ConfigTable")
    assert resolve({"Ref": "EchoFunction"}) == "touchline-EchoFunction"
    assert resolve({"Fn::GetAtt": ["HttpApi", "ApiEndpoint"]}) == "http://127.0.0.1:3000"
    assert resolve({"Ref": "SharedLayer"}) == "arn:aws:lambda:us-east-1:123456789012:layer:touchline-shared:1"
    assert len(resolve({"Ref": "HttpApi"})) == 10
    assert "ProdOnlyQueue" not in resources.active
    with pytest.raises(UnresolvableError, match="Condition is false"):
        resolve({"Ref": "ProdOnlyQueue"})
    assert [q.logical_id for q in resources.queues()] == ["WorkQueue", "WorkDeadLetterQueue"]
    prod = LocalResources(
        template, endpoint_url=ENDPOINT, parameter_overrides={"Stage": "prod", "SecretArn": "x"}
    )
    assert "ProdOnlyQueue" in prod.active


def test_function_environment_resolves_the_template_and_applies_overrides() -> None:
    template = load_template(FIXTURE_TEMPLATE)
    resources = LocalResources(template, endpoint_url=ENDPOINT)
    spec = function_spec(template, resources.active["WorkerFunction"], resources.resolver)
    assert spec.code_dir == FIXTURE_TEMPLATE.parent / "functions" / "worker"
    assert (spec.timeout, spec.memory_size, spec.handler) == (30, 256, "app.handler")
    env = function_environment(
        spec, resources, function_name="touchline-WorkerFunction", overrides={"X_DEV": "1"}
    )
    variables = env.variables
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "Fixture"  # from Globals
    assert variables["FIXTURE_TABLE"] == "touchline-ConfigTable"
    assert variables["FIXTURE_DLQ_ARN"] == "arn:aws:sqs:us-east-1:123456789012:touchline-WorkDeadLetterQueue"
    assert variables["FIXTURE_TITLE"] == "touchline-dev-touchline-WorkQueue"
    assert variables["FIXTURE_ORIGINS"] == "*"
    assert variables["FIXTURE_MODE"] == "lenient"
    assert variables["FIXTURE_RETENTION"] == "730"
    assert variables["FIXTURE_FLAG"] == "true"
    assert variables["X_DEV"] == "1"
    assert variables["AWS_LAMBDA_FUNCTION_NAME"] == "touchline-WorkerFunction"
    assert variables["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert "FIXTURE_SECRET" not in variables
    assert "SecretArn has no Default" in env.skipped["FIXTURE_SECRET"]
    echo = function_spec(template, resources.active["EchoFunction"], resources.resolver)
    assert echo.memory_size == 512  # !FindInMap


def test_process_environment_drops_profiles_and_service_endpoints() -> None:
    environ = {"AWS_PROFILE": "prod", "AWS_ENDPOINT_URL_SQS": "https://real", "HOME": "/root"}
    apply_process_environment({"AWS_ENDPOINT_URL": ENDPOINT}, environ)
    assert environ == {"HOME": "/root", "AWS_ENDPOINT_URL": ENDPOINT}


def test_event_sources_and_cors_of_the_fixture() -> None:
    template = load_template(FIXTURE_TEMPLATE)
    resources = LocalResources(template, endpoint_url=ENDPOINT)
    routes = http_routes(resources.active["EchoFunction"], resources.resolver)
    assert {r.route_key for r in routes} == {
        "POST /api/event",
        "GET /sites/{site_id}",
        "GET /sites/special",
        "ANY /files/{proxy+}",
    }
    assert {r.api for r in routes} == {"HttpApi"}
    (sqs,) = sqs_sources(resources.active["WorkerFunction"], resources.resolver)
    assert (sqs.queue, sqs.batch_size, sqs.batching_window_seconds) == ("WorkQueue", 25, 1.0)
    assert sqs.report_batch_item_failures and sqs.enabled
    every, nightly = schedule_sources(resources.active["TickFunction"], resources.resolver)
    assert (every.kind, every.expression, every.enabled) == ("ScheduleV2", "rate(1 minute)", True)
    assert every.input is not None and "<aws.scheduler.scheduled-time>" in every.input
    assert (nightly.timezone, nightly.enabled) == ("Europe/Paris", False)
    cors = cors_config(resources.active["HttpApi"], resources.resolver)  # from Globals.HttpApi
    assert cors is not None
    assert (cors.allow_origins, cors.allow_methods, cors.max_age) == (["*"], ["POST", "GET"], 600)


@pytest.mark.skipif(not (ROOT / "template.yaml").exists(), reason="template.yaml not written yet")
def test_the_real_template_runs_locally() -> None:
    template = load_template(ROOT / "template.yaml")
    resources = LocalResources(template, endpoint_url=ENDPOINT)
    collector = resources.active["CollectorFunction"]
    assert [r.route_key for r in http_routes(collector, resources.resolver)] == [
        "POST /api/event",
        "GET /js/script.js",
        "GET /js/touchline.js",
    ]
    (source,) = sqs_sources(resources.active["LoaderFunction"], resources.resolver)
    assert (source.queue, source.report_batch_item_failures) == ("EventsQueue", True)
    assert source.batch_size > 10 and source.batching_window_seconds > 0
    queue = resources.active["EventsQueue"]
    policy = resources.resolver.resolve(queue.properties["RedrivePolicy"])
    assert policy["deadLetterTargetArn"] == resources.queue("EventsDeadLetterQueue").arn
    for logical_id in ("CollectorFunction", "LoaderFunction"):
        spec = function_spec(template, resources.active[logical_id], resources.resolver)
        assert (spec.code_dir / "app.py").is_file()
        env = function_environment(spec, resources, function_name=logical_id).variables
        assert env["TOUCHLINE_CONFIG_TABLE"] == resources.physical_name("ConfigTable")
