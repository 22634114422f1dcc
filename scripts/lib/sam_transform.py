"""Expand template.yaml with the SAM translator, offline, into plain CloudFormation JSON.

Usage: python sam_transform.py TEMPLATE OUTPUT.json

Why: some mistakes only exist after the transform. docs/architecture.md, rule 6's circular
dependency (bucket notification -> invoke permission -> function -> role ->
bucket) appears only once SAM has generated the notification, the permission and
the role, so scripts/lint-template runs cfn-lint on this output as well.

No AWS call is made: the managed-policy loader is a stub (the template names
no managed policies by bare name, only by ARN, so nothing needs resolving).
"""

import json
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class OfflinePolicyLoader:
    """Stands in for ManagedPolicyLoader, which would call IAM ListPolicies."""

    def load(self):
        return {}


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = sys.argv[1], sys.argv[2]
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with open(src, encoding="utf-8") as f:
        template = yaml_parse(f.read())
    # Before `sam build`/`sam package`, CodeUri is a local folder; the translator
    # only accepts S3 URIs there. Any placeholder will do (cfn-lint does the same).
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties") or {}
        if resource.get("Type") in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion"):
            for key in ("CodeUri", "ContentUri"):
                if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
                    props[key] = "s3://thumbs-offline-placeholder/code.zip"
    try:
        output = transform(template, {}, OfflinePolicyLoader())
    except Exception as err:  # InvalidDocumentException carries the readable causes
        causes = getattr(err, "causes", None)
        detail = "\n".join(f"  - {c.message}" for c in causes) if causes else ""
        print(f"{src}: SAM transform failed: {err}\n{detail}", file=sys.stderr)
        return 1
    with open(dst, "w", encoding="utf-8") as f:
        json.dump(output, f, indent=2, sort_keys=True)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
