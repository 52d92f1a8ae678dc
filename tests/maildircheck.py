#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Find and check messages the private Postfix (tests/postfix-rig.sh)
delivered into a maildir (tests/integration/callers.sh).

  maildircheck.py MAILDIR --subject TEXT [checks...]

Messages in MAILDIR/new and MAILDIR/cur whose Subject (unfolded) equals
TEXT are the matches; the script waits (bounded, --wait seconds) until
--count of them are there.  With --count 0 it watches for the whole
--wait (a delivery is asynchronous: looking once proves nothing), and
MAILDIR must exist (nothing is found in a mailbox nobody delivers to).
Every check applies to every match.  Prints what is wrong and exits 1;
exits 0 when all holds.

Postfix's virtual delivery stores lines with LF endings, so comparisons
normalise CRLF to LF on both sides; everything else is compared byte for
byte.

  --count N              exactly N matches (default 1)
  --subject-prefix       TEXT is a prefix, not the whole Subject
  --header "Name: value" a field with exactly this (unfolded) value
  --header-re "Name: RE" a field whose value matches RE
  --no-header NAME       no such field
  --header-count NAME=N  exactly N such fields
  --body-equals FILE     the body equals the part of FILE after its first
                         empty line
  --body-is FILE         the body equals all of FILE
  --contains TEXT        (\\n escapes)
  --attachment NAME=FILE a MIME part with filename NAME decodes to exactly
                         FILE's bytes
  --save DIR             write the matches as DIR/NNN.eml, in Subject order
  --print                write the matches to stdout
"""

import argparse
import email
import email.policy
import glob
import os
import re
import sys
import time

sys.dont_write_bytecode = True


def lf(data):
    return data.replace(b"\r\n", b"\n")


def split(msg):
    if b"\n\n" in msg:
        head, body = msg.split(b"\n\n", 1)
    else:
        head, body = msg, b""
    fields = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] = (fields[-1][0], fields[-1][1] + b" " + line.strip())
        elif b":" in line:
            name, value = line.split(b":", 1)
            fields.append((name.decode("latin-1").lower(), value.strip()))
    return fields, body


def matches(maildir, subject, prefix):
    found = []
    for f in sorted(glob.glob(os.path.join(maildir, "new", "*")) +
                    glob.glob(os.path.join(maildir, "cur", "*"))):
        try:
            msg = lf(open(f, "rb").read())
        except OSError:
            continue
        fields, body = split(msg)
        subj = [v.decode("utf-8", "replace") for n, v in fields
                if n == "subject"]
        if not subj:
            continue
        if subj[0] == subject or (prefix and subj[0].startswith(subject)):
            found.append((subj[0], f, msg, fields, body))
    found.sort(key=lambda m: m[0])
    return found


def main():
    p = argparse.ArgumentParser()
    p.add_argument("maildir")
    p.add_argument("--subject", required=True)
    p.add_argument("--subject-prefix", action="store_true")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--wait", type=float, default=20.0)
    p.add_argument("--header", action="append", default=[])
    p.add_argument("--header-re", action="append", default=[])
    p.add_argument("--no-header", action="append", default=[])
    p.add_argument("--header-count", action="append", default=[])
    p.add_argument("--body-equals")
    p.add_argument("--body-is")
    p.add_argument("--contains", action="append", default=[])
    p.add_argument("--attachment", action="append", default=[])
    p.add_argument("--save")
    p.add_argument("--print", action="store_true")
    a = p.parse_args()

    if a.count == 0 and not os.path.isdir(os.path.join(a.maildir, "new")):
        print("%s/new does not exist: --count 0 would prove nothing"
              % a.maildir)
        return 1
    deadline = time.monotonic() + a.wait
    while True:
        found = matches(a.maildir, a.subject, a.subject_prefix)
        if a.count == 0:
            if found or time.monotonic() > deadline:
                break
        elif len(found) >= a.count or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    # A little longer, so that an extra copy would show up too.
    if len(found) == a.count and a.count > 0:
        time.sleep(0.3)
        found = matches(a.maildir, a.subject, a.subject_prefix)
    bad = []
    if len(found) != a.count:
        bad.append("%d messages with Subject %r in %s, want %d" %
                   (len(found), a.subject, a.maildir, a.count))
    want_body = None
    if a.body_equals:
        want_body = split(lf(open(a.body_equals, "rb").read()))[1]
    if a.body_is:
        want_body = lf(open(a.body_is, "rb").read())
    for k, (subj, path, msg, fields, body) in enumerate(found):
        where = os.path.basename(path)
        if a.print:
            sys.stdout.buffer.write(msg)
        if a.save:
            os.makedirs(a.save, exist_ok=True)
            with open(os.path.join(a.save, "%03d.eml" % (k + 1)), "wb") as f:
                f.write(msg)
        for h in a.header:
            name, value = h.split(":", 1)
            vals = [v for n, v in fields if n == name.lower()]
            if value.strip().encode() not in vals:
                bad.append("%s: no %s: %s (have %r)" % (where, name,
                                                        value.strip(), vals))
        for h in a.header_re:
            name, rx = h.split(":", 1)
            vals = [v.decode("utf-8", "replace") for n, v in fields
                    if n == name.lower()]
            if not any(re.search(rx.strip(), v) for v in vals):
                bad.append("%s: no %s matching /%s/ (have %r)" %
                           (where, name, rx.strip(), vals))
        for name in a.no_header:
            if any(n == name.lower() for n, _ in fields):
                bad.append("%s: a %s header arrived" % (where, name))
        for hc in a.header_count:
            name, n = hc.split("=")
            got = sum(1 for f, _ in fields if f == name.lower())
            if got != int(n):
                bad.append("%s: %d %s headers, want %s" % (where, got, name,
                                                           n))
        if want_body is not None and body != want_body:
            i = next((j for j in range(min(len(body), len(want_body)))
                      if body[j] != want_body[j]),
                     min(len(body), len(want_body)))
            bad.append("%s: body differs at byte %d: got %r, want %r" %
                       (where, i, body[i:i + 40], want_body[i:i + 40]))
        for t in a.contains:
            if t.encode().decode("unicode_escape").encode("latin-1") \
                    not in msg:
                bad.append("%s: lacks %r" % (where, t))
        for att in a.attachment:
            name, path = att.split("=", 1)
            want = open(path, "rb").read()
            m = email.message_from_bytes(msg, policy=email.policy.default)
            parts = [pt for pt in m.walk() if pt.get_filename() == name]
            if len(parts) != 1:
                bad.append("%s: %d parts named %s" % (where, len(parts),
                                                      name))
            elif parts[0].get_payload(decode=True) != want:
                bad.append("%s: attachment %s does not decode to %s" %
                           (where, name, path))
    if bad:
        print("; ".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
