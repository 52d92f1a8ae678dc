#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""An SMTP client that drives `mailsub -bs` through pipes, the way Symfony
Mailer and Laravel do (tests/integration/bs.sh).

    from bsclient import Session
    s = Session([mailsub, "-C", cfg, "-bs"])
    s.expect(220)                      # the greeting
    s.cmd("EHLO app.test", 250)        # -> (code, [lines])
    s.data(b"Subject: x\\r\\n\\r\\nbody\\r\\n", 250)
    rc = s.quit()                      # QUIT, 221, exit status

Every read is bounded by a timeout; a reply that does not arrive fails the
test with what was received so far.
"""

import os
import re
import select
import subprocess
import sys
import time

sys.dont_write_bytecode = True

TIMEOUT = 30.0


class Failure(Exception):
    pass


class Session:
    def __init__(self, argv, env=None, timeout=TIMEOUT):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env)
        self.buf = b""
        self.timeout = timeout
        self.transcript = []

    def _line(self):
        deadline = time.monotonic() + self.timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("no reply within %gs; so far %r" %
                              (self.timeout, self.transcript[-6:]))
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 65536)
                if not chunk:
                    raise Failure("mailsub closed stdout; so far %r" %
                                  self.transcript[-6:])
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        if not line.endswith(b"\r"):
            raise Failure("reply line without CRLF: %r" % line)
        line = line[:-1].decode("utf-8", "replace")
        self.transcript.append("S: " + line)
        return line

    def reply(self):
        """One reply: (code, [text of each line])."""
        lines = []
        while True:
            line = self._line()
            m = re.match(r"^(\d{3})([ -])(.*)$", line)
            if not m:
                raise Failure("malformed reply line %r" % line)
            if lines and int(m.group(1)) != lines[0][0]:
                raise Failure("code changes inside a reply: %r" % line)
            lines.append((int(m.group(1)), m.group(3)))
            if len(line) + 2 > 512:
                raise Failure("reply line over 512 octets: %r" % line)
            if m.group(2) == " ":
                return lines[0][0], [t for _, t in lines]

    def expect(self, want, pattern=None):
        code, text = self.reply()
        if want is not None and code != want:
            raise Failure("got %d %s, want %d" % (code, text, want))
        if pattern and not re.search(pattern, "\n".join(text)):
            raise Failure("reply %d %s does not match /%s/" %
                          (code, text, pattern))
        return code, text

    def send(self, raw):
        self.transcript.append("C: %r" % raw[:80])
        self.p.stdin.write(raw)
        self.p.stdin.flush()

    def cmd(self, line, want=None, pattern=None):
        self.send(line.encode() + b"\r\n")
        return self.expect(want, pattern)

    def data(self, message, want=None, pattern=None, stuff=True):
        """DATA, the 354, the message (dot-stuffed, CRLF), the dot."""
        self.cmd("DATA", 354)
        if stuff:
            message = message.replace(b"\r\n", b"\n").replace(b"\n",
                                                                b"\r\n")
            message = re.sub(rb"(?m)^\.", b"..", message)
            if not message.endswith(b"\r\n"):
                message += b"\r\n"
        self.send(message + b".\r\n")
        return self.expect(want, pattern)

    def quit(self):
        self.cmd("QUIT", 221)
        return self.close()

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            rc = self.p.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise Failure("mailsub did not exit after the session")
        self.stderr = self.p.stderr.read()
        self.p.stdout.close()
        self.p.stderr.close()
        return rc
