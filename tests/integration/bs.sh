#!/bin/sh
# SPDX-License-Identifier: ISC
# -bs: mailsub as an SMTP server on stdin/stdout (Symfony Mailer's and
# Laravel's default `sendmail -bs`), driven through pipes by a Python
# client (tests/bsclient.py), each message relayed to smtpserver.py --sink.
# Checks the replies (250 with the relay's words, 451 when queued, 5xx
# with the relay's refusal), what the sink received, and the queue.
if [ -z "${SRCDIR:-}" ]; then
	SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
fi
. "$SRCDIR/tests/lib.sh"

t_init bs
need_mailsub

SINK=$T/rec
Q=$T/queue
CFG=$T/cfg.ini
server_start sink --sink --record "$SINK" \
    --reject-rcpt refused@example.org || t_fatal "the sink did not start"
mk_config "$CFG" default_domain=example.org
mk_config "$T/down.ini" "port=$(free_port)"
export MAILSUB CFG SINK Q T
PYTHONPATH=$SRCDIR/tests
export PYTHONPATH

# case_py NAME: the Python code on stdin; a non-zero exit fails the case.
# Checks after it (until the next case) count for it too.
CASE=
end_case()
{
	if [ -n "$CASE" ]; then
		t_result "$CASE"
	fi
	CASE=
}
case_py()
{
	end_case
	CASE=$1
	if ! out=$("$PYTHON3" - 2>&1); then
		t_err "$(printf '%s' "$out" | tail -n 5 | tr '\n' ' ')"
	fi
}

fresh()
{
	rm -f "$SINK"/msg-*
	rm -rf "$Q"
}

fresh
case_py "one message: 250 with the relay's reply; the sink gets it whole" <<'EOF'
import os, subprocess, sys
from bsclient import Session
e = os.environ
s = Session([e["MAILSUB"], "-C", e["CFG"], "-bs"])
s.expect(220, "ESMTP")
code, caps = s.cmd("EHLO [127.0.0.1]", 250)
for c in ("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"):
    assert c in caps, caps
assert any(c.startswith("SIZE ") for c in caps), caps
s.cmd("MAIL FROM:<app@example.org> BODY=8BITMIME SIZE=200", 250)
s.cmd("RCPT TO:<alice@example.org>", 250)
s.cmd("RCPT TO:<bob@example.org>", 250)
msg = (b"From: App <app@example.org>\r\nTo: alice@example.org\r\n"
       b"Bcc: bob@example.org\r\nSubject: bs test\r\n"
       b"Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
       b"Message-ID: <bs1@example.org>\r\n\r\n"
       b"line one\r\n.\r\n..two dots\r\n.leading\r\nGr\xc3\xbc\xc3\x9fe\r\n")
code, text = s.data(msg, 250, r"127\.0\.0\.1:\d+: 250 2\.0\.0 Ok")
rc = s.quit()
assert rc == 0, (rc, s.stderr)
out = subprocess.run([sys.executable, e["SRCDIR"] + "/tests/sinkcheck.py",
    e["SINK"], "--count", "1", "--from", "app@example.org",
    "--rcpts", "alice@example.org,bob@example.org",
    "--mail-param", "BODY=8BITMIME", "--no-header", "Bcc",
    "--contains", "\\r\\n.\\r\\n..two dots\\r\\n.leading\\r\\n",
    "--header", "Message-ID: <bs1@example.org>"],
    capture_output=True, text=True)
assert out.returncode == 0, out.stdout
EOF

fresh
case_py "refused recipient: 550 with the relay's text; saved to failed/" <<'EOF'
import os
from bsclient import Session
e = os.environ
s = Session([e["MAILSUB"], "-C", e["CFG"], "-bs"])
s.expect(220)
s.cmd("EHLO app", 250)
s.cmd("MAIL FROM:<app@example.org>", 250)
s.cmd("RCPT TO:<ok@example.org>", 250)
s.cmd("RCPT TO:<refused@example.org>", 250)   # known only at the relay
s.data(b"Subject: refused\r\n\r\nx\r\n", 550,
       r"refused@example\.org.*Recipient address rejected")
