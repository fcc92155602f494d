"""Lambda handler packages, shipped inside refarch as assets (one sub-package per construct).

Nothing here imports aws_cdk: this code runs in Lambda, not at synth.
"""
