"""The personal-data bucket of :class:`~refarch.constructs.EncryptedDataStore`: SSE-KMS under the data
key, objects and old versions expiring with the retention, Object Lock for records that must be kept."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from refarch.constructs import _builders
from refarch.constructs.encrypted_data_store.keys import deny_other_encryption


def build_bucket(
    scope: Construct,
    *,
    key: kms.IKey,
    access_log_bucket: s3.IBucket,
    retention: Duration,
    versioned: bool,
    noncurrent_retention: Duration,
    lock_retention: Duration | None,
    lock_mode: s3.ObjectLockMode,
    removal_policy: RemovalPolicy,
) -> s3.Bucket:
    """The bucket; uploads that ask for any other encryption than the data key are denied."""
    bucket = _builders.build_data_bucket(
        scope,
        "Bucket",
        encryption_key=key,
        server_access_logs_bucket=access_log_bucket,
        server_access_logs_prefix="personal-data/",
        removal_policy=removal_policy,
        lifecycle_rules=_lifecycle(retention, noncurrent_retention if versioned else None),
        versioned=versioned,
        object_lock_enabled=True if lock_retention is not None else None,
        object_lock_default_retention=_lock(lock_retention, lock_mode),
    )
    deny_other_encryption(bucket, key)
    return bucket


def _lifecycle(retention: Duration, noncurrent_retention: Duration | None) -> list[s3.LifecycleRule]:
    """Objects expire after ``retention``; with versioning, old versions after ``noncurrent_retention``
    and the delete markers left behind once they are gone."""
    rules = [
        s3.LifecycleRule(
            id="ExpirePersonalData",
            expiration=Duration.days(retention.to_days()),
            noncurrent_version_expiration=(
                Duration.days(noncurrent_retention.to_days()) if noncurrent_retention is not None else None
            ),
            abort_incomplete_multipart_upload_after=Duration.days(7),
        )
    ]
    if noncurrent_retention is not None:
        rules.append(s3.LifecycleRule(id="RemoveExpiredDeleteMarkers", expired_object_delete_marker=True))
    return rules


def _lock(retention: Duration | None, mode: s3.ObjectLockMode) -> s3.ObjectLockRetention | None:
    if retention is None:
        return None
    days = Duration.days(retention.to_days())
    if mode == s3.ObjectLockMode.COMPLIANCE:
        return s3.ObjectLockRetention.compliance(days)
    return s3.ObjectLockRetention.governance(days)
