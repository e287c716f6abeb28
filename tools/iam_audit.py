"""IAM audit of the local stack: the AWS calls each function made, against what its role allows on AWS.

Locally IAM is not enforced, so a call outside a function's policies works here and fails after deploy.
The roles are the ones CloudFormation will create: the local stack reads template.yaml through samtranslator
(the SAM transform itself, local.sam_transform), so policy templates (DynamoDBCrudPolicy, SQSSendMessagePolicy,
...), event-source and destination permissions become concrete statements; their intrinsics are resolved to
the local stack's physical values. Recorded calls come from `local.aws_calls` (`stack.aws_calls`).

Checked, per recorded call:
- the IAM action: the operation name, except where IAM differs (lambda Invoke -> InvokeFunction, SQS and
  S3 batch/multipart/head/list operations); TransactWriteItems/TransactGetItems need PutItem, UpdateItem,
  DeleteItem, ConditionCheckItem, GetItem per table, as IAM evaluates them;
- the resource, for calls naming one of: DynamoDB table (and index), SQS queue, EventBridge bus, Step
  Functions state machine or execution, Secrets Manager secret, Lambda function, S3 bucket/object; other
  calls are checked on the action alone (a statement on any resource allows them);
- Allow and Deny statements with wildcards (`*`, `?`) in actions (case-insensitive) and resources; inline
  role policies, AWS::IAM::Policy resources attached to the role, and the AWS managed policies SAM attaches.
Not checked: Conditions (a statement with one counts as allowing), NotAction/NotResource statements (ignored),
resource policies, permission boundaries, SCPs, KMS key policies, other managed policies (they allow nothing
here), the second resource of S3 CopyObject, calls made from threads a handler starts itself, and state
machines' own roles (only functions are audited).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from local.aws_calls import AwsCall

_LOGS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
MANAGED_POLICIES = {  # the AWS managed policies SAM attaches to function roles: all on Resource "*"
    "AWSLambdaBasicExecutionRole": _LOGS,
    "AWSXrayWriteOnlyAccess": ("xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                               "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"),
    "AWSLambdaSQSQueueExecutionRole": ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", *_LOGS),
    "AWSLambdaDynamoDBExecutionRole": ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                                       "dynamodb:ListStreams", *_LOGS),
    "AWSLambdaKinesisExecutionRole": ("kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
                                      "kinesis:GetShardIterator", "kinesis:ListShards", "kinesis:ListStreams",
                                      "kinesis:SubscribeToShard", *_LOGS),
}
_IAM_ACTION = {("lambda", "Invoke"): "InvokeFunction", ("lambda", "InvokeAsync"): "InvokeFunction",
               ("lambda", "InvokeWithResponseStream"): "InvokeFunction",
               ("sqs", "SendMessageBatch"): "SendMessage", ("sqs", "DeleteMessageBatch"): "DeleteMessage",
               ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility",
               ("s3", "HeadObject"): "GetObject", ("s3", "GetObjectAttributes"): "GetObject",
               ("s3", "HeadBucket"): "ListBucket", ("s3", "ListObjects"): "ListBucket",
               ("s3", "ListObjectsV2"): "ListBucket", ("s3", "ListObjectVersions"): "ListBucketVersions",
               ("s3", "DeleteObjects"): "DeleteObject", ("s3", "CopyObject"): "PutObject",
               ("s3", "CreateMultipartUpload"): "PutObject", ("s3", "UploadPart"): "PutObject",
               ("s3", "CompleteMultipartUpload"): "PutObject"}


@dataclass(frozen=True, order=True)
class Finding:
    function: str
    action: str  # "dynamodb:BatchGetItem"
    resource: str  # the ARN checked ("" when the call names no resource)
    reason: str

    def __str__(self) -> str:
        where = f" on {self.resource}" if self.resource else ""
        return f"{self.function}: {self.action}{where} - {self.reason}"


@dataclass(frozen=True)
class Statement:
    effect: str  # "Allow" | "Deny"
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    source: str  # the policy it comes from


def audit(stack: Any, calls: dict[str, set[AwsCall]] | None = None) -> list[Finding]:
    """Every recorded call (or the given ones) that the function's role in the template does not allow."""
    calls = stack.aws_calls if calls is None else calls
    roles = policies(stack)
    findings = set()
    for function, made in calls.items():
        statements = roles.get(function)
        for call in made:
            arn = resource_arn(call, stack)
            for action in iam_actions(call):
                reason = "the template gives the function no role it defines" if statements is None else \
                    verdict(statements, action, arn)
                if reason:
                    findings.add(Finding(function, action, arn or call.resource, reason))
    return sorted(findings)


def report(stack: Any) -> str:
    """What `erphub up` prints when it stops (a call: an operation on one resource, however often it was made)."""
    calls = stack.aws_calls
    checked = sum(len(made) for made in calls.values())
    findings = audit(stack, calls)
    return "\n".join([f"IAM audit: {checked} calls checked, {len(findings)} not allowed by the template",
                      *(f"  {finding}" for finding in findings)])


