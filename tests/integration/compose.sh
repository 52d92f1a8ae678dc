#!/bin/sh
# SPDX-License-Identifier: ISC
# Compose mode end to end: every shape (text only, stdin body, HTML
# alternative, HTML only, one and several attachments, binary and text
# attachments, non-ASCII subject, display names and file names, long lines,
# empty body, attachments only, Bcc only) is built with --print and parsed
# back with Python's email package (policy=default): every part must decode
# byte for byte to its source (text modulo its line-break convention).  The
# same messages go through the SMTP sink and must arrive the same, with Bcc
# only in the envelope; then through the private Postfix (root only).  Bad
# input: 66 naming a missing or unreadable file, 64 for a bad --header, and
# nothing sent or queued either way.  Memory: peak RSS with a 1 KiB and a
# 64 MiB attachment must be the same within a few MiB.

if [ -z "${SRCDIR:-}" ]; then
	SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
fi
. "$SRCDIR/tests/lib.sh"

t_init compose
need_mailsub
[ -x "$PYTHON3" ] || t_skip_all "no $PYTHON3"

Q=$T/queue
D=example.org

# ---- the checker ------------------------------------------------------------
cat >"$T/check.py" <<'EOF'
"""check.py MSG [expectations]: parse MSG with email.policy.default and
compare every header and part with what was given to mailsub."""
import argparse, email, email.policy, re, sys

ap = argparse.ArgumentParser()
ap.add_argument("msg")
ap.add_argument("--subject")
ap.add_argument("--from", dest="frm")          # "Name|addr"
ap.add_argument("--to", action="append", default=[])
ap.add_argument("--cc", action="append", default=[])
ap.add_argument("--reply-to")
ap.add_argument("--undisclosed", action="store_true")
ap.add_argument("--absent", action="append", default=[])
ap.add_argument("--top", required=True)
ap.add_argument("--text")                      # FILE of the text part
ap.add_argument("--html")                      # FILE of the HTML part
ap.add_argument("--attach", action="append", default=[])  # FILE|NAME[|TYPE]
ap.add_argument("--header", action="append", default=[])  # Name|value
ap.add_argument("--message-id")
a = ap.parse_args()
errs = []
raw = open(a.msg, "rb").read()

# Lines: 998 at most (RFC 5322 2.1.1), 7-bit, no lone CR; header lines
# with encoded-words 76 at most (RFC 2047 2).
head, _, _ = raw.partition(b"\n\n") if b"\r\n\r\n" not in raw else \
    raw.partition(b"\r\n\r\n")
for n, line in enumerate(raw.split(b"\n")[:-1], 1):
    if line.endswith(b"\r"):
        line = line[:-1]
    if len(line) > 998:
        errs.append("line %d has %d characters" % (n, len(line)))
    if b"\r" in line:
        errs.append("line %d holds a lone CR" % n)
    if any(c >= 0x80 for c in line):
        errs.append("line %d holds 8-bit bytes" % n)
for line in head.split(b"\n"):
    line = line.rstrip(b"\r")
    if b"=?" in line and len(line) > 76:
        errs.append("header line of %d characters with encoded-words"
                    % len(line))
for s in a.absent:
    if s.encode() in raw:
        errs.append("%r appears in the message" % s)

m = email.message_from_bytes(raw, policy=email.policy.default)
if m.defects:
    errs.append("defects: %r" % m.defects)
if m["MIME-Version"] != "1.0":
    errs.append("MIME-Version %r" % m["MIME-Version"])
if m["Date"] is None or m["Date"].datetime is None:
    errs.append("no valid Date")
mid = m["Message-ID"]
if mid is None or not re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", str(mid)):
    errs.append("Message-ID %r" % mid)
if a.message_id and str(mid) != a.message_id:
    errs.append("Message-ID %r, want %r" % (str(mid), a.message_id))
for h in ("Bcc", "Resent-Bcc"):
    if h in m:
        errs.append("%s header present" % h)
