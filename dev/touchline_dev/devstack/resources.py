"""The template's resources in the local stack: their physical names, ARNs, URLs, and moto copies.

Names are deterministic (`<QueueName>` if the template sets one, else `<stack>-<LogicalId>`), so
`!Ref`/`!GetAtt` resolve before anything exists and the same table name comes back on every
restart. Only SQS queues and DynamoDB tables are created in moto; everything else just gets a
plausible name so that environment variables referring to it still resolve.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .cognito import UserPoolInfo, client_parameters, pool_parameters, use_stable_ids
from .intrinsics import PseudoParameters, Resolver, UnresolvableError
from .template import (
    DYNAMODB_TABLE,
    HTTP_API,
    IMPLICIT_HTTP_API,
    LAMBDA_FUNCTION,
    LAYER_VERSION,
    SERVERLESS_FUNCTION,
    SQS_QUEUE,
    USER_POOL,
    USER_POOL_CLIENT,
    Resource,
    Template,
    TemplateError,
    active_resources,
)

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

_NAME_PROPERTY = {
    SQS_QUEUE: "QueueName",
    DYNAMODB_TABLE: "TableName",
    USER_POOL: "UserPoolName",
    USER_POOL_CLIENT: "ClientName",
    SERVERLESS_FUNCTION: "FunctionName",
    LAMBDA_FUNCTION: "FunctionName",
    LAYER_VERSION: "LayerName",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::IAM::Role": "RoleName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::SSM::Parameter": "Name",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::Serverless::StateMachine": "Name",
}

# Types whose `!Ref` is the ARN rather than the name.
_REF_IS_ARN = {"AWS::SecretsManager::Secret", "AWS::SNS::Topic", LAYER_VERSION, "AWS::Lambda::LayerVersion"}

_SQS_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
)


@dataclass(frozen=True)
class QueueInfo:
    logical_id: str
    name: str
    arn: str
    url: str


@dataclass(frozen=True)
class TableInfo:
    logical_id: str
    name: str
    arn: str


class LocalResources:
    """Implements `intrinsics.RefProvider` for one template, one moto endpoint and one HTTP URL."""

    def __init__(
        self,
        template: Template,
        *,
        endpoint_url: str,
        http_base_url: str = "http://127.0.0.1:3000",
        parameter_overrides: dict[str, str] | None = None,
        pseudo: PseudoParameters | None = None,
    ) -> None:
        self.template = template
        self.endpoint_url = endpoint_url.rstrip("/")
        self.http_base_url = http_base_url.rstrip("/")
        self.pseudo = pseudo or PseudoParameters()
        self.resolver = Resolver(
            template, parameter_overrides=parameter_overrides, pseudo=self.pseudo, resources=self
        )
        self.active = {r.logical_id: r for r in active_resources(template, self.resolver)}
        self._names: dict[str, str] = {}
        self._naming: set[str] = set()
        # Cognito ids are moto's to choose: known once `create_user_pools` ran.
        self.user_pools: dict[str, UserPoolInfo] = {}
        self.user_pool_clients: dict[str, str] = {}

    # ------------------------------------------------------------------ naming

    def physical_name(self, logical_id: str) -> str:
        if logical_id not in self._names:
            if logical_id in self._naming:
                raise TemplateError(f"{logical_id}: its name refers to itself")
            self._naming.add(logical_id)
            try:
                self._names[logical_id] = self._make_name(self._resource(logical_id))
            finally:
                self._naming.discard(logical_id)
        return self._names[logical_id]

    def _make_name(self, resource: Resource) -> str:
        prop = _NAME_PROPERTY.get(resource.type)
        if prop and prop in resource.properties:
            return str(self.resolver.resolve(resource.properties[prop]))
        name = f"{self.pseudo.stack_name}-{resource.logical_id}"
        if resource.type == SQS_QUEUE and _is_true(resource.properties.get("FifoQueue")):
            name += ".fifo"
        if resource.type == "AWS::S3::Bucket":
            name = name.lower()
        return name

    def _resource(self, logical_id: str) -> Resource:
        if logical_id == IMPLICIT_HTTP_API:
            return Resource(IMPLICIT_HTTP_API, HTTP_API, {})
        if logical_id not in self.active:
            if logical_id in self.template.resources:
                raise UnresolvableError(f"{logical_id} is not created: its Condition is false")
            raise UnresolvableError(f"no resource {logical_id}")
        return self.active[logical_id]

    def _arn(self, service: str, resource_part: str) -> str:
        p = self.pseudo
        return f"arn:{p.partition}:{service}:{p.region}:{p.account_id}:{resource_part}"

    def api_id(self, logical_id: str) -> str:
        """A stable 10-character id, like API Gateway's."""
        return hashlib.sha256(f"{self.pseudo.stack_name}/{logical_id}".encode()).hexdigest()[:10]

    # ------------------------------------------------------------------ RefProvider

    def ref(self, logical_id: str) -> Any:
        resource = self._resource(logical_id)
        kind = resource.type
        if kind == SQS_QUEUE:
            return self.queue(logical_id).url
        if kind == HTTP_API:
            return self.api_id(logical_id)
        if kind == USER_POOL:
            return self._user_pool(logical_id).pool_id
        if kind == USER_POOL_CLIENT:
            if logical_id not in self.user_pool_clients:
                raise UnresolvableError(f"{logical_id}: the app client is not created yet")
            return self.user_pool_clients[logical_id]
        if kind in _REF_IS_ARN:
            return self.get_att(logical_id, "Arn")
        return self.physical_name(logical_id)

    def get_att(self, logical_id: str, attribute: str) -> Any:
        resource = self._resource(logical_id)
        kind, name = resource.type, self.physical_name(logical_id)
        if kind == SQS_QUEUE:
            queue = self.queue(logical_id)
            values: dict[str, str] = {"Arn": queue.arn, "QueueName": queue.name, "QueueUrl": queue.url}
        elif kind == DYNAMODB_TABLE:
            arn = self._arn("dynamodb", f"table/{name}")
            values = {"Arn": arn, "StreamArn": f"{arn}/stream/local"}
        elif kind in (SERVERLESS_FUNCTION, LAMBDA_FUNCTION):
            values = {"Arn": self._arn("lambda", f"function:{name}")}
        elif kind == HTTP_API:
            values = {"ApiEndpoint": self.http_base_url, "ApiId": self.api_id(logical_id)}
        elif kind == USER_POOL:
            pool = self._user_pool(logical_id)
            values = {
                "Arn": pool.arn,
                "UserPoolId": pool.pool_id,
                "ProviderName": pool.provider_name,
                "ProviderURL": f"https://{pool.provider_name}",
            }
        elif kind == USER_POOL_CLIENT:
            values = {"ClientId": self.ref(logical_id), "Name": name}
        elif kind in (LAYER_VERSION, "AWS::Lambda::LayerVersion"):
            values = {"Arn": self._arn("lambda", f"layer:{name}:1")}
        elif kind == "AWS::Logs::LogGroup":
            values = {"Arn": self._arn("logs", f"log-group:{name}:*")}
        elif kind == "AWS::S3::Bucket":
            values = {
                "Arn": f"arn:{self.pseudo.partition}:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
            }
        elif kind == "AWS::IAM::Role":
            values = {"Arn": f"arn:{self.pseudo.partition}:iam::{self.pseudo.account_id}:role/{name}"}
        elif kind == "AWS::SNS::Topic":
            values = {"TopicArn": self._arn("sns", name), "Arn": self._arn("sns", name), "TopicName": name}
        elif kind == "AWS::SecretsManager::Secret":
            values = {"Arn": self._arn("secretsmanager", f"secret:{name}-local"), "Id": name}
        else:
            service = kind.split("::")[1].lower() if kind.count("::") >= 2 else "local"
            values = {"Arn": self._arn(service, name)}
        if attribute not in values:
            raise UnresolvableError(f"!GetAtt {logical_id}.{attribute}: not available locally")
        return values[attribute]

    # ------------------------------------------------------------------ queues and tables

    def queue(self, logical_id: str) -> QueueInfo:
        name = self.physical_name(logical_id)
        return QueueInfo(
            logical_id=logical_id,
            name=name,
            arn=self._arn("sqs", name),
            url=f"{self.endpoint_url}/{self.pseudo.account_id}/{name}",
        )

    def queues(self) -> list[QueueInfo]:
        return [self.queue(r.logical_id) for r in self.active.values() if r.type == SQS_QUEUE]

    def tables(self) -> list[TableInfo]:
        return [
            TableInfo(r.logical_id, self.physical_name(r.logical_id), self.get_att(r.logical_id, "Arn"))
            for r in self.active.values()
            if r.type == DYNAMODB_TABLE
        ]

    def queue_by_arn(self, arn: str) -> QueueInfo | None:
        return next((q for q in self.queues() if q.arn == arn), None)

    def create_queues(self, sqs: SQSClient) -> list[QueueInfo]:
        """Create every queue, dead-letter queues before the queues that redrive into them."""
        created = []
        for resource in self._queues_in_dependency_order():
            info = self.queue(resource.logical_id)
            attributes = {
                key: _attribute_text(self.resolver.resolve(resource.properties[key]))
                for key in _SQS_ATTRIBUTES
                if key in resource.properties
            }
            if attributes.get("FifoQueue") == "false":
                del attributes["FifoQueue"]
            for key in ("RedrivePolicy", "RedriveAllowPolicy"):
                if key in resource.properties:
                    attributes[key] = json.dumps(self.resolver.resolve(resource.properties[key]))
            url = sqs.create_queue(QueueName=info.name, Attributes=attributes)["QueueUrl"]  # type: ignore[arg-type]
            if url != info.url:
                raise TemplateError(f"moto gave {url} for {info.logical_id}, expected {info.url}")
            created.append(info)
        return created

    def _queues_in_dependency_order(self) -> Iterator[Resource]:
        queues = {r.logical_id: r for r in self.active.values() if r.type == SQS_QUEUE}
        done: set[str] = set()

        def visit(logical_id: str, path: tuple[str, ...]) -> Iterator[Resource]:
            if logical_id in done:
                return
            if logical_id in path:
                raise TemplateError(f"queues redrive into each other: {' -> '.join((*path, logical_id))}")
            policy = queues[logical_id].properties.get("RedrivePolicy") or {}
            target = policy.get("deadLetterTargetArn") if isinstance(policy, dict) else None
            if isinstance(target, dict) and "Fn::GetAtt" in target:
                dlq = target["Fn::GetAtt"]
                dlq_id = dlq.split(".")[0] if isinstance(dlq, str) else dlq[0]
                if dlq_id in queues:
                    yield from visit(dlq_id, (*path, logical_id))
            done.add(logical_id)
            yield queues[logical_id]

        for logical_id in queues:
            yield from visit(logical_id, ())

    def _user_pool(self, logical_id: str) -> UserPoolInfo:
        if logical_id not in self.user_pools:
            raise UnresolvableError(f"{logical_id}: the user pool is not created yet")
        return self.user_pools[logical_id]

    def create_user_pools(self, cognito: CognitoIdentityProviderClient) -> list[UserPoolInfo]:
        """Every user pool, then every app client (clients refer to their pool)."""
        use_stable_ids()
        for resource in self.active.values():
            if resource.type != USER_POOL:
                continue
            props = self.resolver.resolve(resource.properties)
            props.setdefault("UserPoolName", self.physical_name(resource.logical_id))
            created = cognito.create_user_pool(**pool_parameters(props))["UserPool"]
            if "SOFTWARE_TOKEN_MFA" in (props.get("EnabledMfas") or []):
                cognito.set_user_pool_mfa_config(
                    UserPoolId=created["Id"],
                    SoftwareTokenMfaConfiguration={"Enabled": True},
                    MfaConfiguration=props.get("MfaConfiguration", "OFF"),
                )
            self.user_pools[resource.logical_id] = UserPoolInfo(
                resource.logical_id, created["Id"], created["Arn"], self.pseudo.region
            )
        for resource in self.active.values():
            if resource.type != USER_POOL_CLIENT:
                continue
            props = self.resolver.resolve(resource.properties)
            client = cognito.create_user_pool_client(
                UserPoolId=props["UserPoolId"], **client_parameters(props)
            )
            self.user_pool_clients[resource.logical_id] = client["UserPoolClient"]["ClientId"]
        return list(self.user_pools.values())

    def create_tables(self, dynamodb: DynamoDBClient) -> list[TableInfo]:
        created = []
        for resource in self.active.values():
            if resource.type != DYNAMODB_TABLE:
                continue
            props = self.resolver.resolve(resource.properties)
            name = self.physical_name(resource.logical_id)
            kwargs: dict[str, Any] = {
                "TableName": name,
                "AttributeDefinitions": props["AttributeDefinitions"],
                "KeySchema": props["KeySchema"],
                "BillingMode": props.get("BillingMode", "PROVISIONED"),
            }
            if kwargs["BillingMode"] == "PROVISIONED":
                kwargs["ProvisionedThroughput"] = _throughput(props.get("ProvisionedThroughput"))
            for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
                if key in props:
                    kwargs[key] = [_index(i, kwargs["BillingMode"]) for i in props[key]]
            stream = props.get("StreamSpecification")
            if stream:
                kwargs["StreamSpecification"] = {
                    "StreamEnabled": True,
                    "StreamViewType": stream["StreamViewType"],
                }
            dynamodb.create_table(**kwargs)
            ttl = props.get("TimeToLiveSpecification")
            if ttl and _is_true(ttl.get("Enabled")):
                dynamodb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
                )
            created.append(TableInfo(resource.logical_id, name, self.get_att(resource.logical_id, "Arn")))
        return created


def _throughput(value: Any) -> dict[str, int]:
    value = value or {}
    return {
        "ReadCapacityUnits": int(value.get("ReadCapacityUnits", 5)),
        "WriteCapacityUnits": int(value.get("WriteCapacityUnits", 5)),
    }


def _index(index: dict[str, Any], billing_mode: str) -> dict[str, Any]:
    index = dict(index)
    if billing_mode == "PROVISIONED" and "ProvisionedThroughput" not in index:
        index["ProvisionedThroughput"] = _throughput(None)
    if "ProvisionedThroughput" in index:
        index["ProvisionedThroughput"] = _throughput(index["ProvisionedThroughput"])
    return index


def _is_true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _attribute_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
