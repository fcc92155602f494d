"""Run the library's compliance packs over a synthesized stack and list what is not acknowledged.

Works on any stack, the library's or yours::

    from refarch.testing.compliance import unacknowledged_errors

    assert not unacknowledged_errors(my_stack)
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack

from refarch.compliance import packs


def unacknowledged_errors(stack: Stack, *, allowed_regions: Sequence[str] | None = None) -> list[str]:
    """Every error-level finding of :func:`refarch.compliance.packs` on ``stack`` that no
    acknowledgment covers, one line per rule with the construct paths it names.

    Each pack synthesizes the stack's App (once; later calls reuse the assembly), so build every
    stack of the App before calling this.

    :param allowed_regions: Passed to the GDPR pack's residency rule. Default: - not checked
    """
    findings = []
    for pack in packs(allowed_regions=allowed_regions):
        for violation in pack.validate_scope(stack).violations:
            if violation.severity == "error":
                paths = sorted({str(r.construct_path) for r in violation.violating_resources})
                findings.append(f"{violation.rule_name}: {violation.description}\n    " + "\n    ".join(paths))
    return findings
