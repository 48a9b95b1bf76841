#!/usr/bin/env bash
# End-to-end test of LinkTrack inside real MTAs from Debian's packages (issue 7).
#
#   bash Integration/test-mta.sh PATH_TO_LINKTRACK_BINARY      (from the repository root, as root)
#
# Exim: Debian's exim4-daemon-light (installed with apt-get when missing, with service starts
# refused by policy-rc.d), run with a private configuration through `exim4 -C`, a private spool
# and log; no daemon: messages are queued with -odq and delivered by queue runs (-qff).
# Postfix: Debian's postfix package extracted (apt-get download + dpkg -x) into the temporary
# directory, since it conflicts with exim4 as a package; its own master runs there with a
# private main.cf/master.cf, listening on 127.0.0.1 only, and is stopped at the end.
# Both use the files shipped in Integration/ (paths rewritten to the temporary directory).
#
# Every corpus message that can be compared (see mta_check.py select) is delivered without the
# filter and with it, to maildirs; each tracked delivery must equal `linktrack filter` of the
# unfiltered one, apart from the header fields the MTA adds. Then the fault cases and, for Exim,
# the delivery rate with and without the filter. Prints "N passed, N failed"; exits 1 on any
# failure. Nothing is left running and nothing outside the temporary directory is changed,
# apart from installing exim4-daemon-light and the libraries Postfix needs when missing.
# KEEP=1 keeps the temporary directory. BENCH_COUNT (default 200) sets the messages per rate.

set -u
export LC_ALL=C

START=$SECONDS
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
    echo "usage: bash Integration/test-mta.sh PATH_TO_LINKTRACK_BINARY" >&2
    exit 64
fi
if [ "$(id -u)" != 0 ]; then
    echo "test-mta.sh: must run as root (Exim -C and Postfix need it)" >&2
    exit 77
fi
BINARY=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
BENCH_COUNT=${BENCH_COUNT:-200}

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok $*"; }
bad() { failed=$((failed + 1)); echo "not ok $*"; }
note() { echo "# $*"; }
# Counts the "ok"/"not ok" lines of mta_check.py.
tally() {
    local line
    while IFS= read -r line; do
        echo "$line"
        case $line in
            "ok "*) passed=$((passed + 1)) ;;
            "not ok "*) failed=$((failed + 1)) ;;
        esac
    done
}

# Runs mta_check.py and counts its "ok"/"not ok" lines (no pipe: the counters must survive).
mta_check() {
    local rc
    python3 "$HERE/mta_check.py" "$@" > "$T/mta_check.out" 2>&1
    rc=$?
    tally < "$T/mta_check.out"
    [ $rc = 0 ] || bad "mta_check.py $1 exited with status $rc"
}

T=$(mktemp -d -t linktrack-mta.XXXXXX)
chmod 755 "$T"
export MTA_TEST_TMP=$T
POSTFIX_STARTED=""
POLICY_RC_CREATED=""

