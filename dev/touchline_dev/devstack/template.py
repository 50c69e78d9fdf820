"""Reading a SAM template: CloudFormation short tags, Globals, and the parts the stack runs.

The loader turns every short tag (`!Ref`, `!GetAtt`, `!Sub`, ...) into its long JSON form
(`{"Ref": ...}`, `{"Fn::GetAtt": [...]}`), so the rest of the stack deals with one shape. Values
are left unresolved here; `intrinsics.Resolver` resolves them once the local resources exist.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

SERVERLESS_FUNCTION = "AWS::Serverless::Function"
LAMBDA_FUNCTION = "AWS::Lambda::Function"
HTTP_API = "AWS::Serverless::HttpApi"
SQS_QUEUE = "AWS::SQS::Queue"
DYNAMODB_TABLE = "AWS::DynamoDB::Table"
USER_POOL = "AWS::Cognito::UserPool"
USER_POOL_CLIENT = "AWS::Cognito::UserPoolClient"
LAYER_VERSION = "AWS::Serverless::LayerVersion"
# The API that SAM creates for HttpApi events without an ApiId.
IMPLICIT_HTTP_API = "ServerlessHttpApi"

# Globals sections and the resource type each applies to.
_GLOBALS_TARGETS = {
    "Function": SERVERLESS_FUNCTION,
    "HttpApi": HTTP_API,
    "LayerVersion": LAYER_VERSION,
    "SimpleTable": "AWS::Serverless::SimpleTable",
}


class TemplateError(ValueError):
    """The template cannot be read, or declares something the local stack cannot run."""


class ValueResolver(Protocol):
    """What spec extraction needs from `intrinsics.Resolver` (kept abstract to avoid a cycle)."""

    def resolve(self, value: Any) -> Any: ...

    def condition(self, name: str) -> bool: ...


# --------------------------------------------------------------------------- YAML loading


# libyaml's parser when PyYAML has it (ten times faster on template.yaml), else the Python one.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CfnLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader plus the CloudFormation short tags; dates stay strings as CloudFormation sees them."""


def _scalar_or_node(loader: _CfnLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


def _long_form(name: str) -> Any:
    def construct(loader: _CfnLoader, node: yaml.Node) -> Any:
        return {name: _scalar_or_node(loader, node)}

    return construct


def _construct_get_att(loader: _CfnLoader, node: yaml.Node) -> Any:
    value = _scalar_or_node(loader, node)
    if isinstance(value, str):
        logical_id, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [logical_id, attribute]}
    return {"Fn::GetAtt": value}


for _tag in (
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Length",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "ToJsonString",
    "Transform",
):
    _CfnLoader.add_constructor(f"!{_tag}", _long_form(f"Fn::{_tag}"))
_CfnLoader.add_constructor("!Ref", _long_form("Ref"))
_CfnLoader.add_constructor("!Condition", _long_form("Condition"))
_CfnLoader.add_constructor("!GetAtt", _construct_get_att)
_CfnLoader.add_constructor(
    "tag:yaml.org,2002:timestamp",
    lambda loader, node: loader.construct_scalar(node),
)