if (a.subject is None) != (m["Subject"] is None) or \
        (a.subject is not None and str(m["Subject"]) != a.subject):
    errs.append("Subject %r, want %r" % (m["Subject"] and str(m["Subject"]),
                                        a.subject))

def mailboxes(field):
    h = m[field]
    if h is None:
        return None
    return ["%s|%s" % (x.display_name, x.addr_spec) for x in h.addresses]

if a.frm and mailboxes("From") != [a.frm]:
    errs.append("From %r, want %r" % (mailboxes("From"), a.frm))
if a.undisclosed:
    if m["To"] is None or m["To"].addresses:
        errs.append("To %r, want an empty group" % (m["To"],))
elif a.to and mailboxes("To") != a.to:
    errs.append("To %r, want %r" % (mailboxes("To"), a.to))
if (mailboxes("Cc") or []) != a.cc:
    errs.append("Cc %r, want %r" % (mailboxes("Cc"), a.cc))
if a.reply_to and mailboxes("Reply-To") != [a.reply_to]:
    errs.append("Reply-To %r, want %r" % (mailboxes("Reply-To"), a.reply_to))
for h in a.header:
    name, value = h.split("|", 1)
    if m[name] is None or str(m[name]) != value:
        errs.append("%s %r, want %r" % (name, m[name] and str(m[name]), value))

if m.get_content_type() != a.top:
    errs.append("top type %s, want %s" % (m.get_content_type(), a.top))

def lf(b):
    return b.replace(b"\r\n", b"\n")

want = []
if a.text is not None:
    want.append(("text/plain", a.text, None, None))
if a.html is not None:
    want.append(("text/html", a.html, None, None))
for s in a.attach:
    f, name, *t = s.split("|")
    want.append(("attachment", f, name, t[0] if t else None))
leaves = [p for p in m.walk() if not p.is_multipart()]
if len(leaves) != len(want):
    errs.append("%d parts, want %d" % (len(leaves), len(want)))
for p, (kind, f, name, ctype) in zip(leaves, want):
    data = open(f, "rb").read()
    got = p.get_payload(decode=True)
    cte = str(p.get("Content-Transfer-Encoding", "7bit")).lower()
    if kind.startswith("text/"):
        if p.get_content_type() != kind or p.is_attachment():
            errs.append("part %s is %s" % (kind, p.get_content_type()))
        if p.get_content_charset() not in ("utf-8", "unknown-8bit"):
            errs.append("%s charset %r" % (kind, p.get_content_charset()))
        if cte not in ("7bit", "quoted-printable"):
            errs.append("%s encoding %s" % (kind, cte))
        if lf(got) != lf(data):
            errs.append("%s part differs from %s" % (kind, f))
        if kind == "text/html" and a.text is not None and \
                "multipart/alternative" not in [x.get_content_type()
                                                for x in m.walk()]:
            errs.append("text and HTML but no multipart/alternative")
    else:
        if not p.is_attachment():
            errs.append("%s is not an attachment" % f)
        if p.get_filename() != name:
            errs.append("file name %r, want %r" % (p.get_filename(), name))
        if cte != "base64":
            errs.append("%s encoding %s" % (f, cte))
        if got != data:
            errs.append("attachment %s differs (%d bytes, want %d)"
                        % (f, len(got or b""), len(data)))
        if ctype and p.get_content_type() != ctype:
            errs.append("type %s, want %s" % (p.get_content_type(), ctype))
if errs:
    print("; ".join(errs[:6]))
    sys.exit(1)
EOF

# ---- fixtures ---------------------------------------------------------------
"$PYTHON3" - "$T" <<'EOF'
import os, random, sys
t = sys.argv[1]
r = random.Random(6)
def w(name, data):
    open(os.path.join(t, name), "wb").write(data)
w("body.txt", "Backup finished.\n\nGrüße aus Köln — 日本語のテキスト.\n"
  ".a line with a dot\n.\nFrom the start\ntrailing spaces   \n"
  "tab\tin the middle\t\n=_ looks like a boundary\n".encode())
