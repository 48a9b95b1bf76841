#!/usr/bin/env bash
# Integration test of the SES v2 control API with the real aws CLI (issue 18).
#
#   bash Server/Tests/integration/control-api.sh [SERVER_BINARY [LINKTRACK_BINARY]]
#
# Defaults: $LINKTRACK_SERVER_BIN (else Server/.build/debug/linktrack-server) and $LINKTRACK_BIN
# (else .build/debug/linktrack, the root package's filter), as Server/Tests/integration/conftest.py. Needs `aws` (aws-cli 1.x) and python3 with
# botocore; `faketime` (Debian's package) for the old-signature case, installed with apt-get
# when missing and running as root, else that case is skipped with a note.
#
# Starts the built server on 127.0.0.1 ports chosen by the kernel (`--listen 127.0.0.1:0
# --admin-listen 127.0.0.1:0`; the ports are read from its start line `listening public=...
# admin=...`), runs `aws sesv2 ... --endpoint-url http://127.0.0.1:ADMIN` through a profile that
# holds the access key, and checks outputs, error texts and the configuration file. Finally filters
# a message with `linktrack filter` and follows its click link on the server.
# Prints "N passed, N failed"; exits 1 on any failure. KEEP=1 keeps the temporary directory.

set -u
export LC_ALL=C

HERE=$(cd "$(dirname "$0")" && pwd)
SERVER_DIR=$(cd "$HERE/../.." && pwd)
REPO=$(cd "$SERVER_DIR/.." && pwd)
SERVER=${1:-${LINKTRACK_SERVER_BIN:-${LINKTRACK_SERVER:-$SERVER_DIR/.build/debug/linktrack-server}}}
FILTER=${2:-${LINKTRACK_BIN:-${LINKTRACK_FILTER:-$REPO/.build/debug/linktrack}}}
for binary in "$SERVER" "$FILTER"; do
    if [ ! -x "$binary" ]; then
        echo "control-api.sh: $binary is missing; build it first (swift build --package-path Server; swift build)" >&2
        exit 64
    fi
done
command -v aws >/dev/null || { echo "control-api.sh: the aws CLI is missing (pip install awscli)" >&2; exit 69; }
python3 -c 'import botocore' 2>/dev/null || { echo "control-api.sh: python3 with botocore is missing" >&2; exit 69; }

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok $*"; }
bad() { failed=$((failed + 1)); echo "not ok $*"; }
note() { echo "# $*"; }
check() { # check NAME CONDITION-COMMAND...
    local name=$1; shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}