def parse_template_text(text: str) -> dict[str, Any]:
    """Parse YAML or JSON template text into long-form intrinsics."""
    try:
        data = yaml.load(text, Loader=_CfnLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise TemplateError(f"template is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise TemplateError("template must be a mapping")
    return data


# --------------------------------------------------------------------------- the template


@dataclass(frozen=True)
class Resource:
    """One resource after Globals were merged into it."""

    logical_id: str
    type: str
    properties: dict[str, Any]
    condition: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Template:
    """A parsed SAM template; `base_dir` is where CodeUri/ContentUri paths are relative to."""

    path: Path
    base_dir: Path
    parameters: dict[str, dict[str, Any]]
    conditions: dict[str, Any]
    mappings: dict[str, Any]
    resources: dict[str, Resource]
    outputs: dict[str, Any]

    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.type in types]


def load_template(path: Path) -> Template:
    """Read `path`, apply SAM Globals, and return the resources the local stack can see."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateError(f"cannot read template {path}: {exc.strerror}") from exc
    return template_from_dict(parse_template_text(text), path)


def template_from_dict(data: Mapping[str, Any], path: Path) -> Template:
    raw_resources = data.get("Resources")
    if not isinstance(raw_resources, dict) or not raw_resources:
        raise TemplateError(f"{path}: no Resources")
    globals_ = data.get("Globals") or {}
    resources: dict[str, Resource] = {}
    for logical_id, body in raw_resources.items():
        if not isinstance(body, dict) or "Type" not in body:
            raise TemplateError(f"{path}: resource {logical_id} has no Type")
        properties = copy.deepcopy(body.get("Properties") or {})
        for section, target in _GLOBALS_TARGETS.items():
            if body["Type"] == target and isinstance(globals_.get(section), dict):
                properties = merge_globals(globals_[section], properties)
        resources[logical_id] = Resource(
            logical_id=logical_id,
            type=str(body["Type"]),
            properties=properties,
            condition=body.get("Condition"),
            metadata=dict(body.get("Metadata") or {}),
        )
    return Template(
        path=path,
        base_dir=path.resolve().parent,
        parameters=dict(data.get("Parameters") or {}),
        conditions=dict(data.get("Conditions") or {}),
        mappings=dict(data.get("Mappings") or {}),
        resources=resources,
        outputs=dict(data.get("Outputs") or {}),
    )


def merge_globals(global_value: Any, local_value: Any) -> Any:
    """SAM's rule: maps merge (local wins), lists concatenate (globals first), scalars: local wins."""
    if isinstance(global_value, dict) and isinstance(local_value, dict):
        if _is_intrinsic(global_value) or _is_intrinsic(local_value):
            return copy.deepcopy(local_value)
        merged = copy.deepcopy(global_value)
        for key, value in local_value.items():
            merged[key] = merge_globals(merged[key], value) if key in merged else copy.deepcopy(value)
        return merged
    if isinstance(global_value, list) and isinstance(local_value, list):
        return copy.deepcopy(global_value) + copy.deepcopy(local_value)
    return copy.deepcopy(local_value)


def _is_intrinsic(value: dict[str, Any]) -> bool:
    if len(value) != 1:
        return False
    key = str(next(iter(value)))
    return key in ("Ref", "Condition") or key.startswith("Fn::")


# --------------------------------------------------------------------------- what the stack runs


@dataclass(frozen=True)
class HttpRoute:
    """One HttpApi event: `path` is `$default` for the catch-all route."""

    function: str
    event_name: str
    api: str
    method: str
    path: str
    payload_format_version: str
    # The route's authorizer (a name in its API's Auth.Authorizers); None: the API's default.
    authorizer: str | None = None
    authorization_scopes: tuple[str, ...] = ()

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True)
class SqsSource:
    """One SQS event source mapping (`queue` is the queue's logical id)."""

    function: str
    event_name: str
    queue: str
    batch_size: int
    batching_window_seconds: float
    report_batch_item_failures: bool
    enabled: bool


@dataclass(frozen=True)
class ScheduleSource:
    """A `ScheduleV2` (EventBridge Scheduler) or `Schedule` (EventBridge rule) event."""

    function: str
    event_name: str
    kind: str
    expression: str
    input: str | None
    timezone: str
    enabled: bool


@dataclass(frozen=True)
class FunctionSpec:
    """What the local runtime needs to import and invoke one function."""

    logical_id: str
    code_dir: Path
    handler: str
    runtime: str
    timeout: int
    memory_size: int
    environment: dict[str, Any]
    layers: list[Any]
    function_name: Any = None
    # `Metadata: BuildMethod` (e.g. "makefile": `sam build` runs the CodeUri's Makefile).
    build_method: str | None = None
    # `Metadata: WorkingDirectory` of a makefile build, resolved against the template's directory.
    working_directory: Path | None = None


@dataclass(frozen=True)
class CorsConfig:
    allow_origins: list[str]
    allow_methods: list[str]
    allow_headers: list[str]
    expose_headers: list[str]
    max_age: int | None
    allow_credentials: bool


def active_resources(template: Template, resolver: ValueResolver) -> list[Resource]:
    """Resources whose Condition holds (or that have none)."""
    return [r for r in template.resources.values() if r.condition is None or resolver.condition(r.condition)]


