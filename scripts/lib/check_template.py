"""Check the SAM-transformed template against what thumbs needs (docs/architecture.md, "Platform rules").

Usage: python check_template.py TEMPLATE.yaml TRANSFORMED.json

cfn-lint says whether CloudFormation will accept the template; this says whether
the deployed thing will be thumbs: the routes and which need the API key, binary
media types, the resize trigger, retries, runtime, and that every role reaches
only its prefixes and never the bucket resource itself (docs/architecture.md, rule 6). Prints
one line per problem; exit 1 if any.
"""

import json
import re
import sys

BUCKET = "${AWS::StackName}-${AWS::AccountId}-images"
ENV = {"BUCKET_NAME", "THUMB_SIZES", "JPEG_QUALITY", "MAX_PIXELS", "MAX_UPLOAD_BYTES", "MAX_INPUT_BYTES"}
FUNCTIONS = {"UploadFunction": "thumbs-upload", "ResizeFunction": "thumbs-resize", "ServeFunction": "thumbs-serve"}
# (method, path) -> (function, needs API key)
ROUTES = {
    ("post", "/images"): ("UploadFunction", True),
    ("post", "/uploads"): ("UploadFunction", True),
    ("delete", "/images/{id}"): ("UploadFunction", True),
    ("get", "/"): ("ServeFunction", False),
    ("head", "/"): ("ServeFunction", False),
    ("get", "/images/{id}"): ("ServeFunction", False),
    ("head", "/images/{id}"): ("ServeFunction", False),
    ("get", "/images/{id}/{file}"): ("ServeFunction", False),
    ("head", "/images/{id}/{file}"): ("ServeFunction", False),
}


def refs_bucket_resource(node) -> bool:
    """True if node uses Ref/GetAtt/${...} of the bucket resource (not its computed name)."""
    if isinstance(node, dict):
        if node.get("Ref") == "ImagesBucket":
            return True
        if "Fn::GetAtt" in node and str(node["Fn::GetAtt"][0] if isinstance(node["Fn::GetAtt"], list) else node["Fn::GetAtt"]).startswith("ImagesBucket"):
            return True
        if "Fn::Sub" in node:
            sub = node["Fn::Sub"]
            text = sub if isinstance(sub, str) else sub[0]
            if re.search(r"\$\{ImagesBucket[.}]", text):
                return True
        return any(refs_bucket_resource(v) for v in node.values())
    if isinstance(node, list):
        return any(refs_bucket_resource(v) for v in node)
    return False


def text_of(node) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and "Fn::Sub" in node:
        sub = node["Fn::Sub"]
        return sub if isinstance(sub, str) else sub[0]
    return json.dumps(node)


def cors_preflight_problems(source_api: dict, body: dict) -> list:
    """Preflights must survive BinaryMediaTypes */* and say what `Cors` says.

    A mock OPTIONS integration behind */* answers 500 ("Unable to transform
    request") unless contentHandling is CONVERT_TO_TEXT, which SAM's `Cors`
    cannot set, so template.yaml writes the OPTIONS methods in DefinitionBody.
    """
    problems = []
    cors = source_api.get("Cors") or {}
    want = {
        f"method.response.header.Access-Control-Allow-{k[5:]}": cors[k]
        for k in ("AllowOrigin", "AllowMethods", "AllowHeaders")
        if k in cors
    }
    if "MaxAge" in cors:
        want["method.response.header.Access-Control-Max-Age"] = cors["MaxAge"]
    for path, methods in body.get("paths", {}).items():
        if not (set(methods) - {"options"}):
            continue
        preflight = methods.get("options")
        if preflight is None:
            if cors:
                problems.append(f"{path}: no OPTIONS preflight although the API declares Cors")
            continue
        integration = preflight.get("x-amazon-apigateway-integration", {})
        if integration.get("type") != "mock":
            continue
        if integration.get("contentHandling") != "CONVERT_TO_TEXT":
            problems.append(f"OPTIONS {path}: mock integration without contentHandling CONVERT_TO_TEXT answers 500 behind binary */*")
        got = integration.get("responses", {}).get("default", {}).get("responseParameters", {})
        for header, value in want.items():
            if got.get(header) != value:
                problems.append(f"OPTIONS {path}: {header.rsplit('.', 1)[1]} is {got.get(header)!r}, Cors says {value!r}")
    uses_key = any("api_key" in str(op.get("security")) for ms in body.get("paths", {}).values() for op in ms.values())
    if uses_key and "api_key" not in body.get("securityDefinitions", {}):
        problems.append("routes require api_key but securityDefinitions has no api_key (MergeDefinitions does not add it)")
    return problems


