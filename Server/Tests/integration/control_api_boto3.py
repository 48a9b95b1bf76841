#!/usr/bin/env python3
"""Integration test of the SES v2 control API with boto3 (issue 18).

    python3 Server/Tests/integration/control_api_boto3.py [SERVER_BINARY]

The default binary is $LINKTRACK_SERVER_BIN, else Server/.build/debug/linktrack-server. Starts it on
127.0.0.1 ports chosen by the kernel, reads the ports from its start line
(`listening public=HOST:PORT admin=HOST:PORT` on stderr), and drives the admin listener with an
unmodified boto3 `sesv2` client: every operation, the modelled exceptions
(`client.exceptions.NotFoundException` ...), paging, SigV4 refusals (unsigned, wrong secret,
unknown key, a request signed 6 minutes ago with botocore's SigV4Auth at a fixed time, a false
x-amz-content-sha256), throttling with boto3's own retries, and concurrent clients.
Prints "N passed, N failed"; exits 1 on any failure. KEEP=1 keeps the temporary directory.
"""

import base64
import concurrent.futures
import datetime
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from unittest import mock

import boto3
import botocore.auth
from botocore import UNSIGNED
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER_DIR = os.path.dirname(os.path.dirname(HERE))
SERVER = (sys.argv[1] if len(sys.argv) > 1
          else os.environ.get("LINKTRACK_SERVER_BIN",
                              os.environ.get("LINKTRACK_SERVER", os.path.join(SERVER_DIR, ".build", "debug", "linktrack-server"))))

KEY = "AKIALINKTRACKBOTO1"
SECRET = "boto-secret-" + os.urandom(8).hex()
REGION = "eu-west-1"

passed = 0
failed = 0


def ok(name):
    global passed
    passed += 1
    print("ok", name, flush=True)


def bad(name, detail=""):
    global failed
    failed += 1
    print("not ok", name, ("(" + str(detail) + ")") if detail else "", flush=True)


def check(name, condition, detail=""):
    (ok if condition else lambda n: bad(n, detail))(name)


def expect_client_error(name, call, code, message=None, status=None, exception=None):
    """Runs call(); it must raise ClientError with this code (and message, HTTP status, modelled class)."""
    try:
        call()
    except ClientError as error:
        e = error.response["Error"]
        meta = error.response["ResponseMetadata"]
        problems = []
        if e.get("Code") != code:
            problems.append("code %r" % e.get("Code"))
        if message is not None and not str(e.get("Message", "")).startswith(message):
            problems.append("message %r" % e.get("Message"))
        if status is not None and meta.get("HTTPStatusCode") != status:
            problems.append("status %r" % meta.get("HTTPStatusCode"))
        if exception is not None and not isinstance(error, exception):
            problems.append("class %s" % type(error).__name__)
        if problems:
            bad(name, ", ".join(problems))
        else:
            ok(name)
        return
    except Exception as error:  # noqa: BLE001 - report anything unexpected as a failure
        bad(name, "raised %r" % error)
        return
    bad(name, "no error")