T=$(mktemp -d "${TMPDIR:-/tmp}/linktrack-control-api.XXXXXX")
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
    if [ "${KEEP:-0}" = 1 ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

KEY1=AKIALINKTRACKCLI01
SECRET1=cli-secret-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
KEY2=AKIALINKTRACKCLI02
SECRET2=second-secret-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$SECRET1" > "$T/cli.secret"
chmod 600 "$T/cli.secret"
CONFIG=$T/config.json
cat > "$CONFIG" <<EOF
{
  "ConfigurationSets": [
    {"ConfigurationSetName": "existing", "TrackingOptions": {"CustomRedirectDomain": "old.example.com", "HttpsPolicy": "OPTIONAL"}}
  ],
  "SigningKeys": [{"KeyId": "k1", "Secret": "$(head -c 32 /dev/urandom | base64 -w0)"}],
  "AccessKeys": [
    {"AccessKeyId": "$KEY1", "SecretAccessKeyFile": "$T/cli.secret"},
    {"AccessKeyId": "$KEY2", "SecretAccessKeyEnvironmentVariable": "LINKTRACK_TEST_SECOND_SECRET"}
  ]
}
EOF

# The CLI reads the key from a profile of its own files; nothing from the caller's environment.
mkdir -p "$T/aws"
printf '[profile linktrack]\nregion = us-east-1\noutput = json\n' > "$T/aws/config"
printf '[linktrack]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$KEY1" "$SECRET1" > "$T/aws/credentials"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_DEFAULT_REGION AWS_REGION AWS_MAX_ATTEMPTS AWS_RETRY_MODE
export AWS_CONFIG_FILE=$T/aws/config AWS_SHARED_CREDENTIALS_FILE=$T/aws/credentials AWS_PROFILE=linktrack
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=

LINKTRACK_TEST_SECOND_SECRET=$SECRET2 "$SERVER" serve --config "$CONFIG" --data-directory "$T/data" \
    --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 2> "$T/server.log" &
SERVER_PID=$!
for _ in $(seq 1 300); do
    grep -q 'listening public=' "$T/server.log" && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
done
LINE=$(grep -o 'listening public=[^ ]* admin=[^ ]*' "$T/server.log" | head -1)
if [ -z "$LINE" ]; then
    echo "control-api.sh: the server did not start:" >&2
    cat "$T/server.log" >&2
    exit 1
fi
PUBLIC=${LINE#listening public=}; PUBLIC=${PUBLIC%% *}
ADMIN=${LINE##*admin=}
EP=http://$ADMIN
note "server up: public=$PUBLIC admin=$ADMIN"

# sesv2 ARGS...: runs `aws sesv2 ARGS --endpoint-url EP`; sets OUT, ERR and RC.
sesv2() {
    OUT=$(aws sesv2 "$@" --endpoint-url "$EP" 2> "$T/stderr")
    RC=$?
    ERR=$(cat "$T/stderr")
}
# json EXPRESSION: evaluates a Python expression over the JSON in $OUT (as `d`) and prints it.
json() { printf '%s' "$OUT" | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# file_json EXPRESSION: the same over the configuration file (as `c`).
file_json() { python3 -c "import json; c=json.load(open('$CONFIG')); print($1)"; }
file_hash() { sha256sum "$CONFIG" | cut -d' ' -f1; }
# expect_error NAME CODE OPERATION MESSAGE-PREFIX: the last command failed with the CLI's text for it.
expect_error() {
    local text="An error occurred ($2) when calling the $3 operation"
    if [ "$RC" -ne 0 ] && printf '%s' "$ERR" | grep -qF "$text" && printf '%s' "$ERR" | grep -qF "$4"; then
        ok "$1"
    else
        bad "$1 (rc=$RC: $ERR)"
    fi
}

# --- Configuration sets ---------------------------------------------------------------------
sesv2 create-configuration-set --configuration-set-name marketing \
    --tracking-options CustomRedirectDomain=links.example.com,HttpsPolicy=REQUIRE \
    --tags Key=team,Value=growth --sending-options SendingEnabled=true
check "create-configuration-set answers 200 with no output" test "$RC" -eq 0 -a -z "$OUT"

sesv2 get-configuration-set --configuration-set-name marketing
check "get-configuration-set returns the set as created" test "$RC" -eq 0 -a \
    "$(json "d['ConfigurationSetName'], d['TrackingOptions'], d['Tags'], d['SendingOptions']")" = \
    "marketing {'CustomRedirectDomain': 'links.example.com', 'HttpsPolicy': 'REQUIRE'} [{'Key': 'team', 'Value': 'growth'}] {'SendingEnabled': True}"
check "the file holds the new set after the old one" test "$(file_json "[s['ConfigurationSetName'] for s in c['ConfigurationSets']]")" = "['existing', 'marketing']"

before=$(file_hash)
sesv2 create-configuration-set --configuration-set-name marketing
expect_error "duplicate create is AlreadyExistsException" AlreadyExistsException CreateConfigurationSet "Configuration set marketing already exists."
sesv2 create-configuration-set --configuration-set-name 'bad name!'
expect_error "an invalid name is BadRequestException" BadRequestException CreateConfigurationSet "Invalid ConfigurationSetName value \"bad name!\""
check "refused creates leave the file untouched" test "$(file_hash)" = "$before"

sesv2 get-configuration-set --configuration-set-name nope
expect_error "get of an unknown set is NotFoundException" NotFoundException GetConfigurationSet "Configuration set nope does not exist."
sesv2 get-configuration-set --configuration-set-name 'x/y'
expect_error "a name with a slash travels as one path segment" NotFoundException GetConfigurationSet "Configuration set x/y does not exist."

for name in charlie alpha bravo; do sesv2 create-configuration-set --configuration-set-name $name; done
sesv2 list-configuration-sets
check "list-configuration-sets lists every set in order" test "$(json "d['ConfigurationSets'], 'NextToken' in d")" = \
    "['alpha', 'bravo', 'charlie', 'existing', 'marketing'] False"
names=""
token=""
pages=0
while :; do
    if [ -n "$token" ]; then sesv2 list-configuration-sets --page-size 2 --next-token "$token"; else sesv2 list-configuration-sets --page-size 2; fi
    [ "$RC" -eq 0 ] || break
    names="$names $(json "' '.join(d['ConfigurationSets'])")"
    token=$(json "d.get('NextToken', '')")
    pages=$((pages + 1))
    [ -n "$token" ] && [ $pages -lt 10 ] || break
done
check "paging with --page-size 2 and --next-token walks every set once" test "$names" = " alpha bravo charlie existing marketing" -a $pages -eq 3
sesv2 list-configuration-sets --page-size 2
first=$OUT
sesv2 list-configuration-sets --page-size 2
check "the same page gives the same NextToken" test "$first" = "$OUT"

sesv2 delete-configuration-set --configuration-set-name charlie
check "delete-configuration-set answers 200" test "$RC" -eq 0 -a -z "$OUT"
sesv2 get-configuration-set --configuration-set-name charlie
expect_error "a deleted set is gone" NotFoundException GetConfigurationSet "Configuration set charlie does not exist."
sesv2 delete-configuration-set --configuration-set-name charlie
expect_error "deleting it again is NotFoundException" NotFoundException DeleteConfigurationSet "Configuration set charlie does not exist."

# --- Tracking options ---------------------------------------------------------------------------
sesv2 put-configuration-set-tracking-options --configuration-set-name marketing \
    --custom-redirect-domain click.example.net --https-policy REQUIRE_OPEN_ONLY
check "put-configuration-set-tracking-options answers 200" test "$RC" -eq 0 -a -z "$OUT"
sesv2 get-configuration-set --configuration-set-name marketing
check "get shows the new tracking options" test "$(json "d['TrackingOptions']")" = \
    "{'CustomRedirectDomain': 'click.example.net', 'HttpsPolicy': 'REQUIRE_OPEN_ONLY'}"
sesv2 put-configuration-set-tracking-options --configuration-set-name marketing --custom-redirect-domain click.example.net
sesv2 get-configuration-set --configuration-set-name marketing
check "an omitted HttpsPolicy is removed (PUT replaces exactly what is sent)" test "$(json "d['TrackingOptions']")" = \
    "{'CustomRedirectDomain': 'click.example.net'}"

before=$(file_hash)
sesv2 put-configuration-set-tracking-options --configuration-set-name nope --custom-redirect-domain t.example.org
expect_error "put on an unknown set is NotFoundException" NotFoundException PutConfigurationSetTrackingOptions "Configuration set nope does not exist."
sesv2 put-configuration-set-tracking-options --configuration-set-name marketing --custom-redirect-domain t.example.org --https-policy BOGUS
expect_error "a bad HttpsPolicy is BadRequestException" BadRequestException PutConfigurationSetTrackingOptions \
    'Invalid HttpsPolicy value "BOGUS": expected one of REQUIRE, REQUIRE_OPEN_ONLY, OPTIONAL.'
sesv2 put-configuration-set-tracking-options --configuration-set-name marketing --custom-redirect-domain t.example.org:8080
expect_error "a bad domain is BadRequestException" BadRequestException PutConfigurationSetTrackingOptions \
    'Invalid CustomRedirectDomain value "t.example.org:8080": it contains a port; give the host name only.'
check "refused puts leave the file untouched" test "$(file_hash)" = "$before"

# --- Event destinations -----------------------------------------------------------------------
sesv2 create-configuration-set-event-destination --configuration-set-name marketing --event-destination-name tracking \
    --event-destination 'Enabled=true,MatchingEventTypes=OPEN,CLICK'
check "create-configuration-set-event-destination answers 200" test "$RC" -eq 0 -a -z "$OUT"
sesv2 get-configuration-set-event-destinations --configuration-set-name marketing
check "get-configuration-set-event-destinations lists it" test "$(json "d['EventDestinations']")" = \
    "[{'Name': 'tracking', 'Enabled': True, 'MatchingEventTypes': ['OPEN', 'CLICK']}]"
sesv2 create-configuration-set-event-destination --configuration-set-name marketing --event-destination-name tracking \
    --event-destination 'Enabled=true,MatchingEventTypes=OPEN'
expect_error "a second destination of that name is AlreadyExistsException" AlreadyExistsException CreateConfigurationSetEventDestination \
    "Event destination tracking already exists in configuration set marketing."
sesv2 update-configuration-set-event-destination --configuration-set-name marketing --event-destination-name tracking \
    --event-destination 'Enabled=true,MatchingEventTypes=CLICK'
sesv2 get-configuration-set-event-destinations --configuration-set-name marketing
check "update-configuration-set-event-destination switches opens off" test "$RC" -eq 0 -a \
    "$(json "d['EventDestinations'][0]['MatchingEventTypes']")" = "['CLICK']"
sesv2 create-configuration-set-event-destination --configuration-set-name marketing --event-destination-name spare \
    --event-destination 'Enabled=false,MatchingEventTypes=OPEN'
sesv2 delete-configuration-set-event-destination --configuration-set-name marketing --event-destination-name spare
sesv2 get-configuration-set-event-destinations --configuration-set-name marketing
check "delete-configuration-set-event-destination removes only that one" test "$(json "[e['Name'] for e in d['EventDestinations']]")" = "['tracking']"
sesv2 update-configuration-set-event-destination --configuration-set-name marketing --event-destination-name spare \
    --event-destination 'Enabled=true,MatchingEventTypes=OPEN'
expect_error "updating a missing destination is NotFoundException" NotFoundException UpdateConfigurationSetEventDestination \
    "Event destination spare does not exist in configuration set marketing."
sesv2 update-configuration-set-event-destination --configuration-set-name marketing --event-destination-name tracking \
    --event-destination 'Enabled=true,MatchingEventTypes=OPEN,CLICK'

# --- Authentication: each refused with 403 and nothing written -------------------------------
before=$(file_hash)
OUT=$(aws --no-sign-request sesv2 create-configuration-set --configuration-set-name unsigned --endpoint-url "$EP" 2> "$T/stderr"); RC=$?; ERR=$(cat "$T/stderr")
expect_error "an unsigned request is MissingAuthenticationTokenException" MissingAuthenticationTokenException CreateConfigurationSet "Missing Authentication Token"
OUT=$(AWS_ACCESS_KEY_ID=$KEY1 AWS_SECRET_ACCESS_KEY=not-the-secret aws sesv2 create-configuration-set --configuration-set-name wrongsig --endpoint-url "$EP" 2> "$T/stderr"); RC=$?; ERR=$(cat "$T/stderr")
expect_error "a wrong secret is SignatureDoesNotMatch" SignatureDoesNotMatch CreateConfigurationSet "The request signature we calculated does not match the signature you provided."
OUT=$(AWS_ACCESS_KEY_ID=AKIANOBODY00000000 AWS_SECRET_ACCESS_KEY=$SECRET1 aws sesv2 create-configuration-set --configuration-set-name unknownkey --endpoint-url "$EP" 2> "$T/stderr"); RC=$?; ERR=$(cat "$T/stderr")
expect_error "an unknown access key is UnrecognizedClientException" UnrecognizedClientException CreateConfigurationSet "The security token included in the request is invalid."
OUT=$(aws sesv2 create-configuration-set --configuration-set-name otherregion --region eu-west-1 --endpoint-url "$EP" 2> "$T/stderr"); RC=$?; ERR=$(cat "$T/stderr")
expect_error "a credential scoped to another region is refused" SignatureDoesNotMatch CreateConfigurationSet "Credential should be scoped to a valid region, not 'eu-west-1'."
if ! command -v faketime >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get install -y -q faketime > "$T/apt.log" 2>&1 || { apt-get update -q > /dev/null 2>&1; apt-get install -y -q faketime >> "$T/apt.log" 2>&1; }
fi
if command -v faketime >/dev/null; then
    OUT=$(faketime -f -6m aws sesv2 create-configuration-set --configuration-set-name old --endpoint-url "$EP" 2> "$T/stderr"); RC=$?; ERR=$(cat "$T/stderr")
    expect_error "a request signed 6 minutes ago is InvalidSignatureException" InvalidSignatureException CreateConfigurationSet "Signature expired: "
    OUT=$(faketime -f -4m aws sesv2 list-configuration-sets --endpoint-url "$EP" 2> "$T/stderr"); RC=$?
    check "a request signed 4 minutes ago is served (5-minute window)" test "$RC" -eq 0
else
    note "faketime is not installed: the 6-minute case runs only in control_api_boto3.py"
fi
check "refused requests wrote nothing" test "$(file_hash)" = "$before"
OUT=$(AWS_ACCESS_KEY_ID=$KEY2 AWS_SECRET_ACCESS_KEY=$SECRET2 aws sesv2 list-configuration-sets --endpoint-url "$EP" 2> "$T/stderr"); RC=$?
check "the second key (secret from an environment variable) is accepted" test "$RC" -eq 0

sesv2 get-account
expect_error "an operation LinkTrack does not serve is UnknownOperationException" UnknownOperationException GetAccount "No SES v2 operation is served at GET /v2/email/account."

# --- Throttling -----------------------------------------------------------------------------------
# set_throttle RATE BURST: edits the file by hand, sends SIGHUP and waits for the reload.
set_throttle() {
    local reloads
    reloads=$(grep -c 'configuration reloaded' "$T/server.log")
    python3 - "$CONFIG" "$1" "$2" <<'EOF'
import json, sys
path, rate, burst = sys.argv[1], sys.argv[2], sys.argv[3]
config = json.load(open(path))
config["ControlAPIThrottle"] = {"RequestsPerSecond": float(rate), "Burst": int(burst)}
open(path, "w").write(json.dumps(config, indent=2) + "\n")
EOF
    kill -HUP "$SERVER_PID"
    for _ in $(seq 1 100); do
        [ "$(grep -c 'configuration reloaded' "$T/server.log")" -gt "$reloads" ] && return 0
        sleep 0.05
    done
    return 1
}
# drain: signed requests (botocore's SigV4Auth) until one is served: the bucket is then empty.
drain() {
    python3 - "$EP" "$KEY1" "$SECRET1" <<'EOF'
import sys, time, urllib.request, urllib.error
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
endpoint, key, secret = sys.argv[1:4]
for _ in range(50):
    request = AWSRequest(method="GET", url=endpoint + "/v2/email/configuration-sets")
    SigV4Auth(Credentials(key, secret), "ses", "us-east-1").add_auth(request)
    try:
        urllib.request.urlopen(urllib.request.Request(request.url, headers=dict(request.headers.items()), method="GET"))
        sys.exit(0)
    except urllib.error.HTTPError as e:
        if e.code != 429:
            sys.exit(1)
    time.sleep(0.3)
sys.exit(1)
EOF
}
if set_throttle 0.5 1; then
    ok "a hand edit of ControlAPIThrottle is reloaded on SIGHUP"
else
    bad "a hand edit of ControlAPIThrottle is reloaded on SIGHUP"
fi
drain
OUT=$(AWS_MAX_ATTEMPTS=1 aws sesv2 list-configuration-sets --endpoint-url "$EP" 2> "$T/stderr"); RC=$?; ERR=$(cat "$T/stderr")
expect_error "past the bucket, a request without retries is TooManyRequestsException (429)" TooManyRequestsException ListConfigurationSets \
    "Too many requests have been made to the operation."
drain
refused_before=$(grep -c 'status=429' "$T/server.log")
OUT=$(aws --debug sesv2 list-configuration-sets --endpoint-url "$EP" 2> "$T/debug.log"); RC=$?
refused_after=$(grep -c 'status=429' "$T/server.log")
if [ "$RC" -eq 0 ] && grep -q 'TooManyRequestsException' "$T/debug.log" && [ "$refused_after" -gt "$refused_before" ] \
    && [ "$(json "len(d['ConfigurationSets'])")" -ge 4 ]; then
    ok "a throttled CLI call is refused with 429 and then served by the CLI's own retries ($((refused_after - refused_before)) refused)"
else
    bad "a throttled CLI call is refused with 429 and then served by the CLI's own retries (rc=$RC, 429s: $((refused_after - refused_before)))"
fi
set_throttle 50 100 || bad "restoring the throttle"

# --- Concurrent changes -----------------------------------------------------------------------------
for i in 0 1 2 3 4 5; do sesv2 create-configuration-set --configuration-set-name "p$i"; done
pids=""
for i in 0 1 2 3 4 5; do
    aws sesv2 put-configuration-set-tracking-options --configuration-set-name "p$i" --custom-redirect-domain "p$i.example.org" \
        --https-policy REQUIRE --endpoint-url "$EP" > "$T/put-p$i.out" 2>&1 &
    pids="$pids $!"
    aws sesv2 put-configuration-set-tracking-options --configuration-set-name existing --custom-redirect-domain "e$i.example.org" \
        --endpoint-url "$EP" > "$T/put-e$i.out" 2>&1 &
    pids="$pids $!"
done
all=0
for pid in $pids; do wait "$pid" || all=1; done
check "12 concurrent puts from separate CLI processes all succeed" test $all -eq 0
check "every concurrent change is in the file" test "$(file_json "sorted((s['ConfigurationSetName'], s.get('TrackingOptions', {}).get('CustomRedirectDomain')) for s in c['ConfigurationSets'] if s['ConfigurationSetName'].startswith('p'))")" = \
    "[('p0', 'p0.example.org'), ('p1', 'p1.example.org'), ('p2', 'p2.example.org'), ('p3', 'p3.example.org'), ('p4', 'p4.example.org'), ('p5', 'p5.example.org')]"
check "the set everyone changed holds one of the values sent" test "$(file_json "c['ConfigurationSets'][0]['TrackingOptions']['CustomRedirectDomain'] in ['e%d.example.org' % i for i in range(6)]")" = True
check "no temporary file is left beside the configuration" test "$(ls "$T" | grep -c 'config.json.tmp')" -eq 0

# --- The filter and the server use the new options ---------------------------------------------
cat > "$T/message.eml" <<'EOF'
From: sender@example.com
To: reader@example.org
Subject: News
Message-ID: <control-api-test@example.com>
X-SES-CONFIGURATION-SET: marketing
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><body><p><a href="http://shop.example.com/sale?x=1">Sale</a></p></body></html>
EOF
filter_check() { # filter_check NAME DOMAIN SCHEME-OF-CLICK SCHEME-OF-PIXEL
    if "$FILTER" filter --config "$CONFIG" < "$T/message.eml" > "$T/filtered.eml" 2> "$T/filter.err" \
        && grep -q "href=\"$3://$2/c/" "$T/filtered.eml" && grep -q "src=\"$4://$2/o/" "$T/filtered.eml"; then
        ok "$1"
    else
        bad "$1 ($(cat "$T/filter.err"); $(grep -o 'href="[^"]*"' "$T/filtered.eml" | head -1))"
    fi
}
sesv2 put-configuration-set-tracking-options --configuration-set-name marketing --custom-redirect-domain track.example.net --https-policy REQUIRE
filter_check "after a put with REQUIRE, the filter's links use https://track.example.net" track.example.net https https
CLICK=$(grep -o 'href="https://track.example.net/c/[^"]*"' "$T/filtered.eml" | head -1 | sed 's/^href="https:\/\/track.example.net//; s/"$//; s/&amp;/\&/g')
status=$(python3 - "$PUBLIC" "$CLICK" <<'EOF'
import http.client, sys
host, port = sys.argv[1].rsplit(":", 1)
c = http.client.HTTPConnection(host, int(port), timeout=10)
c.request("GET", sys.argv[2], headers={"Host": "track.example.net"})
r = c.getresponse()
print(r.status, r.getheader("Location"))
EOF
)
check "the server follows that click at once (it reloaded on the change): $status" test "$status" = "302 http://shop.example.com/sale?x=1"
sesv2 put-configuration-set-tracking-options --configuration-set-name marketing --custom-redirect-domain plain.example.net --https-policy OPTIONAL
filter_check "after a put with OPTIONAL, the links use plain.example.net and keep the link's http" plain.example.net http http
sesv2 update-configuration-set-event-destination --configuration-set-name marketing --event-destination-name tracking \
    --event-destination 'Enabled=true,MatchingEventTypes=CLICK'
"$FILTER" filter --config "$CONFIG" < "$T/message.eml" > "$T/filtered.eml" 2> "$T/filter.err"
if grep -q 'href="http://plain.example.net/c/' "$T/filtered.eml" && ! grep -q '/o/' "$T/filtered.eml"; then
    ok "with the destination matching CLICK only, the filter adds no open pixel"
else
    bad "with the destination matching CLICK only, the filter adds no open pixel"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
