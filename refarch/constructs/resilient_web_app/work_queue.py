"""The optional work queue between the layers, for work that can wait: SQS encrypted with the customer key,
TLS-only, with a dead-letter queue that catches what fails ``max_receive_count`` times."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from refarch.constructs._dashboards import build_alarm

#: What a producer needs: send, and the data key SQS encrypts each message with.
SEND_ACTIONS = ("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl")
SEND_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
#: What a consumer needs: receive, extend, delete, and decrypt.
CONSUME_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
)
CONSUME_KEY_ACTIONS = ("kms:Decrypt",)


@dataclass(frozen=True)
class WorkQueue:
    queue: sqs.Queue
    dead_letter_queue: sqs.Queue
    encryption_key: kms.IKey

    def grant_send(self, grantee: iam.IGrantable) -> iam.Grant:
        grant = self.queue.grant(grantee, *SEND_ACTIONS)
        return grant.combine(self.encryption_key.grant(grantee, *SEND_KEY_ACTIONS))

    def grant_consume(self, grantee: iam.IGrantable) -> iam.Grant:
        grant = self.queue.grant(grantee, *CONSUME_ACTIONS)
        return grant.combine(self.encryption_key.grant(grantee, *CONSUME_KEY_ACTIONS))


def build_work_queue(
    scope: Construct, *, encryption_key: kms.IKey, max_receive_count: int, removal_policy: RemovalPolicy
) -> WorkQueue:
    def queue(id: str, **extra: object) -> sqs.Queue:
        return sqs.Queue(
            scope,
            id,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=encryption_key,
            data_key_reuse=Duration.minutes(5),
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=removal_policy,
            **extra,  # type: ignore[arg-type]
        )

    dead_letters = queue("DeadLetters")
    work = queue(
        "Queue",
        visibility_timeout=Duration.minutes(5),
        dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=max_receive_count, queue=dead_letters),
    )
    return WorkQueue(work, dead_letters, encryption_key)


def dead_letter_alarm(scope: Construct, work: WorkQueue) -> cloudwatch.Alarm:
    """Any message in the dead-letter queue is work that failed every try: someone must look."""
    return build_alarm(
        scope,
        "WorkDeadLetters",
        metric=work.dead_letter_queue.metric_approximate_number_of_messages_visible(
            statistic="Maximum", period=Duration.minutes(1)
        ),
        threshold=0,
        comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        description="Messages in the work queue's dead-letter queue: work that failed every try",
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