def main() -> int:
    from samtranslator.yaml_helper import yaml_parse

    source = yaml_parse(open(sys.argv[1], encoding="utf-8").read())
    resources = json.load(open(sys.argv[2], encoding="utf-8"))["Resources"]
    problems = []
    problems += cors_preflight_problems(
        source["Resources"].get("ThumbsApi", {}).get("Properties", {}),
        resources.get("ThumbsApi", {}).get("Properties", {}).get("Body", {}),
    )

    api = resources.get("ThumbsApi", {}).get("Properties", {}).get("Body", {})
    binary = api.get("x-amazon-apigateway-binary-media-types", [])
    if "*/*" not in binary:
        problems.append(f"BinaryMediaTypes {binary}: needs */* so <img> (Accept image/avif,...) and curl (*/*) get bytes")
    seen = set()
    for path, methods in api.get("paths", {}).items():
        for method, op in methods.items():
            if method == "options":
                if op.get("security"):
                    problems.append(f"OPTIONS {path} requires a key: CORS preflight would fail")
                continue
            seen.add((method, path))
            want = ROUTES.get((method, path))
            if want is None:
                problems.append(f"{method.upper()} {path}: route not in the contract")
                continue
            uri = text_of(op.get("x-amazon-apigateway-integration", {}).get("uri", ""))
            if f"${{{want[0]}.Arn}}" not in uri:
                problems.append(f"{method.upper()} {path}: integrates {uri!r}, expected {want[0]}")
            keyed = any("api_key" in s for s in op.get("security", []))
            if keyed != want[1]:
                problems.append(f"{method.upper()} {path}: API key {'required' if keyed else 'not required'}, expected the opposite")
    for method, path in sorted(set(ROUTES) - seen):
        problems.append(f"{method.upper()} {path}: route missing")
    if "ThumbsApiApiKey" not in resources or "ThumbsApiUsagePlan" not in resources:
        problems.append("no API key / usage plan generated (Auth.UsagePlan.CreateUsagePlan: PER_API)")

    for name, binary_name in FUNCTIONS.items():
        fn = resources.get(name)
        if not fn:
            problems.append(f"{name}: missing")
            continue
        props = fn["Properties"]
        if props.get("Runtime") != "provided.al2023" or props.get("Architectures") != ["arm64"] or props.get("Handler") != "bootstrap":
            problems.append(f"{name}: want provided.al2023 / arm64 / bootstrap")
        meta = fn.get("Metadata", {})
        if meta.get("BuildMethod") != "rust-cargolambda" or meta.get("BuildProperties", {}).get("Binary") != binary_name:
            problems.append(f"{name}: want BuildMethod rust-cargolambda, Binary {binary_name}")
        env = props.get("Environment", {}).get("Variables", {})
        if ENV - set(env):
            problems.append(f"{name}: environment lacks {sorted(ENV - set(env))}")
        if text_of(env.get("BUCKET_NAME", "")) != BUCKET:
            problems.append(f"{name}: BUCKET_NAME must be !Sub \"{BUCKET}\"")
        role = resources.get(f"{name}Role", {}).get("Properties", {})
        for policy in role.get("Policies", []):
            for st in policy["PolicyDocument"]["Statement"]:
                where = f"{name}Role/{policy['PolicyName']}"
                if refs_bucket_resource(st):
                    problems.append(f"{where}: references the ImagesBucket resource: circular dependency (docs/architecture.md, rule 6)")
                actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                if any(a in ("s3:*", "*") for a in actions):
                    problems.append(f"{where}: wildcard action {actions}")
                res = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
                for r in res:
                    arn = text_of(r)
                    if not arn.startswith("arn:${AWS::Partition}:s3:::") or BUCKET not in arn:
                        continue
                    if arn.endswith(BUCKET):
                        if actions != ["s3:ListBucket"] or "s3:prefix" not in json.dumps(st.get("Condition", {})):
                            problems.append(f"{where}: bucket-level grant must be ListBucket with an s3:prefix condition")
                    elif not re.search(r"/(originals|thumbnails|tombstones)/\*$", arn):
                        problems.append(f"{where}: {arn} is not scoped to originals/*, thumbnails/* or tombstones/*")

    bucket = resources.get("ImagesBucket", {}).get("Properties", {})
    pab = bucket.get("PublicAccessBlockConfiguration", {})
    if not all(pab.get(k) is True for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")):
        problems.append("ImagesBucket: Block Public Access must set all four")
    if text_of(bucket.get("BucketName", "")) != BUCKET:
        problems.append(f"ImagesBucket: BucketName must be !Sub \"{BUCKET}\" (the name the policies use)")
    triggers = bucket.get("NotificationConfiguration", {}).get("LambdaConfigurations", [])
    resize_triggers = [t for t in triggers if t.get("Function", {}).get("Fn::GetAtt", [""])[0] == "ResizeFunction"]
    if len(resize_triggers) != 1 or json.dumps(resize_triggers[0].get("Filter", {})).count('"originals/"') != 1:
        problems.append("ImagesBucket: want one ObjectCreated notification to ResizeFunction filtered on prefix originals/")
    invoke = resources.get("ResizeFunctionEventInvokeConfig", {}).get("Properties", {})
    if invoke.get("MaximumRetryAttempts") != 2 or "OnFailure" not in invoke.get("DestinationConfig", {}):
        problems.append("ResizeFunction: want EventInvokeConfig with MaximumRetryAttempts 2 and an OnFailure destination")

    for p in problems:
        print(f"check_template: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