w("ascii.txt", b"all ASCII, short lines\n.\n..\nend\n")
w("long.txt", b"short\n" + b"x" * 5000 + b"\n" + ("é" * 700).encode()
  + b"\nno final newline")
w("crlf.txt", b"windows\r\nline endings\r\n")
w("page.html", "<html><body><p>Grüße, <b>world</b></p>\n".encode()
  + b"<p>" + b"long " * 400 + b"</p></body></html>\n")
w("bin.dat", bytes(r.getrandbits(8) for _ in range(200000)) + b"\0\r\n\r")
w("backup.log", b"".join(b"2024-05-01 12:00:%02d rsync: ok %d\n" % (i % 60, i)
                          for i in range(3000)))
w("empty.bin", b"")
w("Grüße résumé 2024 — final version with a long name.txt",
  "non-ASCII file name\n".encode())
w("stdin-headers.txt", b"From: someone@example.net\nSubject: inner\n\n"
  b"this looks like a message\n")
w("small.bin", bytes(range(256)) * 4)
EOF
UNAME="Grüße résumé 2024 — final version with a long name.txt"

server_start sink --sink --record "$T/rec"
mk_config "$T/c.ini" "from = sender@$D"
nsent=0

# shape NAME STDIN -- MAILSUB-ARGS -- CHECK-ARGS: --print, then the sink.
shape()
{
	name=$1
	input=$2
	shift 3
	args=
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		args="$args $(quote "$1")"
		shift
	done
	shift
	rm -rf "$Q"
	eval "run_mailsub \"\$input\" -C \"\$T/c.ini\" --print $args"
	cp "$T/stdout" "$T/printed.eml"
	expect_exit 0 && check "$T/printed.eml" "$@"
	[ "$(count_files "$Q/new")" = 0 ] || t_err "--print queued something"
	t_result "$name: --print parses back"

	eval "run_mailsub \"\$input\" -C \"\$T/c.ini\" $args"
	expect_exit 0 && expect_where none "$Q" || { t_result "$name: sink"; return; }
	nsent=$((nsent + 1))
	f=$(printf '%s/rec/msg-%05d.eml' "$T" "$nsent")
	if [ ! -f "$f" ]; then
		t_err "no message $f in the sink"
	else
		check "$f" "$@"
	fi
	t_result "$name: through the sink"
}