def file_hash(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    if not os.access(SERVER, os.X_OK):
        print("control_api_boto3.py: %s is missing; build it first (swift build --package-path Server)" % SERVER, file=sys.stderr)
        return 64
    directory = tempfile.mkdtemp(prefix="linktrack-control-api-boto3.")
    config_path = os.path.join(directory, "config.json")
    with open(config_path, "w") as f:
        json.dump({
            "ConfigurationSets": [
                {"ConfigurationSetName": "existing",
                 "TrackingOptions": {"CustomRedirectDomain": "old.example.com", "HttpsPolicy": "OPTIONAL"}},
            ],
            "SigningKeys": [{"KeyId": "k1", "Secret": base64.b64encode(os.urandom(32)).decode()}],
            "AccessKeys": [{"AccessKeyId": KEY, "SecretAccessKey": SECRET}],
            "Region": REGION,
            "ControlAPIThrottle": {"RequestsPerSecond": 200, "Burst": 400},
        }, f, indent=2)
    log_path = os.path.join(directory, "server.log")
    log = open(log_path, "w")
    server = subprocess.Popen(
        [SERVER, "serve", "--config", config_path, "--data-directory", os.path.join(directory, "data"),
         "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"],
        stdout=subprocess.DEVNULL, stderr=log)
    try:
        admin = None
        for _ in range(300):
            with open(log_path) as f:
                found = re.search(r"listening public=(\S+) admin=(\S+)", f.read())
            if found:
                admin = found.group(2)
                break
            if server.poll() is not None:
                break
            time.sleep(0.1)
        if admin is None:
            with open(log_path) as f:
                print("control_api_boto3.py: the server did not start:\n" + f.read(), file=sys.stderr)
            return 1
        print("# server up: admin=%s" % admin, flush=True)
        run(f"http://{admin}", config_path, log_path, server)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        if os.environ.get("KEEP") == "1":
            print("# kept", directory)
        else:
            shutil.rmtree(directory, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def client_for(endpoint, key=KEY, secret=SECRET, region=REGION, **config):
    session = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret, region_name=region)
    return session.client("sesv2", endpoint_url=endpoint, config=Config(**config) if config else None)


def raw_request(endpoint, method, path, body=b"", sign=True, headers=None, at=None, key=KEY, secret=SECRET):
    """Sends one request signed by botocore's SigV4Auth (optionally at a fixed time); returns (status, headers, body)."""
    request = AWSRequest(method=method, url=endpoint + path, data=body, headers=dict(headers or {}))
    if sign:
        signer = botocore.auth.SigV4Auth(Credentials(key, secret), "ses", REGION)
        if at is None:
            signer.add_auth(request)
        else:
            with mock.patch("botocore.auth.get_current_datetime", return_value=at):
                signer.add_auth(request)
    prepared = urllib.request.Request(request.url, data=body or None, headers=dict(request.headers.items()), method=method)
    try:
        with urllib.request.urlopen(prepared, timeout=10) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


def set_throttle(config_path, log_path, server, rate, burst):
    """Edits ControlAPIThrottle by hand, sends SIGHUP and waits for the reload."""
    with open(log_path) as f:
        reloads = f.read().count("configuration reloaded")
    with open(config_path) as f:
        config = json.load(f)
    config["ControlAPIThrottle"] = {"RequestsPerSecond": rate, "Burst": burst}
    with open(config_path, "w") as f:
        json.dump(config, f, indent=2)
    server.send_signal(signal.SIGHUP)
    for _ in range(100):
        with open(log_path) as f:
            if f.read().count("configuration reloaded") > reloads:
                return True
        time.sleep(0.05)
    return False


def run(endpoint, config_path, log_path, server):
    client = client_for(endpoint)

    # --- Configuration sets ---
    response = client.create_configuration_set(
        ConfigurationSetName="marketing",
        TrackingOptions={"CustomRedirectDomain": "links.example.com", "HttpsPolicy": "REQUIRE"},
        Tags=[{"Key": "team", "Value": "growth"}],
        ReputationOptions={"ReputationMetricsEnabled": True},
        SuppressionOptions={"SuppressedReasons": ["BOUNCE"]})
    check("create_configuration_set answers 200 with a request id",
          response["ResponseMetadata"]["HTTPStatusCode"] == 200 and len(response["ResponseMetadata"]["RequestId"]) == 36)
    got = client.get_configuration_set(ConfigurationSetName="marketing")
    got.pop("ResponseMetadata")
    check("get_configuration_set returns every option group as stored", got == {
        "ConfigurationSetName": "marketing",
        "TrackingOptions": {"CustomRedirectDomain": "links.example.com", "HttpsPolicy": "REQUIRE"},
        "Tags": [{"Key": "team", "Value": "growth"}],
        "ReputationOptions": {"ReputationMetricsEnabled": True},
        "SuppressionOptions": {"SuppressedReasons": ["BOUNCE"]},
    }, got)
    expect_client_error("a duplicate create raises client.exceptions.AlreadyExistsException",
                        lambda: client.create_configuration_set(ConfigurationSetName="marketing"),
                        "AlreadyExistsException", "Configuration set marketing already exists.", 400,
                        client.exceptions.AlreadyExistsException)
    expect_client_error("an unknown set raises client.exceptions.NotFoundException (404)",
                        lambda: client.get_configuration_set(ConfigurationSetName="nope"),
                        "NotFoundException", "Configuration set nope does not exist.", 404,
                        client.exceptions.NotFoundException)
    expect_client_error("a name with a slash is one path segment",
                        lambda: client.get_configuration_set(ConfigurationSetName="a/b"),
                        "NotFoundException", "Configuration set a/b does not exist.", 404)

    for name in ["delta", "alpha", "charlie", "bravo"]:
        client.create_configuration_set(ConfigurationSetName=name)
    names, token, pages = [], None, 0
    while True:
        kwargs = {"PageSize": 2}
        if token:
            kwargs["NextToken"] = token
        page = client.list_configuration_sets(**kwargs)
        names += page["ConfigurationSets"]
        token = page.get("NextToken")
        pages += 1
        if not token or pages > 10:
            break
    check("list_configuration_sets pages with NextToken through every set once",
          names == ["alpha", "bravo", "charlie", "delta", "existing", "marketing"] and pages == 3, (names, pages))
    expect_client_error("a bad NextToken raises BadRequestException",
                        lambda: client.list_configuration_sets(NextToken="!!"), "BadRequestException", status=400,
                        exception=client.exceptions.BadRequestException)
    client.delete_configuration_set(ConfigurationSetName="delta")
    expect_client_error("delete_configuration_set removes the set",
                        lambda: client.get_configuration_set(ConfigurationSetName="delta"), "NotFoundException")

    # --- Tracking options ---
    client.put_configuration_set_tracking_options(ConfigurationSetName="marketing",
                                                  CustomRedirectDomain="click.example.net", HttpsPolicy="OPTIONAL")
    got = client.get_configuration_set(ConfigurationSetName="marketing")["TrackingOptions"]
    check("put_configuration_set_tracking_options replaces the options",
          got == {"CustomRedirectDomain": "click.example.net", "HttpsPolicy": "OPTIONAL"}, got)
    before = file_hash(config_path)
    expect_client_error("a bad HttpsPolicy raises BadRequestException with the library's message",
                        lambda: client.put_configuration_set_tracking_options(
                            ConfigurationSetName="marketing", CustomRedirectDomain="c.example.net", HttpsPolicy="BOGUS"),
                        "BadRequestException",
                        'Invalid HttpsPolicy value "BOGUS": expected one of REQUIRE, REQUIRE_OPEN_ONLY, OPTIONAL.', 400,
                        client.exceptions.BadRequestException)
    expect_client_error("a bad domain raises BadRequestException",
                        lambda: client.put_configuration_set_tracking_options(
                            ConfigurationSetName="marketing", CustomRedirectDomain="-bad-.example.net"),
                        "BadRequestException", 'Invalid CustomRedirectDomain value "-bad-.example.net"', 400)
    expect_client_error("put on an unknown set raises NotFoundException",
                        lambda: client.put_configuration_set_tracking_options(
                            ConfigurationSetName="nope", CustomRedirectDomain="c.example.net"),
                        "NotFoundException", "Configuration set nope does not exist.", 404)
    check("refused puts leave the file untouched", file_hash(config_path) == before)

    # --- Event destinations ---
    client.create_configuration_set_event_destination(
        ConfigurationSetName="marketing", EventDestinationName="tracking",
        EventDestination={"Enabled": True, "MatchingEventTypes": ["OPEN", "CLICK"]})
    got = client.get_configuration_set_event_destinations(ConfigurationSetName="marketing")["EventDestinations"]
    check("an OPEN/CLICK event destination is created and listed",
          got == [{"Name": "tracking", "Enabled": True, "MatchingEventTypes": ["OPEN", "CLICK"]}], got)
    client.update_configuration_set_event_destination(
        ConfigurationSetName="marketing", EventDestinationName="tracking",
        EventDestination={"Enabled": False, "MatchingEventTypes": ["OPEN", "CLICK"]})
    got = client.get_configuration_set_event_destinations(ConfigurationSetName="marketing")["EventDestinations"]
    check("update switches it off", got[0]["Enabled"] is False, got)
    expect_client_error("an unknown event type raises BadRequestException",
                        lambda: client.create_configuration_set_event_destination(
                            ConfigurationSetName="marketing", EventDestinationName="x",
                            EventDestination={"Enabled": True, "MatchingEventTypes": ["OPENED"]}),
                        "BadRequestException", 'Invalid MatchingEventTypes value "OPENED"', 400)
    client.delete_configuration_set_event_destination(ConfigurationSetName="marketing", EventDestinationName="tracking")
    got = client.get_configuration_set_event_destinations(ConfigurationSetName="marketing")["EventDestinations"]
    check("delete removes it", got == [], got)
    expect_client_error("deleting it again raises NotFoundException",
                        lambda: client.delete_configuration_set_event_destination(
                            ConfigurationSetName="marketing", EventDestinationName="tracking"),
                        "NotFoundException", "Event destination tracking does not exist in configuration set marketing.", 404)

    # --- Authentication: 403 and nothing written ---
    before = file_hash(config_path)
    unsigned = boto3.session.Session(region_name=REGION).client(
        "sesv2", endpoint_url=endpoint, config=Config(signature_version=UNSIGNED))
    expect_client_error("an unsigned client gets MissingAuthenticationTokenException (403)",
                        lambda: unsigned.create_configuration_set(ConfigurationSetName="unsigned"),
                        "MissingAuthenticationTokenException", "Missing Authentication Token", 403)
    expect_client_error("a wrong secret gets SignatureDoesNotMatch (403)",
                        lambda: client_for(endpoint, secret="wrong").create_configuration_set(ConfigurationSetName="wrong"),
                        "SignatureDoesNotMatch", "The request signature we calculated does not match", 403)
    expect_client_error("an unknown key gets UnrecognizedClientException (403)",
                        lambda: client_for(endpoint, key="AKIANOBODY").create_configuration_set(ConfigurationSetName="nobody"),
                        "UnrecognizedClientException", "The security token included in the request is invalid.", 403)
    expect_client_error("another region gets SignatureDoesNotMatch (403)",
                        lambda: client_for(endpoint, region="us-east-1").create_configuration_set(ConfigurationSetName="region"),
                        "SignatureDoesNotMatch", "Credential should be scoped to a valid region, not 'us-east-1'.", 403)
    body = json.dumps({"ConfigurationSetName": "old"}).encode()
    six_minutes_ago = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=6)
    status, headers, answer = raw_request(endpoint, "POST", "/v2/email/configuration-sets", body,
                                          headers={"Content-Type": "application/json"}, at=six_minutes_ago)
    message = json.loads(answer or b"{}").get("message", "")
    check("a request signed 6 minutes ago (SigV4Auth at a fixed time) gets 403 InvalidSignatureException 'Signature expired: ...'",
          status == 403 and headers.get("X-Amzn-ErrorType") == "InvalidSignatureException" and message.startswith("Signature expired: "),
          (status, headers.get("X-Amzn-ErrorType"), message))
    four_minutes_ago = six_minutes_ago + datetime.timedelta(minutes=2)
    status, _, _ = raw_request(endpoint, "GET", "/v2/email/configuration-sets", at=four_minutes_ago)
    check("a request signed 4 minutes ago is served", status == 200, status)
    status, headers, answer = raw_request(endpoint, "POST", "/v2/email/configuration-sets", body,
                                          headers={"Content-Type": "application/json", "X-Amz-Content-SHA256": "0" * 64})
    check("a false x-amz-content-sha256 gets 403 SignatureDoesNotMatch",
          status == 403 and headers.get("X-Amzn-ErrorType") == "SignatureDoesNotMatch", (status, answer))
    status, headers, _ = raw_request(endpoint, "GET", "/v2/email/configuration-sets", sign=False)
    check("an unsigned GET is refused too (nothing is served without a signature)",
          status == 403 and headers.get("X-Amzn-ErrorType") == "MissingAuthenticationTokenException", status)
    check("the refused requests wrote nothing", file_hash(config_path) == before)
    status, headers, answer = raw_request(endpoint, "POST", "/v2/email/configuration-sets", body,
                                          headers={"Content-Type": "application/json",
                                                   "X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()})
    check("a true x-amz-content-sha256 is accepted", status == 200, (status, answer))
    client.delete_configuration_set(ConfigurationSetName="old")

    # --- Throttling with boto3's own retries ---
    check("a hand edit of ControlAPIThrottle is reloaded on SIGHUP",
          set_throttle(config_path, log_path, server, 0.5, 1))
    no_retries = client_for(endpoint, retries={"mode": "legacy", "total_max_attempts": 1})
    with_retries = client_for(endpoint, retries={"mode": "legacy", "total_max_attempts": 5})

    def drain():
        for _ in range(50):
            try:
                no_retries.list_configuration_sets()
                return
            except ClientError:
                time.sleep(0.3)

    drain()
    expect_client_error("past the bucket, a client without retries raises TooManyRequestsException (429)",
                        lambda: no_retries.list_configuration_sets(), "TooManyRequestsException", status=429,
                        exception=no_retries.exceptions.TooManyRequestsException)
    drain()
    try:
        response = with_retries.list_configuration_sets()
        attempts = response["ResponseMetadata"]["RetryAttempts"]
        check("a throttled call is refused, then served by boto3's retries (RetryAttempts >= 1)", attempts >= 1, attempts)
    except ClientError as error:
        bad("a throttled call is refused, then served by boto3's retries", error)
    set_throttle(config_path, log_path, server, 200, 400)

    # --- Concurrent clients ---
    for i in range(8):
        client.create_configuration_set(ConfigurationSetName=f"c{i}")

    def change(i):
        own = client_for(endpoint)
        own.put_configuration_set_tracking_options(ConfigurationSetName=f"c{i}",
                                                   CustomRedirectDomain=f"c{i}.example.org", HttpsPolicy="REQUIRE")
        own.put_configuration_set_tracking_options(ConfigurationSetName="existing", CustomRedirectDomain=f"e{i}.example.org")
        own.create_configuration_set_event_destination(
            ConfigurationSetName=f"c{i}", EventDestinationName="d",
            EventDestination={"Enabled": True, "MatchingEventTypes": ["CLICK"]})
        return True

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: _catch(change, i), range(8)))
    check("24 changes from 8 concurrent clients all succeed", all(r is True for r in results), results)
    config = json.load(open(config_path))
    sets = {s["ConfigurationSetName"]: s for s in config["ConfigurationSets"]}
    check("every change is in the file, which stays valid JSON",
          all(sets[f"c{i}"]["TrackingOptions"] == {"CustomRedirectDomain": f"c{i}.example.org", "HttpsPolicy": "REQUIRE"}
              and sets[f"c{i}"]["EventDestinations"][0]["Name"] == "d" for i in range(8)))
    check("the set all clients changed holds one of their values",
          sets["existing"]["TrackingOptions"]["CustomRedirectDomain"] in [f"e{i}.example.org" for i in range(8)])
    check("no temporary file is left", [f for f in os.listdir(os.path.dirname(config_path)) if ".tmp-" in f] == [])


def _catch(function, argument):
    try:
        return function(argument)
    except Exception as error:  # noqa: BLE001
        return repr(error)


if __name__ == "__main__":
    sys.exit(main())
