#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Check what smtpserver.py --sink received (tests/integration/*.sh).

  sinkcheck.py DIR [checks...]

The record directory holds msg-NNNNN.eml (the message, transparency dots
removed) and msg-NNNNN.json (the envelope); it must exist (smtpserver.py
makes it at start), or --count 0 would hold for a sink that never ran.  Checks apply to one message:
--index N (1-based; default the last).  Prints what is wrong and exits 1;
exits 0 when every check holds.

  --count N              exactly N complete messages in DIR
  --from ADDR            MAIL FROM address ("" for <>)
  --rcpts A,B,...        the RCPT TO list, in order
  --rcpt-set A,B,...     the RCPT TO set, in any order, each once
  --mail-param REGEX     searched in the MAIL FROM parameters
  --no-mail-param REGEX  must not match them
  --rcpt-param REGEX     searched in every RCPT's parameters
  --header "Name: value" a header field with exactly this value (unfolded)
  --header-re "Name: RE" a header field whose value matches RE
  --no-header NAME       no field of that name
  --header-count NAME=N  exactly N fields of that name
  --contains TEXT        the message (bytes, \\n escapes) contains TEXT
  --not-contains TEXT
  --body-equals FILE     the body (after the blank line) equals the body of
                         FILE with line ends normalised to CRLF
  --ends-with FILE       the message ends with FILE's bytes (CRLF-normalised)
  --helo NAME            the EHLO/HELO argument
  --auth-user USER       the user that logged in ("" for none)
  --tls yes|no           whether the message came over TLS
  --print                write the chosen message to stdout
"""

import argparse
import glob
import json
import os
import re
import sys

sys.dont_write_bytecode = True


def crlf(data):
    data = data.replace(b"\r\n", b"\n")
    return data.replace(b"\n", b"\r\n")


def unescape(s):
    return s.encode("utf-8").decode("unicode_escape").encode("latin-1")


def headers(msg):
    head = msg.split(b"\r\n\r\n", 1)[0]
    fields = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] = (fields[-1][0], fields[-1][1] + b" " +
                          line.strip())
        elif b":" in line:
            name, value = line.split(b":", 1)
            fields.append((name.decode("latin-1").lower(), value.strip()))
    return fields


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--index", type=int)
    p.add_argument("--count", type=int)
    p.add_argument("--from", dest="mail_from")
    p.add_argument("--rcpts")
    p.add_argument("--rcpt-set")
    p.add_argument("--mail-param", action="append", default=[])
    p.add_argument("--no-mail-param", action="append", default=[])
    p.add_argument("--rcpt-param", action="append", default=[])
    p.add_argument("--header", action="append", default=[])
    p.add_argument("--header-re", action="append", default=[])
    p.add_argument("--no-header", action="append", default=[])
    p.add_argument("--header-count", action="append", default=[])
    p.add_argument("--contains", action="append", default=[])
    p.add_argument("--not-contains", action="append", default=[])
    p.add_argument("--body-equals")
    p.add_argument("--ends-with")
    p.add_argument("--helo")
    p.add_argument("--auth-user")
    p.add_argument("--tls", choices=("yes", "no"))
    p.add_argument("--print", action="store_true")
    a = p.parse_args()

    if not os.path.isdir(a.dir):
        print("%s: no such directory (did the sink start?)" % a.dir)
        return 1
    envs = sorted(glob.glob(os.path.join(a.dir, "msg-*.json")))
    bad = []
    if a.count is not None and len(envs) != a.count:
        bad.append("%d messages received, want %d" % (len(envs), a.count))
    if not envs:
        if a.count == 0 and not bad:
            return 0
        print("; ".join(bad or ["no message received"]))
        return 1
    i = (a.index - 1) if a.index else len(envs) - 1
    if i >= len(envs):
        print("no message %d (only %d)" % (i + 1, len(envs)))
        return 1
    env = json.load(open(envs[i]))
    msg = open(envs[i][:-5] + ".eml", "rb").read()
    if a.print:
        sys.stdout.buffer.write(msg)
    if a.mail_from is not None and env["mail_from"] != a.mail_from:
        bad.append("MAIL FROM <%s>, want <%s>" % (env["mail_from"],
                                                  a.mail_from))
    if a.helo is not None and env["helo"] != a.helo:
        bad.append("EHLO %s, want %s" % (env["helo"], a.helo))
    if a.auth_user is not None and (env["auth_user"] or "") != a.auth_user:
        bad.append("logged in as %r, want %r" % (env["auth_user"],
                                                 a.auth_user))
    if a.tls is not None and bool(env["tls"]) != (a.tls == "yes"):
        bad.append("TLS %r, want %s" % (env["tls"], a.tls))
    if a.rcpts is not None:
        want = [r for r in a.rcpts.split(",") if r]
        if env["rcpts"] != want:
            bad.append("RCPT TO %s, want %s" % (env["rcpts"], want))
    if a.rcpt_set is not None:
        want = sorted(r for r in a.rcpt_set.split(",") if r)
        if sorted(env["rcpts"]) != want:
            bad.append("RCPT TO %s, want the set %s" % (env["rcpts"], want))
    for rx in a.mail_param:
        if not re.search(rx, env["mail_params"] or ""):
            bad.append("MAIL params %r lack /%s/" % (env["mail_params"], rx))
    for rx in a.no_mail_param:
        if re.search(rx, env["mail_params"] or ""):
            bad.append("MAIL params %r have /%s/" % (env["mail_params"], rx))
    for rx in a.rcpt_param:
        for rp in env["rcpt_params"]:
            if not re.search(rx, rp or ""):
                bad.append("RCPT params %r lack /%s/" % (rp, rx))
    fields = headers(msg)
    for h in a.header:
        name, value = h.split(":", 1)
        vals = [v for n, v in fields if n == name.lower()]
        if value.strip().encode() not in vals:
            bad.append("no %s: %s (have %r)" % (name, value.strip(), vals))
    for h in a.header_re:
        name, rx = h.split(":", 1)
        vals = [v.decode("latin-1") for n, v in fields if n == name.lower()]
        if not any(re.search(rx.strip(), v) for v in vals):
            bad.append("no %s matching /%s/ (have %r)" % (name, rx.strip(),
                                                          vals))
    for name in a.no_header:
        if any(n == name.lower() for n, _ in fields):
            bad.append("a %s header arrived" % name)
    for hc in a.header_count:
        name, n = hc.split("=")
        got = sum(1 for f, _ in fields if f == name.lower())
        if got != int(n):
            bad.append("%d %s headers, want %s" % (got, name, n))
    for t in a.contains:
        if unescape(t) not in msg:
            bad.append("message lacks %r" % t)
    for t in a.not_contains:
        if unescape(t) in msg:
            bad.append("message has %r" % t)
    if a.body_equals:
        want = crlf(open(a.body_equals, "rb").read())
        want = want.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in want else b""
        got = msg.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in msg else b""
        if got != want:
            bad.append("body differs: got %r..., want %r..." % (got[:120],
                                                                want[:120]))
    if a.ends_with:
        want = crlf(open(a.ends_with, "rb").read())
        if not msg.endswith(want):
            bad.append("message does not end with %s" % a.ends_with)
    if bad:
        print("msg %d: %s" % (i + 1, "; ".join(bad)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