def iam_actions(call: AwsCall) -> list[str]:
    if call.parts:
        return [f"{call.service}:{part}" for part in call.parts]
    return [f"{call.service}:{_IAM_ACTION.get((call.service, call.operation), call.operation)}"]


def resource_arn(call: AwsCall, stack: Any) -> str | None:
    """The ARN IAM evaluates for the resource a call names; None where the audit checks the action only."""
    name, service = call.resource, call.service
    region, account = stack.template.region, stack.template.account_id
    if not name:
        return None
    if name.startswith("arn:"):
        return name
    if service == "dynamodb":
        return f"arn:aws:dynamodb:{region}:{account}:table/{name}"
    if service == "sqs":  # a queue URL (or a queue name): the name is its last segment
        return f"arn:aws:sqs:{region}:{account}:{name.rstrip('/').rsplit('/', 1)[-1]}"
    if service == "events":
        return f"arn:aws:events:{region}:{account}:event-bus/{name}"
    if service == "secretsmanager":  # by name: the secret's ARN ends in -<6 random characters>
        return _secret_arns(stack).get(name, f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-??????")
    if service == "lambda":  # a name, name:qualifier, or a partial ARN (account:function:name)
        return f"arn:aws:lambda:{region}:{name}" if ":function:" in name else \
            f"arn:aws:lambda:{region}:{account}:function:{name}"
    if service == "s3":
        return f"arn:aws:s3:::{name}"
    return None


def policies(stack: Any) -> dict[str, list[Statement]]:
    """Each function's role statements after the SAM transform, with the stack's physical values in them."""
    template = stack.template
    resources = template.resources  # the transformed template (local.sam_transform): the roles AWS creates
    result: dict[str, list[Statement]] = {}
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::Lambda::Function" or logical_id not in template.physical:
            continue
        role = resource.get("Properties", {}).get("Role")
        role_id = role["Fn::GetAtt"][0] if isinstance(role, dict) and "Fn::GetAtt" in role else None
        if role_id not in resources:
            continue
        props = resources[role_id].get("Properties", {})
        documents = [(p.get("PolicyName", role_id), p.get("PolicyDocument", {})) for p in props.get("Policies", [])]
        documents += [(lid, r["Properties"].get("PolicyDocument", {})) for lid, r in resources.items()
                      if r.get("Type") == "AWS::IAM::Policy" and {"Ref": role_id} in r["Properties"].get("Roles", [])]
        statements = [s for name, document in documents for s in _statements(template, name, document)]
        for arn in props.get("ManagedPolicyArns", []):
            name = arn.rsplit("/", 1)[-1] if isinstance(arn, str) else str(arn)
            statements.append(Statement("Allow", MANAGED_POLICIES.get(name, ()), ("*",), name))
        result[logical_id] = statements
    return result


def _statements(template: Any, source: str, document: dict[str, Any]) -> list[Statement]:
    statements = document.get("Statement", [])
    result = []
    for statement in statements if isinstance(statements, list) else [statements]:
        if "Action" not in statement or "Resource" not in statement:
            continue  # NotAction / NotResource: not evaluated
        try:
            resources = template.resolve(statement["Resource"])
        except (KeyError, NotImplementedError, ValueError):
            resources = []  # a reference the local stack cannot resolve: allows nothing here
        result.append(Statement(statement.get("Effect", "Allow"), tuple(_as_list(statement["Action"])),
                                tuple(str(r) for r in _as_list(resources)), source))
    return result


def verdict(statements: list[Statement], action: str, arn: str | None) -> str | None:
    """None when allowed, else why not."""
    def grants(statement: Statement) -> bool:
        return any(_matches(pattern, action, True) for pattern in statement.actions)

    def applies(statement: Statement) -> bool:
        return grants(statement) and (arn is None or any(_matches(r, arn) for r in statement.resources))

    denied = next((s for s in statements if s.effect == "Deny" and applies(s)), None)
    if denied:
        return f"explicitly denied by {denied.source}"
    if any(s.effect == "Allow" and applies(s) for s in statements):
        return None
    elsewhere = sorted({r for s in statements if s.effect == "Allow" and grants(s) for r in s.resources})
    if elsewhere:
        return f"allowed only on {', '.join(elsewhere)}"
    return f"no statement of the role allows {action}"


@functools.lru_cache(maxsize=512)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = ".*".join(".".join(re.escape(part) for part in chunk.split("?")) for chunk in pattern.split("*"))
    return re.compile(regex, re.IGNORECASE if ignore_case else 0)


def _matches(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return _glob(pattern, ignore_case).fullmatch(value) is not None


def _secret_arns(stack: Any) -> dict[str, str]:
    return {attrs["Name"]: attrs["Ref"] for attrs in stack.template.physical.values()
            if str(attrs.get("Ref", "")).startswith("arn:aws:secretsmanager:") and "Name" in attrs}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