def function_spec(template: Template, resource: Resource, resolver: ValueResolver) -> FunctionSpec:
    props = resource.properties
    if "InlineCode" in props or "ImageUri" in props or props.get("PackageType") == "Image":
        raise TemplateError(f"{resource.logical_id}: only CodeUri (zip) functions run locally")
    code_uri = resolver.resolve(props.get("CodeUri", "."))
    if not isinstance(code_uri, str):
        raise TemplateError(f"{resource.logical_id}: CodeUri must be a local directory")
    handler = resolver.resolve(props.get("Handler"))
    if not isinstance(handler, str) or "." not in handler:
        raise TemplateError(f"{resource.logical_id}: Handler must look like module.function")
    variables = (props.get("Environment") or {}).get("Variables") or {}
    build_method = resource.metadata.get("BuildMethod")
    working_directory = resource.metadata.get("WorkingDirectory")
    return FunctionSpec(
        logical_id=resource.logical_id,
        code_dir=(template.base_dir / code_uri).resolve(),
        handler=handler,
        runtime=str(resolver.resolve(props.get("Runtime", "python3.11"))),
        timeout=int(resolver.resolve(props.get("Timeout", 3))),
        memory_size=int(resolver.resolve(props.get("MemorySize", 128))),
        environment=dict(variables),
        layers=list(props.get("Layers") or []),
        function_name=props.get("FunctionName"),
        build_method=str(build_method) if build_method else None,
        working_directory=(template.base_dir / str(working_directory)).resolve()
        if working_directory
        else None,
    )


def _events(resource: Resource) -> list[tuple[str, str, dict[str, Any]]]:
    events = resource.properties.get("Events") or {}
    return [(name, str(e.get("Type")), dict(e.get("Properties") or {})) for name, e in events.items()]


def http_routes(resource: Resource, resolver: ValueResolver) -> list[HttpRoute]:
    routes = []
    for name, kind, props in _events(resource):
        if kind != "HttpApi":
            continue
        api_id = props.get("ApiId")
        api = _logical_id_of(api_id) if api_id is not None else IMPLICIT_HTTP_API
        if api is None:
            raise TemplateError(
                f"{resource.logical_id}.{name}: ApiId must be !Ref of an HttpApi in this template"
            )
        path = resolver.resolve(props.get("Path", "$default"))
        method = str(resolver.resolve(props.get("Method", "ANY"))).upper()
        version = str(resolver.resolve(props.get("PayloadFormatVersion", "2.0")))
        auth = resolver.resolve(props.get("Auth") or {})
        routes.append(
            HttpRoute(
                resource.logical_id,
                name,
                api,
                "ANY" if method == "*" else method,
                path,
                version,
                authorizer=auth.get("Authorizer") if isinstance(auth, dict) else None,
                authorization_scopes=tuple(auth.get("AuthorizationScopes") or ())
                if isinstance(auth, dict)
                else (),
            )
        )
    return routes


def sqs_sources(resource: Resource, resolver: ValueResolver) -> list[SqsSource]:
    sources = []
    for name, kind, props in _events(resource):
        if kind != "SQS":
            continue
        queue = _logical_id_of(props.get("Queue"))
        if queue is None:
            raise TemplateError(
                f"{resource.logical_id}.{name}: Queue must be !GetAtt <Queue>.Arn of a queue in this template"
            )
        types = resolver.resolve(props.get("FunctionResponseTypes") or [])
        sources.append(
            SqsSource(
                function=resource.logical_id,
                event_name=name,
                queue=queue,
                batch_size=int(resolver.resolve(props.get("BatchSize", 10))),
                batching_window_seconds=float(
                    resolver.resolve(props.get("MaximumBatchingWindowInSeconds", 0))
                ),
                report_batch_item_failures="ReportBatchItemFailures" in types,
                enabled=_truthy(resolver.resolve(props.get("Enabled", True))),
            )
        )
    return sources


