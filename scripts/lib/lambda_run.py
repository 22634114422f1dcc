"""Run the three functions' real binaries under cargo-lambda's Lambda runtime emulator.

Usage: python lambda_run.py ROOT THUMBS_LOCAL BIN_DIR WORK

Called by scripts/lambda-run (which installs cargo-lambda and builds the binaries). Each
function's main.rs runs as on Lambda: a process whose environment is what template.yaml gives
the function (read with `thumbs-local functions`, never copied here) plus what the Lambda
service itself sets (function name, memory size, region, credentials, AWS_LAMBDA_RUNTIME_API),
with the S3 endpoint pointed at `thumbs-local s3`. Nothing from the caller's environment leaks in.

Parameters are overridden with values no code default has, so a variable the template names
but a function does not read (or reads under another name) shows up as a wrong result:
ThumbSizes (manifest and thumbnail sizes), JpegQuality (the thumbnails' quantisation tables),
MaxUploadBytes (413 just above it), MaxInputBytes (413 just above it).

Invocations use the real event JSON of infra/events/ with the method, path, headers and body
substituted (as the handler tests do): POST /images, POST /uploads + the presigned PUT, the S3
ObjectCreated event of each stored original for resize, GET /images/{id} and a thumbnail GET.
A function that exits or panics at start-up, or answers wrongly, fails the run.
"""

import base64
import concurrent.futures
import copy
import json
import os
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request

PARAMETERS = {
    "ThumbSizes": "64,150",
    "JpegQuality": "100",
    "MaxUploadBytes": "12000",
    "MaxInputBytes": "40000",
}
SIZES = [64, 150]
INVOKE_TIMEOUT = 60


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, predicate, process, log, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if process.poll() is not None:
            raise Failure(f"{what} exited with status {process.returncode}:\n{tail(log)}")
        time.sleep(0.05)
    raise Failure(f"{what} not ready within {timeout} s:\n{tail(log)}")


def tail(path, lines=40):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no log)"


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def jpeg_info(data):
    """(width, height, [quantisation table values]) of a baseline/progressive JPEG."""
    check(data[:2] == b"\xff\xd8", f"not a JPEG (starts {data[:4]!r})")
    i, size, tables = 2, None, []
    while i + 4 <= len(data):
        check(data[i] == 0xFF, f"bad JPEG marker at {i}")
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        segment = data[i + 4 : i + 2 + length]
        if marker == 0xDB:
            j = 0
            while j < len(segment):
                precision = segment[j] >> 4
                count = 64 * (2 if precision else 1)
                values = segment[j + 1 : j + 1 + count]
                tables += list(values) if not precision else list(struct.unpack(">64H", values))
                j += 1 + count
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", segment[1:5])
            size = (width, height)
        if marker == 0xDA:
            break
        i += 2 + length
    check(size is not None, "JPEG without a frame header")
    return size[0], size[1], tables