# The session goes on: the next message is fine.
s.cmd("MAIL FROM:<app@example.org>", 250)
s.cmd("RCPT TO:<ok@example.org>", 250)
s.data(b"Subject: second\r\n\r\ny\r\n", 250)
assert s.quit() == 0
failed = os.listdir(os.path.join(e["Q"], "failed"))
assert len(failed) == 1, failed
assert not os.listdir(os.path.join(e["Q"], "new"))
EOF
"$PYTHON3" "$SRCDIR/tests/sinkcheck.py" "$SINK" --count 1 \
    --contains 'Subject: second' >/dev/null || t_err "second message missing"

fresh
case_py "relay down: 451 and the message is queued in new/" <<'EOF'
import os
from bsclient import Session
e = os.environ
s = Session([e["MAILSUB"], "-C", e["T"] + "/down.ini", "-bs"])
s.expect(220)
s.cmd("HELO app", 250)
s.cmd("MAIL FROM:<app@example.org>", 250)
s.cmd("RCPT TO:<b@example.org>", 250)
s.data(b"Subject: later\r\n\r\nqueued\r\n", 451, r"queued as")
assert s.quit() == 0
new = os.listdir(os.path.join(e["Q"], "new"))
assert len(new) == 1, new
EOF

fresh
case_py "pipelined: a whole session in one write, three messages, RSET" <<'EOF'
import os
from bsclient import Session
e = os.environ
s = Session([e["MAILSUB"], "-C", e["CFG"], "-bs"])
batch = b"EHLO app\r\n"
for i in range(3):
    batch += (b"MAIL FROM:<app@example.org>\r\nRCPT TO:<p%d@example.org>\r\n"
              b"DATA\r\nSubject: pipelined %d\r\n\r\nbody %d\r\n.\r\n"
              % (i, i, i))
    if i == 1:
        batch += b"RSET\r\n"
batch += b"NOOP\r\nQUIT\r\n"
s.send(batch)
s.expect(220)
s.expect(250)
for i in range(3):
    s.expect(250); s.expect(250); s.expect(354)
    s.expect(250, "Ok")
    if i == 1:
        s.expect(250)
s.expect(250)
s.expect(221)
assert s.close() == 0
EOF
"$PYTHON3" "$SRCDIR/tests/sinkcheck.py" "$SINK" --count 3 --index 3 \
    --rcpts p2@example.org --contains 'body 2' >/dev/null ||
    t_err "the pipelined messages did not all arrive"

fresh
case_py "bare names: RCPT TO:<root> gets default_domain; MAIL FROM:<>" <<'EOF'
import os
from bsclient import Session
e = os.environ
s = Session([e["MAILSUB"], "-C", e["CFG"], "-bs"])
s.expect(220)
s.cmd("EHLO app", 250)
s.cmd("MAIL FROM:<>", 250)
s.cmd("RCPT TO:<root>", 250)
s.data(b"Subject: bare\r\n\r\nx\r\n", 250)
assert s.quit() == 0
EOF
"$PYTHON3" "$SRCDIR/tests/sinkcheck.py" "$SINK" --count 1 --from "" \
    --rcpts root@example.org >/dev/null || t_err "envelope wrong"

