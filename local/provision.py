"""Creates every resource of a template in the embedded AWS, in dependency order, and records what it could
not create (one clear line each, never silently)."""

from __future__ import annotations

import json
import secrets
import string
from pathlib import Path
from typing import Any

from local.embedded_aws import EmbeddedAws
from local.template import Template
from local.wiring import ReportLine, Wiring

DEV_SECRETS = Path(__file__).with_name("dev-secrets.json")
SKIP_REASONS = {
    "AWS::IAM::": "IAM is not enforced locally",
    "AWS::Lambda::Permission": "IAM is not enforced locally",
    "AWS::SQS::QueuePolicy": "IAM is not enforced locally",
    "AWS::Events::EventBusPolicy": "IAM is not enforced locally",
    "AWS::ApiGateway::Account": "API Gateway's account settings (its CloudWatch role) are not emulated",
    "AWS::ApiGateway::": "served by the local HTTP gateway (Cognito authorizers and API keys enforced; stage "
                         "settings not)",
    "AWS::CloudWatch::": "alarms and dashboards are not emulated",
    "AWS::KMS::": "encryption is not emulated",
}


class Provisioner:
    def __init__(self, template: Template, aws: EmbeddedAws, dev_secrets: Path = DEV_SECRETS) -> None:
        self.t = template
        self.aws = aws
        self.wiring = Wiring()
        self.dev_secrets = read_dev_secrets(dev_secrets)

    def run(self) -> Wiring:
        from local import cognito_authorizer, provision_compute, provision_events

        creators = {
            "AWS::DynamoDB::Table": self.table,
            "AWS::SQS::Queue": self.queue, "AWS::SecretsManager::Secret": self.secret,
            "AWS::S3::Bucket": self.bucket, "AWS::Logs::LogGroup": self.log_group, "AWS::SNS::Topic": self.topic,
            "AWS::SSM::Parameter": self.parameter,
            **provision_events.creators(self), **provision_compute.creators(self), **cognito_authorizer.creators(self),
        }
        for logical_id, resource in self.t.active().items():
            resource_type = resource.get("Type", "")
            creator = creators.get(resource_type)
            if creator is None:
                reason = next((why for prefix, why in SKIP_REASONS.items() if resource_type.startswith(prefix)),
                              "not supported by the local stack")
                # the HTTP gateway serves the APIs' routes, stages, keys and usage plans (not the account settings)
                served = resource_type.startswith("AWS::ApiGateway::") and not resource_type.endswith("::Account")
                self.note(logical_id, resource_type, "local" if served else "skipped", reason)
                continue
            try:
                creator(logical_id, self.t.props(logical_id))
            except Exception as exc:
                self.note(logical_id, resource_type, "skipped", f"failed to create: {type(exc).__name__}: {exc}")
        provision_compute.routes(self)
        return self.wiring

    def note(self, logical_id: str, resource_type: str, status: str, detail: str = "") -> None:
        self.wiring.report.append(ReportLine(logical_id, resource_type, status, detail))

    def record(self, logical_id: str, ref: Any, detail: str = "", **attributes: Any) -> None:
        self.t.physical[logical_id] = {"Ref": ref, **attributes}
        self.note(logical_id, self.t.resources[logical_id]["Type"], "created", detail or str(ref))

    # --- data ------------------------------------------------------------------------------------------
    def table(self, logical_id: str, props: dict[str, Any]) -> None:
        name = self.t.name_for(logical_id, props.get("TableName"))
        request: dict[str, Any] = {"TableName": name, "KeySchema": props["KeySchema"],
                                   "AttributeDefinitions": props["AttributeDefinitions"],
                                   "BillingMode": props.get("BillingMode", "PROVISIONED")}
        for key in ("ProvisionedThroughput", "GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if key in props:
                request[key] = props[key]
        if request["BillingMode"] == "PROVISIONED" and "ProvisionedThroughput" not in request:
            request["ProvisionedThroughput"] = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        if "StreamSpecification" in props:
            request["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        dynamodb = self.aws.client("dynamodb")
        description = dynamodb.create_table(**request)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled", True):
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={
                "Enabled": True, "AttributeName": ttl["AttributeName"]})
        stream = description.get("LatestStreamArn")
        self.record(logical_id, name, name + (" (stream)" if stream else ""), Arn=description["TableArn"],
                    StreamArn=stream)

    def queue(self, logical_id: str, props: dict[str, Any]) -> None:
        fifo = str(props.get("FifoQueue", "false")).lower() == "true"
        name = self.t.name_for(logical_id, props.get("QueueName"), ".fifo" if fifo else "")
        attributes = {key: json.dumps(value) if isinstance(value, dict) else str(value).lower()
                      if isinstance(value, bool) else str(value)
                      for key, value in props.items() if key not in ("QueueName", "Tags", "KmsMasterKeyId",
                                                                     "KmsDataKeyReusePeriodSeconds")}
        sqs = self.aws.client("sqs")
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = f"arn:aws:sqs:{self.t.region}:{self.t.account_id}:{name}"
        redrive = props.get("RedrivePolicy")
        detail = name + (f" (DLQ {redrive['deadLetterTargetArn'].rsplit(':', 1)[-1]} after "
                         f"{redrive['maxReceiveCount']} receives)" if redrive else "")
        self.record(logical_id, url, detail, Arn=arn, QueueName=name, QueueUrl=url)

    def secret(self, logical_id: str, props: dict[str, Any]) -> None:
        name = self.t.name_for(logical_id, props.get("Name"))
        if logical_id in self.dev_secrets:
            value, origin = self.dev_secrets[logical_id], "local dev secrets"
            value = value if isinstance(value, str) else json.dumps(value)
        elif "SecretString" in props:
            value, origin = props["SecretString"], "template SecretString"
        else:
            value, origin = _generate(props.get("GenerateSecretString", {})), "generated"
        arn = self.aws.client("secretsmanager").create_secret(Name=name, SecretString=value)["ARN"]
        self.record(logical_id, arn, f"{name} ({origin})", Id=arn, Name=name)

    def bucket(self, logical_id: str, props: dict[str, Any]) -> None:
        name = self.t.name_for(logical_id, props.get("BucketName")).lower()
        self.aws.client("s3").create_bucket(Bucket=name)
        self.record(logical_id, name, Arn=f"arn:aws:s3:::{name}", DomainName=f"{name}.s3.amazonaws.com",
                    RegionalDomainName=f"{name}.s3.{self.t.region}.amazonaws.com")

    def log_group(self, logical_id: str, props: dict[str, Any]) -> None:
        name = self.t.name_for(logical_id, props.get("LogGroupName"))
        logs = self.aws.client("logs")
        logs.create_log_group(logGroupName=name)
        if "RetentionInDays" in props:
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
        self.record(logical_id, name, Arn=f"arn:aws:logs:{self.t.region}:{self.t.account_id}:log-group:{name}:*")

    def parameter(self, logical_id: str, props: dict[str, Any]) -> None:
        name = self.t.name_for(logical_id, props.get("Name"))
        self.aws.client("ssm").put_parameter(Name=name, Value=str(props["Value"]), Type=props.get("Type", "String"),
                                             Overwrite=True)
        self.record(logical_id, name, Type=props.get("Type", "String"), Value=str(props["Value"]))

    def topic(self, logical_id: str, props: dict[str, Any]) -> None:
        name = self.t.name_for(logical_id, props.get("TopicName"))
        arn = self.aws.client("sns").create_topic(Name=name)["TopicArn"]
        self.record(logical_id, arn, name, TopicArn=arn, TopicName=name)


def read_dev_secrets(path: Path = DEV_SECRETS) -> dict[str, Any]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _generate(spec: dict[str, Any]) -> str:
    length = int(spec.get("PasswordLength", 32))
    excluded = set(spec.get("ExcludeCharacters", ""))
    alphabet = [c for c in string.ascii_letters + string.digits if c not in excluded]
    password = "".join(secrets.choice(alphabet) for _ in range(length))
    if "SecretStringTemplate" in spec and "GenerateStringKey" in spec:
        document = json.loads(spec["SecretStringTemplate"])
        document[spec["GenerateStringKey"]] = password
        return json.dumps(document)
    return password