cleanup() {
    if [ -n "$POSTFIX_STARTED" ]; then
        LD_LIBRARY_PATH=$PFROOT/usr/lib/postfix "$PFROOT/usr/sbin/postfix" -c "$PF/etc" stop >/dev/null 2>&1
        local pid i
        pid=$(tr -dc 0-9 < "$PF/spool/pid/master.pid" 2>/dev/null)
        for i in $(seq 50); do
            [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && kill "$pid"
    fi
    [ -n "$POLICY_RC_CREATED" ] && rm -f /usr/sbin/policy-rc.d
    if [ "${KEEP:-0}" = 1 ]; then
        echo "# kept $T"
    else
        rm -rf "$T"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

finish() {
    note "total time $((SECONDS - START)) s"
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}

# --- Packages ----------------------------------------------------------------------------

apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >"$T/apt.log" 2>&1 ||
        { apt-get update >>"$T/apt.log" 2>&1 &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$T/apt.log" 2>&1; }
}

command -v python3 >/dev/null || apt_install python3 || { bad "setup: python3 missing"; finish; }

if [ ! -x /usr/sbin/exim4 ]; then
    if dpkg -s postfix >/dev/null 2>&1; then
        bad "setup: postfix is installed as a package and conflicts with exim4-daemon-light"
        finish
    fi
    # Refuse service starts while installing, so that no Exim daemon is left running.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        POLICY_RC_CREATED=1
    fi
    note "installing exim4-daemon-light"
    apt_install exim4-daemon-light || { cat "$T/apt.log"; bad "setup: apt-get install exim4-daemon-light"; finish; }
    [ -n "$POLICY_RC_CREATED" ] && rm -f /usr/sbin/policy-rc.d && POLICY_RC_CREATED=""
fi
EXIM_USER=$(/usr/sbin/exim4 -C /dev/null -bP exim_user 2>/dev/null | sed 's/.*= *//')
EXIM_USER=${EXIM_USER:-Debian-exim}

PFROOT=$T/postfix-root
mkdir -p "$T/pkg" "$PFROOT"
( cd "$T/pkg" && { apt-get download postfix >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get download postfix >/dev/null 2>&1; }; } ) ||
    { bad "setup: apt-get download postfix"; finish; }
dpkg -x "$T"/pkg/postfix_*.deb "$PFROOT" || { bad "setup: dpkg -x postfix"; finish; }
if LD_LIBRARY_PATH=$PFROOT/usr/lib/postfix ldd "$PFROOT/usr/lib/postfix/sbin/smtpd" "$PFROOT/usr/sbin/postfix" | grep -q 'not found'; then
    note "installing the libraries Postfix needs"
    apt_install libdb5.3 libicu72 libnsl2 libsasl2-2 libssl3 || { bad "setup: Postfix libraries"; finish; }
fi
note "exim $(/usr/sbin/exim4 -C /dev/null -bV 2>/dev/null | sed -n '1s/ #.*//p'), postfix $(dpkg-deb -f "$T"/pkg/postfix_*.deb Version)"

# --- LinkTrack, configuration, corpus ------------------------------------------------------

mkdir -p "$T/bin" "$T/etc" "$T/log" "$T/msg"
cp "$BINARY" "$T/bin/linktrack.real"
cp "$BINARY" "$T/bin/linktrack"
LT=$T/bin/linktrack.real
cp "$REPO/Corpus/config.json" "$T/etc/config.json"
cp "$T/etc/config.json" "$T/etc/config.json.good"
printf '{ "ConfigurationSets": [ this is not JSON\n' > "$T/etc/config.json.broken"
chmod 755 "$T/bin"/*
chmod 644 "$T/etc"/*
touch "$T/log/linktrack.log"
chmod 666 "$T/log/linktrack.log"
if "$LT" check --help 2>&1 | grep -q 'USAGE: linktrack check'; then
    note "verdicts by linktrack check"
else
    note "linktrack check not available: verdicts by comparison with linktrack filter"
fi

# Fault switches: swap the configuration file or the binary, the way an operator's mistake or
# a crash would look to the MTA.
break_config() { cp "$T/etc/config.json.broken" "$T/etc/config.json"; }
force_temporary() { printf '#!/bin/sh\nLINKTRACK_TEST_FAULT=temporary exec %s "$@"\n' "$LT" > "$T/bin/linktrack"; chmod 755 "$T/bin/linktrack"; }
clear_faults() { cp "$T/etc/config.json.good" "$T/etc/config.json"; cp "$LT" "$T/bin/linktrack"; chmod 755 "$T/bin/linktrack"; }

# Per-sender configuration sets, as the wrappers read them.
printf '# sender-domain configuration-set\noptional.sets.test optional\n' > "$T/etc/sender-sets"
chmod 644 "$T/etc/sender-sets"
sender_for() { if [ "$1" = - ]; then echo "sender@example.com"; else echo "sender@$1.sets.test"; fi; }

python3 "$HERE/mta_check.py" select "$REPO/Corpus" > "$T/cases.txt"
NCASES=$(wc -l < "$T/cases.txt")
grep -v ' - ' "$T/cases.txt" | awk '{print $1}' > "$T/cases-with-set.txt"
note "$NCASES corpus messages: $(awk '{print $3}' "$T/cases.txt" | sort | uniq -c | awk '{printf "%s %s, ", $1, $2}')$(grep -c ' yes$' "$T/cases.txt") to be tracked"
awk '$2 == "-"' "$T/cases.txt" > "$T/cases-noset.txt"
FAULT_CASE=mime-alternative-lf
BENCH_CASE=mime-alternative-lf
UNKNOWN_CASE=exit-unknown-configuration-set
UNKNOWN_TEXT=$("$LT" filter --config "$T/etc/config.json" < "$REPO/Corpus/$UNKNOWN_CASE/input.eml" 2>&1 >/dev/null)
case $UNKNOWN_TEXT in
    "NotFoundException: Configuration set "*" does not exist.") ;;
    *) bad "setup: unexpected filter message for $UNKNOWN_CASE: $UNKNOWN_TEXT" ;;
esac

# Rewrites the shipped paths in a copy of an Integration/ file.
localize() {
    sed -e "s#/usr/local/bin/linktrack#$T/bin/linktrack#g" \
        -e "s#/usr/local/lib/linktrack/#$T/bin/#g" \
        -e "s#/etc/linktrack/config.json#$T/etc/config.json#g" \
        -e "s#/etc/linktrack/sender-sets#$T/etc/sender-sets#g" \
        -e "s#^FILTER_OPTIONS=\"\"#FILTER_OPTIONS=\"--log-file $T/log/linktrack.log\"#" \
        "$@"
}

# ==========================================================================================
# Exim
# ==========================================================================================
EX=$T/exim
mkdir -p "$EX/spool" "$EX/log" "$EX/mail"
localize "$HERE/exim/pipe-router.conf" > "$EX/pipe-router.conf"
localize "$HERE/exim/pipe-transport.conf" > "$EX/pipe-transport.conf"
localize "$HERE/exim/linktrack-exim" | sed "s#^EXIM=.*#EXIM=\"/usr/sbin/exim4 -C $EX/exim.conf\"#" > "$T/bin/linktrack-exim"
sed -i 's#^"\$EXIM" #$EXIM #' "$T/bin/linktrack-exim"
chmod 755 "$T/bin/linktrack-exim"
TF_LINE=$(localize "$HERE/exim/transport-filter.conf" | grep -E '^[[:space:]]+transport_filter[[:space:]]*=')
[ -n "$TF_LINE" ] || bad "exim: no transport_filter line in exim/transport-filter.conf"

# Mailboxes: plain-NAME (no filter), tf-NAME (transport_filter), pipe-NAME (pipe + wrapper),
# bounces. The routers find them with dsearch, which also untaints the local part.
while read -r name _; do
    mkdir -p "$EX/mail/plain-$name" "$EX/mail/tf-$name" "$EX/mail/pipe-$name"
done < "$T/cases.txt"
for box in bounces tf-fault78 tf-fault75 pipe-fault78 pipe-fault75 tf-unknown pipe-unknown \
           plain-bench tf-bench pipe-bench; do
    mkdir -p "$EX/mail/$box"
done
chown -R "$EXIM_USER:" "$EX/spool" "$EX/log" "$EX/mail"

cat > "$EX/exim.conf" <<EOF
# Throw-away configuration of test-mta.sh. With -C, Exim gives up root for deliveries and runs
# them as the Exim user, so every transport runs as $EXIM_USER.
spool_directory = $EX/spool
log_file_path = $EX/log/%slog
primary_hostname = mta.test
qualify_domain = test.invalid
domainlist local_domains = test.invalid
keep_environment =
log_selector = +received_recipients
timeout_frozen_after = 1d

begin routers

plain:
  driver = accept
  local_parts = dsearch;$EX/mail
  condition = \${if match{\$local_part}{\N^(plain-|bounces\$)\N}}
  transport = maildir

tf:
  driver = accept
  local_parts = dsearch;$EX/mail
  condition = \${if match{\$local_part}{\N^tf-\N}}
  transport = maildir_transport_filter

.include $EX/pipe-router.conf

delivered:
  driver = accept
  local_parts = dsearch;$EX/mail
  transport = maildir

begin transports

maildir:
  driver = appendfile
  directory = $EX/mail/\$local_part_data
  maildir_format
  user = $EXIM_USER
  create_directory

maildir_transport_filter:
  driver = appendfile
  directory = $EX/mail/\$local_part_data
  maildir_format
  user = $EXIM_USER
  create_directory
$TF_LINE

.include $EX/pipe-transport.conf

begin retry

*   *   F,1d,10m
EOF
chmod 644 "$EX/exim.conf" "$EX/pipe-router.conf" "$EX/pipe-transport.conf"
# Exim refuses to run a transport as root and needs the Exim user in the pipe transport.
sed -i "s/^  user = Debian-exim/  user = $EXIM_USER/; s/^  group = Debian-exim/  group = $EXIM_USER/" "$EX/pipe-transport.conf"

exim() { /usr/sbin/exim4 -C "$EX/exim.conf" "$@"; }
exim_queue_count() { exim -bpc 2>/dev/null || echo 999; }
# Queue runs until the queue is empty (the re-injected copies are delivered in the background).
exim_drain() {
    local i
    exim -qff >/dev/null 2>&1
    for i in $(seq "${1:-300}"); do
        [ "$(exim_queue_count)" = 0 ] && return 0
        sleep 0.2
        [ $((i % 25)) = 0 ] && exim -qff >/dev/null 2>&1
    done
    return 1
}
maildir_count() { find "$1/new" -type f 2>/dev/null | wc -l; }

if exim -bV >/dev/null 2>&1; then ok "exim: private configuration accepted"; else
    bad "exim: configuration: $(exim -bV 2>&1 | head -3)"; finish; fi

# --- Exim: deliveries ----------------------------------------------------------------------
note "exim: queueing $NCASES messages for plain, transport_filter and pipe delivery"
while read -r name set _; do
    rcpts="plain-$name@test.invalid pipe-$name@test.invalid"
    # The transport_filter way has no per-sender configuration set (see README).
    [ "$set" = - ] && rcpts="$rcpts tf-$name@test.invalid"
    # shellcheck disable=SC2086
    exim -odq -oi -f "$(sender_for "$set")" $rcpts < "$REPO/Corpus/$name/input.eml" ||
        bad "exim: submit $name"
done < "$T/cases.txt"
if exim_drain 600; then ok "exim: queue empty after delivery"; else
    bad "exim: $(exim_queue_count) messages left in the queue"; exim -bp | head -20; fi
grep -E ' (\*\*|==) ' "$EX/log/mainlog" | head -10 | sed 's/^/# mainlog: /'

mta_check verify "$LT" "$T/etc/config.json.good" "$T/cases-noset.txt" \
    "$EX/mail" plain- "$EX/mail" tf- "exim transport_filter"
mta_check verify "$LT" "$T/etc/config.json.good" "$T/cases.txt" \
    "$EX/mail" plain- "$EX/mail" pipe- "exim pipe"

# --- Exim: faults --------------------------------------------------------------------------
# Each fault: the message must stay queued (deferred), nothing may reach the mailbox, and after
# the fault is cleared a queue run must deliver it tracked.
exim_fault() {
    local fault=$1 code=$2 log_pattern id box way
    for way in tf pipe; do
        box=$way-fault$code
        clear_faults
        $fault
        exim -odq -oi -f sender@example.com "$box@test.invalid" < "$REPO/Corpus/$FAULT_CASE/input.eml"
        id=$(exim -bp | awk -v r="$box@test.invalid" '$1 ~ /[0-9]+[smhd]/ {id=$3} $1 == r {print id}' | tail -1)
        exim -qff >/dev/null 2>&1
        sleep 1
        if [ "$way" = tf ]; then
            log_pattern="$id == $box@test.invalid .*transport filter process failed \\($code\\)"
        else
            log_pattern="$id == $box@test.invalid .*returned 75"
        fi
        if [ -n "$id" ] && exim -bp | grep -q "$box@test.invalid" &&
           grep -Eq "$log_pattern" "$EX/log/mainlog" &&
           [ "$(maildir_count "$EX/mail/$box")" = 0 ] && [ -z "$(ls -A "$EX/mail/$box/tmp" 2>/dev/null)" ]; then
            ok "exim $way: exit $code ($fault) defers, message kept in the queue, nothing delivered"
        else
            bad "exim $way: exit $code ($fault) did not defer cleanly (id '$id')"
            grep -F "$id" "$EX/log/mainlog" | sed 's/^/# mainlog: /'
        fi
        [ "$way" = pipe ] && grep -F "$id" "$EX/log/mainlog" | grep -m1 -i 'returned 75' | sed 's/^/# mainlog: /'
        [ "$way" = tf ] && grep -F "$id" "$EX/log/mainlog" | grep -m1 'transport filter' | sed 's/^/# mainlog: /'
        clear_faults
        exim_drain 150 || true
        if [ "$(maildir_count "$EX/mail/$box")" = 1 ]; then
            mta_check one "$LT" "$T/etc/config.json.good" - \
                "$(find "$EX/mail/plain-$FAULT_CASE/new" -type f | head -1)" \
                "$(find "$EX/mail/$box/new" -type f | head -1)" \
                "exim $way: after the exit $code fault is cleared, a queue run delivers it tracked"
        else
            bad "exim $way: after the exit $code fault is cleared: $(maildir_count "$EX/mail/$box") messages delivered"
        fi
    done
}
exim_fault break_config 78
exim_fault force_temporary 75

# Unknown configuration set: the pipe way bounces with the NotFoundException text; the
# transport_filter way can only defer (documented), and the message stays queued.
clear_faults
exim -odq -oi -f bounces@test.invalid pipe-unknown@test.invalid tf-unknown@test.invalid \
    < "$REPO/Corpus/$UNKNOWN_CASE/input.eml"
exim -qff >/dev/null 2>&1
sleep 1
exim -qff >/dev/null 2>&1
bounce=$(find "$EX/mail/bounces/new" -type f 2>/dev/null | head -1)
if [ -n "$bounce" ] && grep -qF "$UNKNOWN_TEXT" "$bounce" &&
   grep -F "<pipe-unknown@test.invalid>: linktrack_pipe transport output: $UNKNOWN_TEXT" "$EX/log/mainlog" >/dev/null &&
   grep -F "pipe-unknown@test.invalid" "$EX/log/mainlog" | grep -qF '**' &&
   [ "$(maildir_count "$EX/mail/pipe-unknown")" = 0 ]; then
    ok "exim pipe: unknown configuration set bounces with '$UNKNOWN_TEXT' (bounce and log)"
else
    bad "exim pipe: unknown configuration set did not bounce with the NotFoundException text"
    grep -F "unknown@" "$EX/log/mainlog" | sed 's/^/# mainlog: /'
fi
grep -F "pipe-unknown@test.invalid" "$EX/log/mainlog" | grep -E 'transport output|\*\*' | sed 's/^/# mainlog: /'
if exim -bp | grep -q "tf-unknown@test.invalid" &&
   grep -F "tf-unknown@test.invalid" "$EX/log/mainlog" | grep -q 'transport filter process failed (65)' &&
   [ "$(maildir_count "$EX/mail/tf-unknown")" = 0 ]; then
    ok "exim transport_filter: unknown configuration set defers (exit 65 cannot bounce there), message kept"
else
    bad "exim transport_filter: unknown configuration set not deferred as documented"
fi
exim -bp | awk '$1 ~ /[0-9]+[smhd]/ {print $3}' | while read -r id; do exim -Mrm "$id" >/dev/null; done
[ "$(exim_queue_count)" = 0 ] || bad "exim: queue not empty after the fault cases"

# --- Exim: delivery rate -------------------------------------------------------------------
# Queue BENCH_COUNT copies per way, then time one queue run (one delivery at a time) until all
# of them are in the mailbox.
exim_rate() {
    local box=$1 t0 t1 i
    for i in $(seq "$BENCH_COUNT"); do
        exim -odq -oi -f sender@example.com "$box@test.invalid" < "$REPO/Corpus/$BENCH_CASE/input.eml"
    done
    t0=$(date +%s.%N)
    exim -qff >/dev/null 2>&1
    for i in $(seq 1500); do
        [ "$(maildir_count "$EX/mail/$box")" -ge "$BENCH_COUNT" ] && break
        sleep 0.1
    done
    t1=$(date +%s.%N)
    if [ "$(maildir_count "$EX/mail/$box")" -ge "$BENCH_COUNT" ]; then
        awk -v n="$BENCH_COUNT" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", n / (b - a) }'
    else
        echo 0
    fi
}
note "exim: measuring delivery rates, $BENCH_COUNT messages each ($BENCH_CASE, $(wc -c < "$REPO/Corpus/$BENCH_CASE/input.eml") bytes)"
RATE_PLAIN=$(exim_rate plain-bench)
RATE_TF=$(exim_rate tf-bench)
RATE_PIPE=$(exim_rate pipe-bench)
exim_drain 300 || true
echo "# RATE exim without filter: $RATE_PLAIN msg/s"
echo "# RATE exim transport_filter: $RATE_TF msg/s"
echo "# RATE exim pipe + re-injection: $RATE_PIPE msg/s"
if [ "$RATE_PLAIN" != 0 ] && [ "$RATE_TF" != 0 ] && [ "$RATE_PIPE" != 0 ]; then
    ok "exim: $BENCH_COUNT messages delivered per way for the rate measurement"
else
    bad "exim: rate measurement did not deliver all messages"
fi

# ==========================================================================================
# Postfix
# ==========================================================================================
PF=$T/postfix
PFLIB=$PFROOT/usr/lib/postfix
mkdir -p "$PF/etc/dynamicmaps.cf.d" "$PF/etc/postfix-files.d" "$PF/spool" "$PF/data" "$PF/mail"
cp "$PFROOT/etc/postfix/postfix-files" "$PFROOT/usr/share/postfix/dynamicmaps.cf" "$PF/etc/"
localize "$HERE/postfix/linktrack-postfix" |
    sed "s#^SENDMAIL=.*#SENDMAIL=$PFROOT/usr/sbin/sendmail#" > "$T/bin/linktrack-postfix"
chmod 755 "$T/bin/linktrack-postfix"
chown mail "$PF/data"
chown nobody:nogroup "$PF/mail"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT_FILTER=$(free_port)
PORT_PLAIN=$(free_port)
while [ "$PORT_PLAIN" = "$PORT_FILTER" ]; do PORT_PLAIN=$(free_port); done

# Users: the mail owner, setgid group, default_privs and the pipe user must all differ; these
# exist on every Debian system. The maildrop directory is made world-writable below instead of
# making postdrop set-gid, so that the unprivileged wrapper can re-inject with this private
# configuration directory (a set-gid postdrop only accepts directories named in
# /etc/postfix/main.cf).
cat > "$PF/etc/main.cf" <<EOF
compatibility_level = 3.6
config_directory = $PF/etc
meta_directory = $PF/etc
queue_directory = $PF/spool
data_directory = $PF/data
command_directory = $PFROOT/usr/sbin
daemon_directory = $PFLIB/sbin
shlib_directory = $PFLIB
sendmail_path = $PFROOT/usr/sbin/sendmail
newaliases_path = $PFROOT/usr/bin/newaliases
mailq_path = $PFROOT/usr/bin/mailq
manpage_directory = $PFROOT/usr/share/man
readme_directory = no
html_directory = no
mail_owner = mail
setgid_group = lp
default_privs = nobody
myhostname = pf.test
myorigin = test.invalid
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
default_transport = error:no remote delivery in this test
smtpd_banner = \$myhostname ESMTP
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C LD_LIBRARY_PATH=$PFLIB
export_environment = TZ MAIL_CONFIG LANG LD_LIBRARY_PATH
virtual_mailbox_domains = test.invalid
virtual_mailbox_base = $PF/mail
virtual_mailbox_maps = texthash:$PF/etc/vmailbox
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
smtputf8_enable = no
biff = no
EOF

# The shipped linktrack service (with the test's paths and an existing unprivileged user), an
# SMTP listener with the content filter as the shipped smtpd line has it, and one without.
PF_SERVICE=$(localize "$HERE/postfix/master.cf" | sed 's/user=linktrack/user=nobody/' |
    awk '/^linktrack[[:space:]]/ {on=1; print; next} on && /^[[:space:]]/ {print; next} {on=0}')
PF_FILTER_OPT=$(awk '/^smtp[[:space:]]+inet/ {on=1; next} on && /^[[:space:]]+-o/ {print; next} {on=0}' "$HERE/postfix/master.cf")
[ -n "$PF_SERVICE" ] && [ -n "$PF_FILTER_OPT" ] || bad "postfix: shipped master.cf stanzas not found"
cat > "$PF/etc/master.cf" <<EOF
127.0.0.1:$PORT_FILTER inet n - n - - smtpd
$PF_FILTER_OPT
127.0.0.1:$PORT_PLAIN inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
$PF_SERVICE
EOF

{
    while read -r name _; do
        echo "plain-$name@test.invalid plain-$name/"
        echo "pf-$name@test.invalid pf-$name/"
    done < "$T/cases.txt"
    for box in bounces pf-fault78 pf-fault75 pf-unknown; do echo "$box@test.invalid $box/"; done
} > "$PF/etc/vmailbox"
chmod 644 "$PF/etc"/*

postfix_cmd() { LD_LIBRARY_PATH=$PFLIB "$PFROOT/usr/sbin/$1" -c "$PF/etc" "${@:2}"; }
# postfix-script prints its warnings (set-gid postdrop, ownership of the extracted tree) only
# when stderr is a terminal; the log has them.
if postfix_cmd postfix start >"$T/postfix-start.log" 2>&1; then
    POSTFIX_STARTED=1
    ok "postfix: private instance started on 127.0.0.1:$PORT_FILTER and :$PORT_PLAIN"
else
    POSTFIX_STARTED=1
    bad "postfix: start failed"
    tail -20 "$PF/maillog" 2>/dev/null | sed 's/^/# maillog: /'
    finish
fi
chmod 1733 "$PF/spool/maildrop"
chmod 755 "$PF/spool/public"
for i in $(seq 50); do
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)" "$PORT_FILTER" 2>/dev/null && break
    sleep 0.1
done

pf_queue_empty() { [ -z "$(find "$PF/spool/incoming" "$PF/spool/active" "$PF/spool/deferred" "$PF/spool/maildrop" -type f 2>/dev/null | head -1)" ]; }
pf_wait() {
    local i
    for i in $(seq "${1:-600}"); do
        pf_queue_empty && return 0
        sleep 0.2
    done
    return 1
}
pf_smtp() { python3 "$HERE/mta_check.py" smtp "$@"; }

note "postfix: submitting $NCASES messages over SMTP, with and without the content filter"
while read -r name set _; do
    sender=$(sender_for "$set")
    pf_smtp "$PORT_PLAIN" "$sender" "plain-$name@test.invalid" "$REPO/Corpus/$name/input.eml" || bad "postfix: submit plain $name"
    pf_smtp "$PORT_FILTER" "$sender" "pf-$name@test.invalid" "$REPO/Corpus/$name/input.eml" || bad "postfix: submit $name"
done < "$T/cases.txt"
sleep 1
if pf_wait 900; then ok "postfix: queue empty after delivery"; else
    bad "postfix: queue not empty"; postfix_cmd postqueue -p | head -20; fi
grep -E 'status=(deferred|bounced)' "$PF/maillog" | head -10 | sed 's/^/# maillog: /'

mta_check verify "$LT" "$T/etc/config.json.good" "$T/cases.txt" \
    "$PF/mail" plain- "$PF/mail" pf- "postfix pipe"

# --- Postfix: faults -----------------------------------------------------------------------
pf_fault() {
    local fault=$1 code=$2 box=pf-fault$2 qid i
    clear_faults
    $fault
    pf_smtp "$PORT_FILTER" sender@example.com "$box@test.invalid" "$REPO/Corpus/$FAULT_CASE/input.eml"
    for i in $(seq 100); do
        grep -q "to=<$box@test.invalid>.*status=deferred" "$PF/maillog" && break
        sleep 0.1
    done
    qid=$(grep "to=<$box@test.invalid>.*status=deferred" "$PF/maillog" | head -1 | sed -E 's/.*\]: ([0-9A-F]+): .*/\1/')
    if [ -n "$qid" ] && [ -n "$(find "$PF/spool/deferred" -name "$qid" -type f)" ] &&
       [ "$(maildir_count "$PF/mail/$box")" = 0 ]; then
        ok "postfix: exit $code ($fault) defers, message $qid kept in the deferred queue, nothing delivered"
    else
        bad "postfix: exit $code ($fault) did not defer cleanly"
    fi
    grep "to=<$box@test.invalid>" "$PF/maillog" | head -1 | sed 's/^/# maillog: /'
    clear_faults
    postfix_cmd postqueue -f
    for i in $(seq 300); do
        [ "$(maildir_count "$PF/mail/$box")" -ge 1 ] && break
        sleep 0.1
    done
    if [ "$(maildir_count "$PF/mail/$box")" = 1 ]; then
        mta_check one "$LT" "$T/etc/config.json.good" - \
            "$(find "$PF/mail/plain-$FAULT_CASE/new" -type f | head -1)" \
            "$(find "$PF/mail/$box/new" -type f | head -1)" \
            "postfix: after the exit $code fault is cleared, a queue flush delivers it tracked"
    else
        bad "postfix: after the exit $code fault is cleared: $(maildir_count "$PF/mail/$box") messages delivered"
    fi
}
pf_fault break_config 78
pf_fault force_temporary 75

