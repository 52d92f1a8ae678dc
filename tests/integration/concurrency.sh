#!/bin/sh
# SPDX-License-Identifier: ISC
# Concurrency and crashes (tests/FAULTS.md 44): 100 parallel
# mailsub runs with one account, one log file and one queue, against a
# slow sink that answers 4xx at random, with kill -9 among them; then
# `mailsub -q` against a healthy sink until the queue is empty.  Checked:
#   - every run that was not killed exited 0 or 75;
#   - a message of a run that exited 0 was delivered exactly once;
#   - a message of a run that exited 75 was delivered exactly once, or
#     more often only where a sender died after the final dot (a delivery
#     without a "sent" log record: a killed run was sending it); two "sent"
#     records for one queue ID would be two live runs sending one file;
#   - a killed run's message may be delivered any number of times, or not
#     at all (it was never acknowledged; a duplicate after the dot is
#     allowed);
#   - the queue ends empty, every log record is one whole line;
#   - once the killed runs' leftovers in tmp/ are old (aged by touch), a
#     flush removes them all.
# Runs in about 20 s.
. "$SRCDIR/tests/lib.sh"
t_init concurrency
need_mailsub

N=${CONCURRENCY_RUNS:-100}
KILLS=${CONCURRENCY_KILLS:-12}
Q=$T/queue
LOG=$T/mail.log

mkdir -p "$T/rec1" "$T/rec2" "$T/in"
server_start slow --sink --record "$T/rec1" --tempfail-rate 0.3 \
    --delay-ms 50
slow=$SRV_PID
mk_config "$T/c.ini" "logfile = $LOG" timeout=20

i=1
while [ $i -le $N ]; do
	printf 'From: a@example.org\nTo: b@example.org\nSubject: conc-%d\n' \
	    $i >"$T/in/$i"
	printf 'Message-ID: <conc-%d@concurrency.test>\n\nmessage %d\n' \
	    $i $i >>"$T/in/$i"
	i=$((i + 1))
done

# kill -9 schedule: victim v dies right after run v + d has been started
# (d random, 1..40), i.e. at a random point of its own dialogue, whatever
# the speed of fork here.
"$PYTHON3" -c 'import random, sys
n, k = int(sys.argv[1]), int(sys.argv[2])
for v in random.sample(range(1, n + 1), k):
    print(min(n, v + random.randint(1, 40)), v)' $N $KILLS >"$T/kills"
while read -r at victim; do
	eval "kat_$at=\"\${kat_$at:-} $victim\""
done <"$T/kills"

# Start them all; remember which PID is which message.
i=1
pids=
while [ $i -le $N ]; do
	"$MAILSUB" -C "$T/c.ini" b@example.org <"$T/in/$i" \
	    >/dev/null 2>"$T/in/$i.err" &
	eval "pid_$i=$!"
	pids="$pids $!"
	eval "victims=\${kat_$i:-}"
	for v in $victims; do
		eval "kill -9 \$pid_$v" 2>/dev/null && echo "$v" >>"$T/killed"
	done
	i=$((i + 1))
done

# Collect exit codes (bounded: every run has its own timeouts; the
# watchdog only guards the test itself).
"$PYTHON3" -c 'import os, sys, time
time.sleep(120)
for p in sys.argv[1:]:
    try:
        os.kill(int(p), 9)
    except OSError:
        pass' $pids >/dev/null 2>&1 &
watchdog=$!
i=1
while [ $i -le $N ]; do
	eval "p=\$pid_$i"
	wait "$p"
	echo "$i $?" >>"$T/codes"
	i=$((i + 1))
done
kill "$watchdog" 2>/dev/null
wait "$watchdog" 2>/dev/null
server_stop "$slow"

bad=$(awk '$2 != 0 && $2 != 75 && $2 != 137' "$T/codes")
[ -z "$bad" ] || t_err "unexpected exit codes: $(echo $bad)"
nkilled=$(awk '$2 == 137' "$T/codes" | wc -l)
n75=$(awk '$2 == 75' "$T/codes" | wc -l)
echo "# $N runs: $(awk '$2 == 0' "$T/codes" | wc -l) sent, $n75 queued, $nkilled killed"
t_result "parallel runs exit 0 or 75"