def schedule_sources(resource: Resource, resolver: ValueResolver) -> list[ScheduleSource]:
    sources = []
    for name, kind, props in _events(resource):
        if kind not in ("ScheduleV2", "Schedule"):
            continue
        expression = resolver.resolve(props.get("ScheduleExpression"))
        if not isinstance(expression, str):
            raise TemplateError(f"{resource.logical_id}.{name}: ScheduleExpression is required")
        state = resolver.resolve(props.get("State", "ENABLED"))
        enabled = _truthy(resolver.resolve(props.get("Enabled", True))) and str(state).upper() == "ENABLED"
        raw_input = resolver.resolve(props.get("Input")) if "Input" in props else None
        sources.append(
            ScheduleSource(
                function=resource.logical_id,
                event_name=name,
                kind=kind,
                expression=expression,
                input=None if raw_input is None else str(raw_input),
                timezone=str(resolver.resolve(props.get("ScheduleExpressionTimezone", "UTC"))),
                enabled=enabled,
            )
        )
    return sources


def cors_config(resource: Resource, resolver: ValueResolver) -> CorsConfig | None:
    """An HttpApi's CorsConfiguration (`true` means allow every origin), or None."""
    raw = resolver.resolve(resource.properties.get("CorsConfiguration"))
    if raw is None or raw is False:
        return None
    if raw is True:
        return CorsConfig(["*"], ["*"], ["*"], [], None, False)
    if not isinstance(raw, dict):
        raise TemplateError(f"{resource.logical_id}: CorsConfiguration must be a map or true")
    max_age = raw.get("MaxAge")
    return CorsConfig(
        allow_origins=_string_list(raw.get("AllowOrigins")),
        allow_methods=[m.upper() for m in _string_list(raw.get("AllowMethods"))],
        allow_headers=[h.lower() for h in _string_list(raw.get("AllowHeaders"))],
        expose_headers=[h.lower() for h in _string_list(raw.get("ExposeHeaders"))],
        max_age=None if max_age is None else int(max_age),
        allow_credentials=_truthy(raw.get("AllowCredentials", False)),
    )


def _string_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _logical_id_of(value: Any) -> str | None:
    """`X` from `!Ref X` or `!GetAtt X.Arn`; None for anything else (external ARNs)."""
    if isinstance(value, dict) and len(value) == 1:
        if "Ref" in value and isinstance(value["Ref"], str):
            return value["Ref"]
        get_att = value.get("Fn::GetAtt")
        if isinstance(get_att, list) and get_att and isinstance(get_att[0], str):
            return get_att[0]
    return None


@dataclass(frozen=True)
class JwtAuthorizerSpec:
    """One JWT authorizer of an HttpApi (`Auth.Authorizers.<name>.JwtConfiguration`)."""

    name: str
    issuer: str
    audience: tuple[str, ...]
    identity_source: str = "$request.header.Authorization"


@dataclass(frozen=True)
class ApiAuth:
    authorizers: dict[str, JwtAuthorizerSpec]
    default_authorizer: str | None = None


def api_auth(resource: Resource, resolver: ValueResolver) -> ApiAuth:
    """An HttpApi's JWT authorizers; Lambda authorizers and IAM auth do not run locally."""
    auth = resource.properties.get("Auth") or {}
    if not isinstance(auth, dict):
        raise TemplateError(f"{resource.logical_id}: Auth must be a map")
    authorizers: dict[str, JwtAuthorizerSpec] = {}
    for name, raw in (auth.get("Authorizers") or {}).items():
        config = raw.get("JwtConfiguration") if isinstance(raw, dict) else None
        if not isinstance(config, dict):
            raise TemplateError(f"{resource.logical_id}: authorizer {name}: only JWT authorizers run locally")
        issuer = resolver.resolve(config.get("issuer") or config.get("Issuer"))
        audience = resolver.resolve(config.get("audience") or config.get("Audience") or [])
        if not isinstance(issuer, str) or not issuer:
            raise TemplateError(f"{resource.logical_id}: authorizer {name} needs JwtConfiguration.issuer")
        authorizers[name] = JwtAuthorizerSpec(
            name=name,
            issuer=issuer,
            audience=tuple(str(a) for a in (audience if isinstance(audience, list) else [audience])),
            identity_source=str(resolver.resolve(raw.get("IdentitySource", "$request.header.Authorization"))),
        )
    default = auth.get("DefaultAuthorizer")
    if default is not None and default not in authorizers:
        raise TemplateError(f"{resource.logical_id}: DefaultAuthorizer {default} is not declared")
    return ApiAuth(authorizers, default)