case_py "protocol rules: sequence, syntax, parameters, unknown commands" <<'EOF'
import os
from bsclient import Session
e = os.environ
s = Session([e["MAILSUB"], "-C", e["CFG"], "-bs"])
s.expect(220)
s.cmd("MAIL FROM:<a@example.org>", 503)
s.cmd("EHLO app", 250)
s.cmd("RCPT TO:<a@example.org>", 503)
s.cmd("DATA", 503)
s.cmd("MAIL FROM:a@example.org", 501)
s.cmd("MAIL FROM:<a@example.org> AUTH=<>", 555)
s.cmd("MAIL FROM:<a@example.org> SIZE=99999999999999", 552)
s.cmd("MAIL FROM:<a@example.org>", 250)
s.cmd("MAIL FROM:<a@example.org>", 503)
s.cmd("DATA", 554)
s.cmd("RCPT TO:<a@example.org> NOTIFY=NEVER", 555)
s.cmd("RCPT TO:<bad<@example.org>", 501)
s.cmd("STARTTLS", 502)
s.cmd("AUTH PLAIN", 502)
s.cmd("BDAT 10 LAST", 502)
s.cmd("VRFY root", 252)
s.cmd("HELP", 214)
s.cmd("XYZZY", 500)
s.cmd("NOOP " + "x" * 3000, 500, "too long")
s.cmd("RSET", 250)
assert s.quit() == 0
EOF

case_py "no configuration: 554 greeting, 503 to all but QUIT, exit 78" <<'EOF'
import os
from bsclient import Session
e = os.environ
s = Session([e["MAILSUB"], "-C", e["T"] + "/missing.ini", "-bs"])
s.expect(554, "missing.ini")
s.cmd("EHLO app", 503)
s.cmd("MAIL FROM:<a@example.org>", 503)
rc = s.quit()
assert rc == 78, rc
EOF

fresh
case_py "input ends inside DATA: nothing sent, exit 74" <<'EOF'
import os
from bsclient import Session
e = os.environ
s = Session([e["MAILSUB"], "-C", e["CFG"], "-bs"])
s.expect(220)
s.cmd("EHLO app", 250)
s.cmd("MAIL FROM:<a@example.org>", 250)
s.cmd("RCPT TO:<cut@example.org>", 250)
s.cmd("DATA", 354)
s.send(b"Subject: cut\r\n\r\nno final dot")
rc = s.close()
assert rc == 74, rc
EOF
"$PYTHON3" "$SRCDIR/tests/sinkcheck.py" "$SINK" --count 0 >/dev/null ||
    t_err "a cut message was sent"

# Symfony Mailer's exact sequence (SmtpTransport over its sendmail -bs
# process stream): EHLO [127.0.0.1], MAIL FROM with no parameters, one RCPT
# per recipient, DATA, the message ending "\r\n.\r\n", then QUIT when the
# transport stops.  Laravel uses Symfony Mailer.
fresh
case_py "Symfony Mailer's sendmail -bs dialogue" <<'EOF'
import os
from bsclient import Session
e = os.environ
s = Session([e["MAILSUB"], "-C", e["CFG"], "-bs"])
s.expect(220)
s.cmd("EHLO [127.0.0.1]", 250)
s.cmd("MAIL FROM:<noreply@example.org>", 250)
s.cmd("RCPT TO:<user1@example.org>", 250)
s.cmd("RCPT TO:<user2@example.org>", 250)
s.cmd("DATA", 354)
body = (b"From: noreply@example.org\r\nTo: user1@example.org\r\n"
        b"Cc: user2@example.org\r\nSubject: Symfony\r\n"
        b"MIME-Version: 1.0\r\nDate: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
        b"Message-ID: <sf@example.org>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\nHello\r\n")
s.send(body + b"\r\n.\r\n")
s.expect(250)
assert s.quit() == 0
EOF
"$PYTHON3" "$SRCDIR/tests/sinkcheck.py" "$SINK" --count 1 \
    --rcpts user1@example.org,user2@example.org \
    --contains 'Hello\r\n\r\n' >/dev/null || t_err "Symfony's message differs"