# Flush against a healthy sink until the queue is empty (bounded).
server_start good --sink --record "$T/rec2"
good=$SRV_PID
mk_config "$T/c2.ini" "logfile = $LOG" timeout=20
round=0
while [ "$(count_files "$Q/new")" != 0 ] && [ $round -lt 5 ]; do
	run_mailsub /dev/null -C "$T/c2.ini" -q
	case $RC in 0|75) ;; *) t_err "-q exit $RC: $(head -c 300 "$T/stderr")" ;; esac
	round=$((round + 1))
done
[ "$(count_files "$Q/new")" = 0 ] || t_err "queue not empty after $round flushes"
[ "$(count_files "$Q/failed")" = 0 ] || t_err "something went to failed/"
t_result "the flush empties the queue"

# Killed runs leave spools (and perhaps half-written queue files) in
# tmp/; once they are old, a flush removes every one.
for f in "$Q"/tmp/*; do
	[ -f "$f" ] && touch -d '2 hours ago' "$f"
done
run_mailsub /dev/null -C "$T/c2.ini" -q
expect_exit 0
[ "$(count_files "$Q/tmp")" = 0 ] ||
    t_err "left in tmp/: $(ls "$Q/tmp" | head -n 5 | tr '\n' ' ')"
t_result "no stale files after recovery"
server_stop "$good"

# Who got what: deliveries per message, "sent" records per queue ID.
"$PYTHON3" - "$T" "$N" <<'EOF' >"$T/check.out" 2>&1 || t_err "$(cat "$T/check.out")"
import glob, os, re, sys
from collections import Counter

t, n = sys.argv[1], int(sys.argv[2])
codes = dict(tuple(map(int, l.split())) for l in open(t + "/codes"))
delivered = Counter()
for rec in ("rec1", "rec2"):
    for eml in glob.glob("%s/%s/msg-*.eml" % (t, rec)):
        if not os.path.exists(eml[:-4] + ".json"):
            continue  # incomplete: the sink never answered 250
        m = re.search(rb"\r\nSubject: conc-(\d+)\r\n", b"\r\n" + open(eml, "rb").read())
        assert m, eml
        delivered[int(m.group(1))] += 1

rec_re = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ mailsub\[\d+\]: '
                    r'account=test host=\S+ from=<[^>]*> to=<[^>]*> '
                    r'size=\d+(?: msgid=\S*)? status=(\w+) exit=(\d+)'
                    r'(?: queue=(\S+))? reply=".*"$')
sent_by_qid = Counter()
sent_direct = Counter()
qid_msg = {}
problems = []
for line in open(t + "/mail.log", encoding="utf-8", errors="replace"):
    line = line.rstrip("\n")
    m = rec_re.match(line)
    if not m:
        problems.append("log line not whole: %r" % line[:200])
        continue
    status, qid = m.group(1), m.group(3) or "-"
    mid = re.search(r"msgid=<conc-(\d+)@", line)
    num = int(mid.group(1)) if mid else None
    if qid != "-":
        qid_msg[qid] = num
    if status == "sent":
        if qid == "-":
            sent_direct[num] += 1
        else:
            sent_by_qid[qid] += 1

for qid, c in sent_by_qid.items():
    if c > 1:
        problems.append("queue ID %s sent by %d live runs" % (qid, c))
for i in range(1, n + 1):
    code, d = codes.get(i), delivered[i]
    if code == 0:
        if d != 1:
            problems.append("conc-%d: exit 0, delivered %d times" % (i, d))
    elif code == 75:
        logged = sum(c for q, c in sent_by_qid.items() if qid_msg.get(q) == i)
        if d < 1:
            problems.append("conc-%d: exit 75, never delivered" % i)
        elif d > 1 and logged >= d:
            problems.append("conc-%d: delivered %d times, %d logged" %
                            (i, d, logged))
dups = [i for i in range(1, n + 1) if delivered[i] > 1]
print("deliveries %d, duplicates %s" % (sum(delivered.values()), dups))
if problems:
    print("\n".join(problems[:20]))
    sys.exit(1)
EOF
sed 's/^/# /' "$T/check.out"
t_result "each message once (duplicates only after a killed sender), whole log records"

t_summary
