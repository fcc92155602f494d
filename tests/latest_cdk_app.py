"""Runs inside ``.venv-latest`` (see tests/latest_cdk.py), never in the development venv.

Also runs inside ``.venv-floor`` (the oldest aws-cdk-lib the declared range admits).

Synthesizes every reference stack of the *installed* cdk-refarch wheel in one App, with every
compliance pack as a validation plugin, on whatever aws-cdk-lib, constructs and cdk-nag that venv
holds, and prints one JSON report on stdout: the versions, the stacks, which exported constructs
were built, and the packs' error findings.

    .venv-latest/bin/python tests/latest_cdk_app.py <cdk.json> <outdir>
"""

from __future__ import annotations

import inspect
import json
import os
import sys
from importlib import metadata
from pathlib import Path
from typing import Any


def main(cdk_json: Path, outdir: Path) -> dict[str, Any]:
    # No built-in template validation (3.5 s; tests/test_full_synth.py runs it): read by aws-cdk-lib's
    # Node side when its jsii runtime starts, so set before the import; releases without it ignore it.
    os.environ["CDK_VALIDATION"] = "false"
    import aws_cdk as cdk
    import constructs

    import refarch
    import refarch.constructs
    from refarch.compliance import apply_packs
    from refarch.stacks import build_reference_stacks

    # Unit-test settings: no asset bundling (pip installs), no 3.5 s built-in template validation;
    # tests/test_full_synth.py runs both on the locked versions.
    context = {**json.loads(cdk_json.read_text())["context"], "aws:cdk:bundling-stacks": []}
    app = cdk.App(context=context, outdir=str(outdir))
    stacks = build_reference_stacks(app)
    apply_packs(app)
    app.synth()

    exported = [
        obj
        for name in refarch.constructs.__all__
        if inspect.isclass(obj := getattr(refarch.constructs, name)) and issubclass(obj, constructs.Construct)
    ]
    built = {type(node) for node in app.node.find_all()}
    report_file = outdir / "validation-report.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else {}
    return {
        "refarch_file": refarch.__file__,
        "versions": {name: metadata.version(name) for name in ("cdk-refarch", "aws-cdk-lib", "constructs", "cdk-nag")},
        "stacks": sorted(stacks),
        "constructs_built": sorted(c.__name__ for c in exported if any(issubclass(b, c) for b in built)),
        "constructs_missing": sorted(c.__name__ for c in exported if not any(issubclass(b, c) for b in built)),
        "violations": [
            f"{plugin['pluginName']}: {v['ruleName']} at {[c['constructPath'] for c in v['violatingConstructs']]}"
            for plugin in report.get("pluginReports", [])
            for v in plugin.get("violations", [])
            if v.get("severity") == "error"
        ],
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2]))))