class Lambda:
    """cargo lambda watch --only-lambda-apis: the Runtime API and the Invoke API."""

    def __init__(self, root, work):
        self.port = free_port()
        self.log = os.path.join(work, "cargo-lambda-watch.log")
        self.process = subprocess.Popen(
            ["cargo", "lambda", "watch", "--only-lambda-apis", "--invoke-address", "127.0.0.1",
             "--invoke-port", str(self.port)],
            cwd=root, stdout=open(self.log, "wb"), stderr=subprocess.STDOUT,
        )
        wait_for("cargo lambda watch", lambda: port_open(self.port), self.process, self.log)
        self.functions = {}
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)

    def start_function(self, name, environment, binary, work):
        """Starts `binary` as function `name`, in a clean environment, polling this emulator."""
        env = dict(environment)
        # As cargo lambda watch --only-lambda-apis prints it: the function name selects the queue.
        env["AWS_LAMBDA_RUNTIME_API"] = f"http://127.0.0.1:{self.port}/.rt/{name}"
        log = os.path.join(work, f"{name}.log")
        process = subprocess.Popen([binary], env=env, cwd=work, stdout=open(log, "wb"),
                                   stderr=subprocess.STDOUT)
        self.functions[name] = (process, log)

    def invoke(self, name, event):
        """Synchronous Invoke (RequestResponse): the function's JSON result, or Failure."""
        process, log = self.functions[name]
        if process.poll() is not None:
            raise Failure(f"{name} exited at start-up with status {process.returncode}:\n{tail(log)}")
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/2015-03-31/functions/{name}/invocations",
            data=json.dumps(event).encode(), method="POST",
            headers={"content-type": "application/json"},
        )
        def call():
            with urllib.request.urlopen(request, timeout=INVOKE_TIMEOUT) as response:
                return response.read(), response.headers.get("x-amz-function-error")

        # The emulator holds an invocation until the function polls for it: a function that
        # died at start-up would leave it waiting, so watch the process meanwhile.
        future = self.pool.submit(call)
        while not future.done():
            if process.poll() is not None:
                raise Failure(f"{name} exited with status {process.returncode} before answering:\n{tail(log)}")
            time.sleep(0.02)
        try:
            body, function_error = future.result()
        except urllib.error.HTTPError as err:
            raise Failure(f"{name}: invoke answered HTTP {err.code}: {err.read()[:2000]!r}\n{tail(log)}")
        except (TimeoutError, urllib.error.URLError) as err:
            state = "exited" if process.poll() is not None else "still running"
            raise Failure(f"{name}: no answer ({err}); the function is {state}:\n{tail(log)}")
        result = json.loads(body) if body else None
        if function_error or (isinstance(result, dict) and "errorType" in result):
            raise Failure(f"{name}: function error {body[:2000]!r}\n{tail(log)}")
        if process.poll() is not None:
            raise Failure(f"{name} exited after an invocation:\n{tail(log)}")
        return result

    def stop(self):
        self.pool.shutdown(wait=False, cancel_futures=True)
        for process, _ in self.functions.values():
            process.terminate()
        self.process.terminate()
        for process in [p for p, _ in self.functions.values()] + [self.process]:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def lambda_environment(function, s3, name):
    """What Lambda sets for a function (docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html,
    "Defined runtime environment variables"), then the template's variables, then the local S3."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "_HANDLER": "bootstrap",
        "LAMBDA_TASK_ROOT": "/var/task",
        "AWS_REGION": s3["region"],
        "AWS_DEFAULT_REGION": s3["region"],
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.get("memory_size_mb") or 128),
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local/[$LATEST]0",
        "AWS_ACCESS_KEY_ID": s3["access_key_id"],
        "AWS_SECRET_ACCESS_KEY": s3["secret_access_key"],
    }
    env.update(function["environment"])
    # Not part of a deployment: where the embedded S3 server is (crates/thumbs-store/src/config.rs).
    env["AWS_ENDPOINT_URL_S3"] = s3["s3_endpoint"]
    env["S3_FORCE_PATH_STYLE"] = "true"
    return env


def api_event(template, method, resource, path, path_parameters=None, headers=None, body=None):
    """infra/events/apigw-post-images.json with method, route, headers and body substituted."""
    event = copy.deepcopy(template)
    headers = dict(headers or {})
    headers.setdefault("Host", "0123456789.execute-api.us-east-1.amazonaws.com")
    event.update({
        "httpMethod": method, "resource": resource, "path": path,
        "pathParameters": path_parameters, "queryStringParameters": None,
        "multiValueQueryStringParameters": None, "stageVariables": None,
        "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
        # BinaryMediaTypes */*: every request body arrives base64 encoded.
        "body": base64.b64encode(body).decode() if body is not None else None,
        "isBase64Encoded": body is not None,
    })
    event["requestContext"].update({"httpMethod": method, "resourcePath": resource, "path": "/Prod" + path,
                                    "stage": "Prod"})
    return event


def s3_event(template, bucket, key, size):
    event = copy.deepcopy(template)
    record = event["Records"][0]
    record["s3"]["bucket"]["name"] = bucket
    record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
    record["s3"]["object"]["key"] = key
    record["s3"]["object"]["size"] = size
    return event


def body_of(response):
    body = response.get("body") or ""
    return base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()


def header(response, name):
    for field in ("headers", "multiValueHeaders"):
        for key, value in (response.get(field) or {}).items():
            if key.lower() == name:
                return value[0] if isinstance(value, list) else value
    return None


def main():
    root, thumbs_local, bin_dir, work = sys.argv[1:5]
    started = time.monotonic()
    parameter_args = [arg for k, v in PARAMETERS.items() for arg in ("--parameter", f"{k}={v}")]
    functions = json.loads(subprocess.run(
        [thumbs_local, "functions", *parameter_args], check=True, capture_output=True, text=True,
    ).stdout)
    by_binary = {f["binary"]: f for f in functions}
    check(set(by_binary) >= {"thumbs-upload", "thumbs-resize", "thumbs-serve"},
          f"template functions: {sorted(by_binary)}")

    s3_log = os.path.join(work, "s3.log")
    ready = os.path.join(work, "s3.json")
    s3_process = subprocess.Popen(
        [thumbs_local, "s3", "--port", "0", "--data-dir", os.path.join(work, "data"), "--ready-file", ready],
        stdout=open(s3_log, "wb"), stderr=subprocess.STDOUT,
    )
    emulator = None
    try:
        wait_for("thumbs-local s3", lambda: os.path.exists(ready), s3_process, s3_log)
        s3 = json.load(open(ready))
        emulator = Lambda(root, work)
        for binary, function in by_binary.items():
            emulator.start_function(binary, lambda_environment(function, s3, binary),
                                    os.path.join(bin_dir, binary), work)
        run_story(emulator, s3, root)
    finally:
        if emulator:
            emulator.stop()
        s3_process.terminate()
        s3_process.wait(timeout=10)
    print(f"lambda-run: upload, resize and serve bootstraps ok under cargo lambda watch "
          f"({time.monotonic() - started:.1f} s)")


def run_story(emulator, s3, root):
    events = os.path.join(root, "infra/events")
    fixtures = os.path.join(root, "crates/thumbs-core/tests/fixtures")
    post_template = json.load(open(os.path.join(events, "apigw-post-images.json")))
    put_template = json.load(open(os.path.join(events, "s3-put.json")))
    photo = open(os.path.join(fixtures, "coffee.jpg"), "rb").read()
    big = open(os.path.join(fixtures, "coffee-adobergb.jpg"), "rb").read()
    other = open(os.path.join(fixtures, "rocket.jpg"), "rb").read()
    limit = int(PARAMETERS["MaxUploadBytes"])
    check(len(photo) <= limit < len(big), "fixtures no longer straddle MaxUploadBytes")

    def post(body, content_type="image/jpeg"):
        return emulator.invoke("thumbs-upload", api_event(
            post_template, "POST", "/images", "/images", headers={"Content-Type": content_type}, body=body))

    # Upload: 201 with the id; MaxUploadBytes from the template is the limit.
    created = post(photo)
    check(created["statusCode"] == 201, f"POST /images: {created['statusCode']} {body_of(created)[:300]!r}")
    image_id = json.loads(body_of(created))["id"]
    too_big = post(big)
    check(too_big["statusCode"] == 413,
          f"POST /images of {len(big)} bytes with MaxUploadBytes={limit}: {too_big['statusCode']} (MAX_UPLOAD_BYTES not read?)")

    # Presigned upload: MaxInputBytes from the template; the URL works against the S3 endpoint.
    def presign(size):
        return emulator.invoke("thumbs-upload", api_event(
            post_template, "POST", "/uploads", "/uploads", headers={"Content-Type": "application/json"},
            body=json.dumps({"content_type": "image/jpeg", "bytes": size}).encode()))
    over = presign(int(PARAMETERS["MaxInputBytes"]) + 1)
    check(over["statusCode"] == 413, f"POST /uploads over MaxInputBytes: {over['statusCode']} (MAX_INPUT_BYTES not read?)")
    presigned = presign(len(other))
    check(presigned["statusCode"] == 200, f"POST /uploads: {presigned['statusCode']} {body_of(presigned)[:300]!r}")
    ticket = json.loads(body_of(presigned))
    put = urllib.request.Request(ticket["url"], data=other, method="PUT", headers=ticket["headers"])
    with urllib.request.urlopen(put, timeout=30) as response:
        check(response.status == 200, f"presigned PUT: {response.status}")

    # Resize: the S3 ObjectCreated event of each stored original (nothing delivers it but us).
    bucket_dir = os.path.join(s3["data_dir"], "s3", s3["bucket"])
    for stored_id, size in ((image_id, len(photo)), (ticket["id"], len(other))):
        check(os.path.isfile(os.path.join(bucket_dir, "originals", stored_id)), f"original {stored_id} not stored")
        manifest = os.path.join(bucket_dir, "thumbnails", stored_id, "manifest.json")
        check(not os.path.exists(manifest), f"{manifest} exists before resize ran")
        emulator.invoke("thumbs-resize", s3_event(put_template, s3["bucket"], f"originals/{stored_id}", size))
        check(os.path.isfile(manifest), f"resize wrote no {manifest}")

    # Serve: the status lists exactly the template's sizes; a thumbnail decodes to the right size.
    for stored_id, original in ((image_id, photo), (ticket["id"], other)):
        status = emulator.invoke("thumbs-serve", api_event(
            post_template, "GET", "/images/{id}", f"/images/{stored_id}", {"id": stored_id}, {"Accept": "application/json"}))
        check(status["statusCode"] == 200, f"GET /images/{stored_id}: {status['statusCode']}")
        info = json.loads(body_of(status))
        check(info["status"] == "ready", f"GET /images/{stored_id}: {info}")
        check(sorted(int(s) for s in info["thumbnails"]) == SIZES,
              f"thumbnails {sorted(info['thumbnails'])}, ThumbSizes={PARAMETERS['ThumbSizes']} (THUMB_SIZES not read?)")
        ow, oh, _ = jpeg_info(original)
        for size in SIZES:
            file = f"{size}.jpg"
            got = emulator.invoke("thumbs-serve", api_event(
                post_template, "GET", "/images/{id}/{file}", f"/images/{stored_id}/{file}",
                {"id": stored_id, "file": file}, {"Accept": "image/jpeg"}))
            check(got["statusCode"] == 200, f"GET {file}: {got['statusCode']} {body_of(got)[:200]!r}")
            check(got.get("isBase64Encoded") is True, f"GET {file}: body not base64 encoded")
            check(header(got, "content-type") == "image/jpeg", f"GET {file}: {header(got, 'content-type')}")
            width, height, tables = jpeg_info(body_of(got))
            scale = size / max(ow, oh)
            want = (round(ow * scale), round(oh * scale)) if scale < 1 else (ow, oh)
            check(max(width, height) == max(want) and abs(min(width, height) - min(want)) <= 1,
                  f"GET {file} of a {ow}x{oh} original: {width}x{height}, want about {want[0]}x{want[1]}")
            # Quality 100 scales every quantiser to 1 or 2; the default (80) gives larger ones.
            check(tables and max(tables) <= 2, f"GET {file}: quantisers up to {max(tables or [0])} at JpegQuality=100 (JPEG_QUALITY not read?)")
    unknown = emulator.invoke("thumbs-serve", api_event(
        post_template, "GET", "/images/{id}/{file}", f"/images/{image_id}/256.jpg",
        {"id": image_id, "file": "256.jpg"}, {"Accept": "image/jpeg"}))
    check(unknown["statusCode"] == 400, f"GET 256.jpg with ThumbSizes={PARAMETERS['ThumbSizes']}: {unknown['statusCode']}")


if __name__ == "__main__":
    try:
        main()
    except Failure as failure:
        print(f"lambda-run: FAIL: {failure}", file=sys.stderr)
        sys.exit(1)