# SMTP smuggling (SEC Consult, 2023): a body holding a dot line that is not
# CRLF "." CRLF, followed by MAIL/RCPT/DATA.  A scripted server takes
# exactly one envelope (one MAIL FROM, one RCPT, one DATA, QUIT, end) and
# fails on any bare LF or lone CR; on the wire the smuggled commands are
# text of the one message, a dot line doubled.  Each variant is one
# session and one connection.
cat >"$T/smuggle.scn" <<'EOF'
exit 0
where none
S: 220 mx.example.net ESMTP ready
C: EHLO *
S: 250-mx.example.net
S: 250-PIPELINING
S: 250 ENHANCEDSTATUSCODES
C: MAIL FROM:<app@example.org>
C: RCPT TO:<bob@example.org>
C: DATA
S: 250 2.1.0 Ok
S: 250 2.1.5 Ok
S: 354 End data with <CR><LF>.<CR><LF>
D:
S: 250 2.0.0 Ok: queued as 1
C: QUIT
S: 221 2.0.0 Bye
end
EOF
SMUGGLE=$T/smuggle
mkdir -p "$SMUGGLE"
SCN_OK=
if server_start smuggle --scenario "$T/smuggle.scn" --record "$SMUGGLE"; then
	SCN_OK=1
	mk_config "$T/smuggle.ini" default_domain=example.org
fi
export SMUGGLE
for v in LF.LF CRLF.LF LF.CRLF CR.CR CRLF.CR LF.LF.CRLF; do
	if [ -z "$SCN_OK" ]; then
		end_case
		t_err "the scripted server did not start"
		t_result "smuggling $v: one envelope on the wire"
		continue
	fi
	VARIANT=$v
	export VARIANT
	case_py "smuggling $v: one envelope on the wire, the commands are text" <<'EOF'
import glob, json, os, time
from bsclient import Session
e = os.environ
cmds = (b"MAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.net>\r\n"
        b"DATA\r\nSubject: forged\r\n\r\nforged body")
sep, start = {
    "LF.LF": (b"\n.\n", b"hello\r\n..\r\n"),
    "CRLF.LF": (b"\r\n.\n", b"hello\r\n..\r\n"),
    "LF.CRLF": (b"\n.\r\n", b"hello\r\n..\r\n"),
    "CR.CR": (b"\r.\r", b"hello . "),          # a lone CR is a space
    "CRLF.CR": (b"\r\n.\r", b"hello\r\n "),    # ".<CR>...": dot removed
    "LF.LF.CRLF": (b"\n.\n.\r\n", b"hello\r\n..\r\n..\r\n"),
}[e["VARIANT"]]
results = os.path.join(e["SMUGGLE"], "result-*.json")
n = len(glob.glob(results)) + 1
s = Session([e["MAILSUB"], "-C", e["T"] + "/smuggle.ini", "-bs"])
# The whole session in one write, as a PHP client would send it.
s.send(b"EHLO app\r\nMAIL FROM:<app@example.org>\r\n"
       b"RCPT TO:<bob@example.org>\r\nDATA\r\n"
       b"Subject: smuggle\r\n\r\nhello" + sep + cmds + b"\r\n.\r\nQUIT\r\n")
codes = [s.reply()[0] for _ in range(7)]
assert codes == [220, 250, 250, 250, 354, 250, 221], (codes, s.transcript)
rc = s.close()
assert rc == 0, (rc, s.stderr)
assert s.buf == b"", "more replies: %r" % s.buf
path = os.path.join(e["SMUGGLE"], "result-%d.json" % n)
for _ in range(100):
    if os.path.exists(path):
        break
    time.sleep(0.1)
res = json.load(open(path))
assert res["status"] == "ok", res["reason"]
assert len(res["messages"]) == 1, res["messages"]
msg = res["messages"][0]
assert msg["mail_from"] == "<app@example.org>", msg
assert msg["rcpts"] == ["<bob@example.org>"], msg
assert msg["bare_lf"] == 0 and msg["lone_cr"] == 0, msg
wire = open(msg["wire_file"], "rb").read()
# The whole body, in wire form: CRLF only, a leading dot doubled.
assert b"\n" not in wire.replace(b"\r\n", b""), wire
assert b"\r" not in wire.replace(b"\r\n", b""), wire
assert wire.endswith(b"\r\n\r\n" + start + cmds + b"\r\n"), wire[-300:]
time.sleep(0.3)
got = len(glob.glob(results))
assert got == n, "%d connections to the relay, want %d" % (got, n)
EOF
done

end_case
t_summary
