"""Each function's execution role, expanded from template.yaml by the SAM translator.

`sam deploy` turns a function's `Policies` (policy templates such as `DynamoDBReadPolicy`, inline
statements, managed policy names) into an `AWS::IAM::Role`; so does `function_roles`, with the
same translator (`samtranslator`, installed with aws-sam-cli), then resolves the statements'
`!Ref`/`!GetAtt`/`!Sub` to the local resources' ARNs and replaces managed policy ARNs by their
documents (moto ships AWS's). A statement that cannot be resolved locally (a parameter left
unset) is dropped and reported, never widened. Nothing here is specific to one function: a new
function in the template gets its role, and its tests and `touchline dev` run under it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from touchline_dev.devstack.intrinsics import Resolver, UnresolvableError
from touchline_dev.devstack.template import SERVERLESS_FUNCTION, parse_template_text

ROLE_TYPE = "AWS::IAM::Role"
_LOCAL_CODE = "s3://touchline-local-code/"


@dataclass
class FunctionRole:
    function: str  # the function's logical id
    documents: list[dict[str, Any]] = field(default_factory=list)  # resolved policy documents
    dropped: list[str] = field(default_factory=list)  # statements that could not be resolved

    @property
    def role_name(self) -> str:
        return f"{self.function}Role"


@cache
def managed_policies() -> dict[str, dict[str, Any]]:
    """AWS managed policies by name: `{"Arn": …, "Document": …}` (moto's copy of AWS's list)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    data: dict[str, dict[str, Any]] = json.loads(aws_managed_policies_data)
    return {
        name: {"Arn": f"arn:aws:iam::aws:policy{entry.get('Path', '/')}{name}", "Document": entry["Document"]}
        for name, entry in data.items()
    }


class _ManagedPolicies:
    """The translator's view of managed policies: name → ARN."""

    def load(self) -> dict[str, str]:
        return {name: entry["Arn"] for name, entry in managed_policies().items()}


def translate(template_path: Path, resolver: Resolver) -> dict[str, Any]:
    """The template as CloudFormation sees it after the Serverless transform."""
    pseudo = resolver.pseudo
    text = template_path.read_text(encoding="utf-8")
    return copy.deepcopy(
        _translated(text, (pseudo.region, pseudo.account_id, pseudo.partition, pseudo.stack_name))
    )


@lru_cache(maxsize=8)
def _translated(text: str, pseudo: tuple[str, str, str, str]) -> dict[str, Any]:
    """Cached per template text: the translator takes ~0.2 s, and tests ask once per test. Also
    cached on disk across processes (importing the translator costs 1-4 s, every test session
    and `touchline dev` start paid it): see `_cache_path`."""
    path = _cache_path(text, pseudo)
    if path is not None and path.is_file():
        try:
            cached: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return cached
        except (OSError, ValueError):
            pass  # unreadable or half-written by a crashed process: translate again
    translated = _translate(text, pseudo)
    if path is not None:
        _write_atomically(path, translated)
    return translated


# Set to a directory to keep the translations elsewhere, or to "" to translate every time.
CACHE_DIR_ENV = "TOUCHLINE_SAM_CACHE_DIR"


def _cache_path(text: str, pseudo: tuple[str, str, str, str]) -> Path | None:
    """Where the translation of `text` for `pseudo` is kept. The key covers every input of the
    translation: the template, the pseudo parameters, the translator's and moto's versions (the
    managed policies come from moto) and this module's source (the preprocessing), so a hit is
    exactly what translating again would give."""
    from importlib import metadata

    directory = os.environ.get(CACHE_DIR_ENV)
    if directory == "":
        return None
    try:
        versions = [metadata.version("aws-sam-translator"), metadata.version("moto")]
    except metadata.PackageNotFoundError:
        return None
    digest = hashlib.sha256()
    for part in (text, *pseudo, *versions, Path(__file__).read_text(encoding="utf-8")):
        digest.update(part.encode())
        digest.update(b"\0")
    root = Path(directory) if directory else Path(tempfile.gettempdir()) / f"touchline-sam-{os.getuid()}"
    return root / f"{digest.hexdigest()}.json"


def _write_atomically(path: Path, translated: dict[str, Any]) -> None:
    """Concurrent test runs share the cache: write a private file, then rename it into place."""
    try:
        text = json.dumps(translated)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except (OSError, TypeError, ValueError):
        pass  # a cache only: a failed write costs the next process a translation


def _translate(text: str, pseudo: tuple[str, str, str, str]) -> dict[str, Any]:
    from samtranslator.translator.transform import transform  # type: ignore[import-untyped]

    raw = parse_template_text(text)
    document = copy.deepcopy(raw)
    for resource in (document.get("Resources") or {}).values():
        properties = resource.get("Properties") or {}
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):  # local paths: the translator wants S3
                properties[key] = _LOCAL_CODE + properties[key].strip("/")
    region, account_id, partition, stack_name = pseudo
    parameters = {
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::Partition": partition,
        "AWS::StackName": stack_name,
    }
    translated: dict[str, Any] = transform(document, parameters, _ManagedPolicies())
    return translated


def function_roles(template_path: Path, resolver: Resolver) -> dict[str, FunctionRole]:
    """Every `AWS::Serverless::Function`'s role, its statements resolved for this stack."""
    translated = translate(template_path, resolver)
    resources = translated.get("Resources") or {}
    roles: dict[str, FunctionRole] = {}
    for logical_id in resolver.template.resources:
        if resolver.template.resources[logical_id].type != SERVERLESS_FUNCTION:
            continue
        role = resources.get(f"{logical_id}Role") or _explicit_role(resources, logical_id)
        if role is None or role.get("Type") != ROLE_TYPE:
            continue
        roles[logical_id] = _resolve_role(logical_id, role.get("Properties") or {}, resolver)
    return roles


def _explicit_role(resources: dict[str, Any], function: str) -> dict[str, Any] | None:
    """The template's own role when a function names it (`Role: !GetAtt MyRole.Arn`)."""
    reference = (resources.get(function, {}).get("Properties") or {}).get("Role")
    if isinstance(reference, dict) and "Fn::GetAtt" in reference:
        target = reference["Fn::GetAtt"]
        name = target[0] if isinstance(target, list) else str(target).split(".", 1)[0]
        found: dict[str, Any] | None = resources.get(name)
        return found
    return None


def _resolve_role(function: str, properties: dict[str, Any], resolver: Resolver) -> FunctionRole:
    role = FunctionRole(function)
    for policy in properties.get("Policies") or []:
        document = policy.get("PolicyDocument") or {}
        statements = document.get("Statement") or []
        resolved = []
        for statement in [statements] if isinstance(statements, dict) else statements:
            try:
                resolved.append(resolver.resolve(statement))
            except UnresolvableError as exc:
                role.dropped.append(f"{policy.get('PolicyName')}: {exc}")
        if resolved:
            role.documents.append({"Version": "2012-10-17", "Statement": resolved})
    for arn in properties.get("ManagedPolicyArns") or []:
        try:
            name = str(resolver.resolve(arn)).rsplit("/", 1)[-1]
        except UnresolvableError as exc:
            role.dropped.append(f"managed policy: {exc}")
            continue
        managed = managed_policies().get(name)
        if managed is None:
            role.dropped.append(f"managed policy {arn}: unknown locally")
            continue
        role.documents.append(copy.deepcopy(managed["Document"]))
    return role