clear_faults
pf_smtp "$PORT_FILTER" bounces@test.invalid pf-unknown@test.invalid "$REPO/Corpus/$UNKNOWN_CASE/input.eml"
for i in $(seq 100); do
    [ "$(maildir_count "$PF/mail/bounces")" -ge 1 ] && break
    sleep 0.1
done
bounce=$(find "$PF/mail/bounces/new" -type f 2>/dev/null | head -1)
if [ -n "$bounce" ] && grep -qF "$UNKNOWN_TEXT" "$bounce" &&
   grep "to=<pf-unknown@test.invalid>.*status=bounced" "$PF/maillog" | grep -qF "$UNKNOWN_TEXT" &&
   [ "$(maildir_count "$PF/mail/pf-unknown")" = 0 ]; then
    ok "postfix: unknown configuration set bounces with '$UNKNOWN_TEXT' (bounce and log)"
else
    bad "postfix: unknown configuration set did not bounce with the NotFoundException text"
fi
grep "to=<pf-unknown@test.invalid>" "$PF/maillog" | head -1 | sed 's/^/# maillog: /'
pf_wait 100 || bad "postfix: queue not empty after the fault cases"

# --- Postfix: stop -------------------------------------------------------------------------
postfix_cmd postfix stop >/dev/null 2>&1
for i in $(seq 100); do
    pgrep -f "^$PFLIB/sbin/master" >/dev/null || break
    sleep 0.1
done
if pgrep -f "^$PFLIB/sbin/" >/dev/null; then
    bad "postfix: processes still running after stop"
else
    POSTFIX_STARTED=""
    ok "postfix: stopped, no process left"
fi
if pgrep -x exim4 >/dev/null; then bad "exim: a process is still running"; else ok "exim: no process left"; fi
[ -s "$T/log/linktrack.log" ] && note "linktrack log: $(wc -l < "$T/log/linktrack.log") lines"

finish