quote()
{
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

check()
{
	if ! why=$("$PYTHON3" "$T/check.py" "$@" 2>&1); then
		t_err "$why"
		return 1
	fi
	return 0
}

# The envelope of the last message in the sink holds these recipients.
envelope_has()
{
	j=$(printf '%s/rec/msg-%05d.json' "$T" "$nsent")
	for r in "$@"; do
		"$PYTHON3" -c 'import json, sys
sys.exit(sys.argv[2] not in json.load(open(sys.argv[1]))["rcpts"])' "$j" "$r" ||
		    t_err "$r not in the envelope"
	done
}

NUL=/dev/null
shape "text only (--body-file)" $NUL -- -s "Backup finished" \
    --body-file "$T/body.txt" "to@$D" -- \
    --subject "Backup finished" --from "root|sender@$D" --to "|to@$D" \
    --top text/plain --text "$T/body.txt"

shape "ASCII body stays 7bit" $NUL -- -s plain --body-file "$T/ascii.txt" \
    "to@$D" -- --subject plain --top text/plain --text "$T/ascii.txt"
grep -q '^Content-Transfer-Encoding: 7bit' "$T/printed.eml" ||
    t_err "an ASCII body was not sent as 7bit"
t_result "ASCII body: Content-Transfer-Encoding 7bit"

shape "stdin is the body, literally" "$T/stdin-headers.txt" -- -s "from stdin" \
    "to@$D" -- --subject "from stdin" --top text/plain \
    --text "$T/stdin-headers.txt"

cp "$T/stdin-headers.txt" "$T/ignored.txt"
shape "--body: stdin is not read" "$T/ignored.txt" -- --body "" \
    "to@$D" -- --top text/plain --text /dev/null --absent "looks like"

shape "HTML alternative" $NUL -- -s "report" --body-file "$T/body.txt" \
    --html "$T/page.html" "to@$D" -- --subject report \
    --top multipart/alternative --text "$T/body.txt" --html "$T/page.html"

shape "HTML only (empty stdin)" $NUL -- -s "html" --html "$T/page.html" \
    "to@$D" -- --subject html --top text/html --html "$T/page.html"

printf 'done\n' >"$T/done.txt"
shape "one attachment (the README recipe)" "$T/done.txt" -- \
    -s "Backup $(date +%F)" --attach "$T/backup.log" "admin@$D" -- \
    --subject "Backup $(date +%F)" --top multipart/mixed \
    --text "$T/done.txt" --attach "$T/backup.log|backup.log|text/plain"

shape "several attachments, binary and text, HTML" "$T/done.txt" -- \
    -s "several" --html "$T/page.html" --attach "$T/bin.dat" \
    --attach "$T/backup.log;type=text/x-log;name=report.txt" \
    --attach "$T/empty.bin" --attach "$T/$UNAME" "to@$D" -- \
    --subject several --top multipart/mixed --text "$T/done.txt" \
    --html "$T/page.html" --attach "$T/bin.dat|bin.dat" \
    --attach "$T/backup.log|report.txt|text/x-log" \
    --attach "$T/empty.bin|empty.bin" --attach "$T/$UNAME|$UNAME"

SUBJ="Grüße — 日本語の件名 with a rather long subject line that must be folded into several encoded words 😀"
shape "non-ASCII subject, display names, file name" $NUL -- \
    -s "$SUBJ" -F "Jörg Müller-Lüdenscheidt" --body-file "$T/body.txt" \
    --to "Zoë Ça <zoe@$D>" --cc '"Doe, John" <john@'$D'>' \
    --cc "Ünïcödé Friend <friend@$D>" --reply-to "Support Désk <help@$D>" \
    --attach "$T/small.bin;name=Überblick.bin" "plain@$D" -- \
    --subject "$SUBJ" --from "Jörg Müller-Lüdenscheidt|sender@$D" \
    --to "Zoë Ça|zoe@$D" --to "|plain@$D" --cc "Doe, John|john@$D" \
    --cc "Ünïcödé Friend|friend@$D" --reply-to "Support Désk|help@$D" \
    --top multipart/mixed --text "$T/body.txt" \
    --attach "$T/small.bin|Überblick.bin"

LONGHDR=$(printf 'word%s ' $(seq 1 200))
shape "long lines and a long header" $NUL -- -s "$LONGHDR" \
    --header "X-Long: $LONGHDR" --header "X-Tag: café" \
    --header "Message-ID: <fixed.compose.test@$D>" \
    --body-file "$T/long.txt" "to@$D" -- \
    --subject "$LONGHDR" --header "X-Long|$LONGHDR" --header "X-Tag|café" \
    --message-id "<fixed.compose.test@$D>" --top text/plain \
    --text "$T/long.txt"
grep -q '^Content-Transfer-Encoding: quoted-printable' "$T/printed.eml" ||
    t_err "long lines not quoted-printable"
t_result "long lines: quoted-printable"

shape "CRLF text" $NUL -- --body-file "$T/crlf.txt" "to@$D" -- \
    --top text/plain --text "$T/crlf.txt"

shape "empty body" $NUL -- -s "empty" --body "" "to@$D" -- --subject empty \
    --top text/plain --text /dev/null

shape "attachments only, empty stdin" $NUL -- --attach "$T/bin.dat" \
    "to@$D" -- --top multipart/mixed --attach "$T/bin.dat|bin.dat"

shape "Bcc only" "$T/done.txt" -- -s "bcc" --bcc "hidden@$D" -- \
    --subject bcc --undisclosed --absent hidden --top text/plain \
    --text "$T/done.txt"
envelope_has "hidden@$D"
t_result "Bcc: in the envelope only"

shape "To, Cc and Bcc" "$T/done.txt" -- -s tcb --to "a@$D" --cc "c@$D" \
    --bcc "secret@$D" "b@$D" -- --subject tcb --to "|a@$D" --to "|b@$D" \
    --cc "|c@$D" --absent "secret@" --top text/plain --text "$T/done.txt"
envelope_has "a@$D" "b@$D" "c@$D" "secret@$D"
t_result "To, Cc and Bcc: every one in the envelope"

# ---- bad input ----------------------------------------------------------------
before=$(count_files "$T/rec")
bad()
{
	want=$1
	name=$2
	shift 2
	rm -rf "$Q"
	run_mailsub "$T/done.txt" -C "$T/c.ini" "$@"
	expect_exit "$want"
	[ -d "$Q/new" ] && [ "$(count_files "$Q/new")" != 0 ] && t_err "queued"
	[ -d "$Q/failed" ] && [ "$(count_files "$Q/failed")" != 0 ] &&
	    t_err "saved to failed/"
}
bad 66 "missing attachment" -s x --attach "$T/nosuch.log" "to@$D"
expect_stderr 'nosuch\.log'
t_result "66: a missing attachment, named"
bad 66 "missing body file" --body-file "$T/nosuch.txt" "to@$D"
expect_stderr 'nosuch\.txt'
t_result "66: a missing body file, named"
bad 66 "missing HTML" --html "$T/nosuch.html" "to@$D"
expect_stderr 'nosuch\.html'
t_result "66: a missing HTML file, named"
bad 66 "directory" --attach "$T" "to@$D"
t_result "66: a directory as attachment"
if [ "$(id -u)" != 0 ]; then
	cp "$T/done.txt" "$T/locked.txt"
	chmod 000 "$T/locked.txt"
	bad 66 "unreadable" --attach "$T/locked.txt" "to@$D"
	expect_stderr 'locked\.txt'
	t_result "66: an unreadable attachment, named"
else
	# root reads anything: a file that cannot be opened for reading
	# is a directory or one missing its parent.
	bad 66 "unreadable" --attach "$T/done.txt/x" "to@$D"
	expect_stderr 'done\.txt/x'
	t_result "66: an attachment that cannot be opened, named"
fi
bad 64 "no colon" -s x --header "X-Foo bar" "to@$D"
expect_stderr 'colon'
t_result "64: --header without a colon"
bad 64 "CR/LF" -s x --header "$(printf 'X-Foo: a\r\nBcc: victim@x')" "to@$D"
t_result "64: --header with CR/LF"
bad 64 "compose field" -s x --header "Subject: x" "to@$D"
t_result "64: --header naming a field compose writes"
bad 64 "-t" -t -s x
t_result "64: -t in compose mode"
bad 64 "bad From" -s x --from "not <valid" "to@$D"
t_result "64: an invalid --from"
[ "$(count_files "$T/rec")" = "$before" ] || t_err "something reached the sink"
t_result "bad input: nothing sent"

# ---- memory: flat with the attachment's size ------------------------------------
if [ -x /usr/bin/time ]; then
	head -c 1024 /dev/urandom >"$T/1k.bin"
	head -c $((64 * 1024 * 1024)) /dev/urandom >"$T/64m.bin"
	# rss FILE: peak RSS in KiB of queueing FILE as an attachment
	# (RSS); the run must succeed and queue a message the size of the
	# attachment in base64 at least, or nothing was measured.
	rss()
	{
		rm -rf "$Q" "$T/rss"
		/usr/bin/time -f '%M' -o "$T/rss" "$MAILSUB" -C "$T/c.ini" -odq \
		    -s rss --attach "$1" "to@$D" </dev/null >/dev/null \
		    2>"$T/rss.err" ||
		    t_err "queueing $(basename "$1") failed: $(head -c 200 "$T/rss.err")"
		RSS=$(tail -n 1 "$T/rss" 2>/dev/null)
		_want=$(($(wc -c <"$1") * 4 / 3))
		_f=$(first_file "$Q/new") && [ "$(wc -c <"$_f")" -ge "$_want" ] ||
		    t_err "no queued message of $_want bytes or more for $(basename "$1")"
	}
	rss "$T/1k.bin"
	small=$RSS
	rss "$T/64m.bin"
	big=$RSS
	echo "# peak RSS: 1 KiB attachment ${small} KiB, 64 MiB attachment ${big} KiB"
	if [ -z "$small" ] || [ -z "$big" ] || [ "$big" -gt $((small + 4096)) ]; then
		t_err "peak RSS grows with the attachment: $small -> $big KiB"
	fi
	rm -f "$T/64m.bin"
	t_result "memory: the same peak RSS for 1 KiB and 64 MiB"
else
	t_skip "memory" "no /usr/bin/time"
fi

server_stop "$SRV_PID"

# ---- the private Postfix -------------------------------------------------------------
if [ "$(id -u)" != 0 ] || ! command -v postfix >/dev/null 2>&1 ||
    ! command -v dovecot >/dev/null 2>&1; then
	t_skip "postfix" "needs root, postfix and dovecot"
	t_summary
fi
RIG=$(mktemp -d /tmp/mailsub-rig.XXXXXX) || t_fatal "mktemp failed"
T_ATEXIT='sh "$SRCDIR/tests/postfix-rig.sh" stop "$RIG" >/dev/null 2>&1; rm -rf "$RIG"'
if ! sh "$SRCDIR/tests/postfix-rig.sh" start "$RIG" >"$T/rig.log" 2>&1; then
	sed 's/^/# /' "$T/rig.log"
	t_err "the Postfix rig did not start"
	t_result "postfix"
	t_summary
fi
. "$RIG/ports"
PD=example.test
mk_config "$T/pf.ini" "port = $PLAIN_PORT" "from = alice@$PD" \
    "domain = client.example.test"

# delivered USER TAG: the maildir file whose Subject holds TAG.
delivered()
{
	i=0
	DELIVERED=
	while [ $i -lt 100 ]; do
		for f in "$RIG_MAIL/$1/new"/*; do
			[ -f "$f" ] || continue
			if "$PYTHON3" -c 'import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(),
    policy=email.policy.default)
sys.exit(sys.argv[2] not in str(m["Subject"]))' "$f" "$2"; then
				DELIVERED=$f
				return 0
			fi
		done
		i=$((i + 1))
		sleep 0.2
	done
	t_err "no copy for $1 with subject $2 after 20 s"
	return 1
}

pf_case()
{
	tag=$1
	input=$2
	shift 2
	args=
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		args="$args $(quote "$1")"
		shift
	done
	shift
	eval "run_mailsub \"\$input\" -C \"\$T/pf.ini\" $args"
	expect_exit 0 && delivered bob "$tag" && check "$DELIVERED" "$@"
	t_result "postfix: $tag"
}

pf_case "pf-mixed Grüße" "$T/done.txt" -s "pf-mixed Grüße" \
    --html "$T/page.html" --attach "$T/bin.dat" --attach "$T/$UNAME" \
    --to "Bob Bäcker <bob@$PD>" --bcc "carol@$PD" -- \
    --subject "pf-mixed Grüße" --to "Bob Bäcker|bob@$PD" --absent "carol" \
    --top multipart/mixed --text "$T/done.txt" --html "$T/page.html" \
    --attach "$T/bin.dat|bin.dat" --attach "$T/$UNAME|$UNAME"
pf_case "pf-long" $NUL -s "pf-long" --body-file "$T/long.txt" "bob@$PD" -- \
    --subject pf-long --top text/plain --text "$T/long.txt"
pf_case "pf-stdin" "$T/stdin-headers.txt" -s "pf-stdin" "bob@$PD" -- \
    --subject pf-stdin --top text/plain --text "$T/stdin-headers.txt"
t_summary
