"""The aws-cdk-lib feature flags this library depends on, said once.

Neutral data (no CDK import): ``refarch.constructs._flags`` pins each flag on the constructs that
need it, and ``python -m refarch doctor`` checks that an app's ``cdk.json`` sets them for the app's
own resources too.
"""

from __future__ import annotations

#: Without it, a bucket that receives server access logs is given the ``LogDeliveryWrite`` ACL,
#: which S3 refuses on buckets that enforce bucket-owner object ownership (ACLs disabled, as every
#: bucket of this library is): CDK fails with "objectOwnership must be set to "ObjectWriter" when
#: accessControl is "LogDeliveryWrite"". With it, log delivery is granted by a bucket policy.
S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"

#: Flag -> (the value needed, why).
REQUIRED_FLAGS: dict[str, tuple[object, str]] = {
    S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY: (
        True,
        "buckets with server access logs deliver them through a bucket policy to a log bucket that enforces "
        "bucket-owner object ownership (no ACLs); the refarch constructs set it on themselves, but your app's "
        "own buckets that log to such a bucket fail construction without it",
    ),
}
