"""Environment variables: the process-wide fake AWS setup and each function's Lambda environment.

All functions share one process and so one `os.environ`; the stack applies each function's
variables when it imports that function. Template variables are mostly disjoint between functions,
and those that are not (`POWERTOOLS_SERVICE_NAME`, `AWS_LAMBDA_FUNCTION_NAME`) only label logs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field

from .intrinsics import UnresolvableError
from .resources import LocalResources
from .template import FunctionSpec, TemplateError

FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

# Variables that would send boto3 to a real account, or to another endpoint, if left in place.
_CLEARED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
_CLEARED_PREFIXES = ("AWS_ENDPOINT_URL_",)


def aws_environment(endpoint_url: str, region: str) -> dict[str, str]:
    """What every boto3 client in the process needs to talk to moto instead of AWS."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        **FAKE_CREDENTIALS,
        # Lambda runs in UTC; so does the local stack, whatever the developer's machine says.
        "TZ": ":UTC",
    }


def apply_process_environment(
    values: Mapping[str, str], environ: MutableMapping[str, str] | None = None
) -> None:
    """Point the whole process at moto: set `values`, drop profiles and per-service endpoints."""
    env = os.environ if environ is None else environ
    for key in list(env):
        if key in _CLEARED or key.startswith(_CLEARED_PREFIXES):
            del env[key]
    env.update(values)
    if environ is None and hasattr(time, "tzset"):
        time.tzset()


@dataclass(frozen=True)
class FunctionEnvironment:
    variables: dict[str, str]
    # Template variables that could not be resolved locally (left unset), with the reason.
    skipped: dict[str, str] = field(default_factory=dict)


def function_environment(
    spec: FunctionSpec,
    resources: LocalResources,
    *,
    function_name: str,
    overrides: Mapping[str, str] | None = None,
) -> FunctionEnvironment:
    """Lambda's reserved variables, then the template's (resolved), then the dev `overrides`."""
    region = resources.pseudo.region
    variables = {
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "_HANDLER": spec.handler,
        # What `sam local` sets; Powertools and other libraries use it to skip X-Ray and the like.
        "AWS_SAM_LOCAL": "true",
    }
    skipped: dict[str, str] = {}
    for key, raw in spec.environment.items():
        try:
            value = resources.resolver.resolve(raw)
        except UnresolvableError as exc:
            skipped[key] = str(exc)
            continue
        variables[str(key)] = _variable_text(spec.logical_id, str(key), value)
    variables.update(overrides or {})
    for key in overrides or {}:
        skipped.pop(key, None)
    return FunctionEnvironment(variables, skipped)


def _variable_text(function: str, key: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise TemplateError(f"{function}: environment variable {key} resolves to {value!r}, not a string")
