"""Construct-vs-plain-L2 pairs for bench/synth.py.

Each module here defines ``with_construct(stack)`` and ``with_plain_l2(stack)``, which add the same
resources to ``stack``: once through a refarch construct, once written directly with
aws-cdk-lib L2s (what a user would write without the library). bench/synth.py times both.
"""
