#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""A scriptable, fault-injecting SMTP server for the mailsub tests.

Scenario mode plays one tests/scenarios/*.scn file (format: README there)
on every connection, checks each client line against the C: patterns, and
writes a JSON result per connection into --record:

  smtpserver.py --scenario FILE.scn --port 0 --portfile PATH
      [--tls-cert C --tls-key K] [--implicit-tls] [--record DIR]
      [--pidfile P] [--once]

Sink mode is a well-behaved ESMTP server that keeps every message:

  smtpserver.py --sink --record DIR --port 0 --portfile PATH
      [--tls-cert C --tls-key K [--implicit-tls] [--require-tls]]
      [--auth USER:PASS] [--chunking] [--dsn] [--size N]
      [--oauth-tokens FILE [--oauth-user USER]]
      [--reject-rcpt ADDR]... [--defer-rcpt ADDR]... [--no-8bitmime]
      [--discard] [--end-delay-ms N]

Listens on 127.0.0.1 only (or another loopback address: --bind).  Exits on SIGTERM/SIGINT, after the first
connection with --once, and after --lifetime seconds in any case.  Every
read has a timeout and every buffer a cap.  Standard library only: Debian's
/usr/bin/python3.

Record files (written atomically: *.tmp then rename):
  scenario: result-N.json (N = connection number from 1), data-N-M.wire
            (the M-th message of connection N as received, dot-stuffed,
            without the final ".")
  sink:     msg-NNNNN.eml (the message, transparency dots removed) and then
            msg-NNNNN.json (the envelope; its presence means complete)

With --oauth-tokens the sink also offers XOAUTH2 and OAUTHBEARER (RFC
7628) and accepts a bearer token listed in FILE (one a line, read at each
AUTH: tests/fakeidp.py writes the tokens it issued); any other gets the
error challenge (a 334 with base64 JSON), which the client must answer
with an empty line (XOAUTH2) or AQ== (OAUTHBEARER, RFC 7628 3.2.3) before
the 535.  Every attempt is appended to --record/oauth.log as JSON.
"""

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import os
import random
import re
import select
import signal
import socket
import ssl
import sys
import threading
import time

# No __pycache__ in the source tree (read-only under distcheck anyway).
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scn  # noqa: E402

LINE_MAX = 64 * 1024            # a client command line (RFC 5321: 512)
DATA_LINE_MAX = 1024 * 1024     # bytes buffered without a newline in DATA
CONNECTIONS_MAX = 256           # concurrent connections
BAD_COMMANDS_MAX = 20
AUTH_LINE_MAX = 16 * 1024
INLINE_DATA_MAX = 64 * 1024     # data also put into result JSON up to this
RECV_SIZE = 256 * 1024


class PeerGone(Exception):
    """The client closed or reset the connection."""


class StepTimeout(Exception):
    pass


class LineTooLong(Exception):
    pass


def now_ms(t0):
    return int((time.monotonic() - t0) * 1000)


def show(b):
    """Bytes for the transcript: latin-1 text (JSON escapes controls)."""
    return b.decode("latin-1")


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


class Conn:
    """A client connection: buffered reads with timeouts, TLS upgrade."""

    def __init__(self, sock, timeout):
        self.sock = sock
        self.raw = sock
        self.timeout = timeout
        self.buf = bytearray()
        self.eof = False
        self.tls = False
        self.tls_info = None
        self.closed = False
        self.old = []
        sock.settimeout(timeout)

    def _recv(self, timeout):
        """Append what arrives to buf; False on EOF.  StepTimeout when
        nothing arrives in time."""
        if self.eof:
            return False
        # SSL sockets may hold decrypted bytes select() cannot see.
        if not (self.tls and self.sock.pending()):
            r, _, _ = select.select([self.sock], [], [], max(timeout, 0))
            if not r:
                raise StepTimeout()
        try:
            self.sock.settimeout(max(timeout, 0.01))
            data = self.sock.recv(RECV_SIZE)
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            data = b""
        except ssl.SSLWantReadError:
            return True
        except ssl.SSLError as e:
            self.tls_error = str(e)
            data = b""
        except socket.timeout:
            raise StepTimeout()
        except (ConnectionResetError, BrokenPipeError, OSError):
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def readline(self, timeout=None, cap=LINE_MAX):
        """One line including its LF; None on EOF with nothing buffered.
        A partial line at EOF is returned as it is."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                return line
            if len(self.buf) > cap:
                raise LineTooLong()
            if not self._recv(deadline - time.monotonic()):
                if self.buf:
                    line = bytes(self.buf)
                    self.buf.clear()
                    return line
                return None

    def read_exact(self, n, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while len(self.buf) < n:
            if not self._recv(deadline - time.monotonic()):
                raise PeerGone()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def wait_eof(self, timeout):
        """Wait for the client to close.  Returns the bytes it sent
        meanwhile (b"" when it just closed); StepTimeout if it did not."""
        deadline = time.monotonic() + timeout
        while self._recv(deadline - time.monotonic()):
            pass
        data = bytes(self.buf)
        self.buf.clear()
        return data

    def send(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError,
                OSError) as e:
            raise PeerGone(str(e))

    def starttls(self, ctx, timeout):
        """Server side TLS handshake on this connection."""
        self.sock.settimeout(timeout)
        s = ctx.wrap_socket(self.raw, server_side=True,
                            do_handshake_on_connect=False)
        # wrap_socket took over the descriptor of self.raw.
        self.raw = s
        self.sock = s
        s.do_handshake()
        self.tls = True
        self.eof = False
        self.tls_info = {"version": s.version(),
                         "cipher": (s.cipher() or [None])[0],
                         "client_cert": bool(s.getpeercert(binary_form=True))}

    def close_notify(self):
        """Send a TLS close_notify now and read the raw TCP stream from
        then on (the client's TLS records are not decrypted any more)."""
        s = self.sock
        s.setblocking(False)
        plain = None
        try:
            # One SSL_shutdown sends close_notify; the second wants the
            # peer's and fails with WantRead on a non-blocking socket.
            plain = s.unwrap()
        except (ssl.SSLError, OSError, ValueError):
            pass
        if plain is None:
            plain = socket.socket(fileno=os.dup(s.fileno()))
            self.old.append(s)
        self.raw = plain
        self.sock = plain
        plain.setblocking(True)
        plain.settimeout(self.timeout)
        self.tls = False

    def close(self):
        if self.closed:
            return
        self.closed = True
        for s in [self.sock] + self.old:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass


class DataReader:
    """Receives DATA up to the CRLF.CRLF terminator (RFC 5321 4.1.1.4),
    streaming into files.  Counts bare LF and lone CR (never legal on the
    wire; the SMTP smuggling tests look for them)."""

    def __init__(self, conn, wire_out=None, content_out=None,
                 max_size=None):
        self.conn = conn
        self.wire_out = wire_out
        self.content_out = content_out
        self.max_size = max_size
        self.size = 0
        self.bare_lf = 0
        self.lone_cr = 0
        self.too_big = False
        self.sha = hashlib.sha256()
        self.head = bytearray()     # first INLINE_DATA_MAX bytes

    def _emit(self, blk, ends_line):
        self.size += len(blk)
        if self.max_size is not None and self.size > self.max_size:
            self.too_big = True
        if self.too_big:
            return
        self.sha.update(blk)
        if len(self.head) < INLINE_DATA_MAX:
            self.head += blk[:INLINE_DATA_MAX - len(self.head)]
        if self.wire_out:
            self.wire_out.write(blk)
        if self.content_out:
            if self.at_start:
                blk = re.sub(rb"^\.", b"", blk)
            blk = re.sub(rb"(?<=\n)\.", b"", blk)
            self.content_out.write(blk)

    def read(self, timeout):
        """True when the terminator arrived; PeerGone on EOF first."""
        self.at_start = True
        deadline = time.monotonic() + timeout
        buf = self.conn.buf
        while True:
            j = buf.rfind(b"\n")
            if j >= 0:
                blk = bytes(buf[:j + 1])
                if self.at_start and blk.startswith(b".\r\n"):
                    end = 0
                else:
                    k = blk.find(b"\r\n.\r\n")
                    end = k + 2 if k >= 0 else -1
                if end >= 0:
                    part = blk[:end]
                    rest_at = end + 3
                else:
                    part = blk
                    rest_at = len(blk)
                self.bare_lf += part.count(b"\n") - part.count(b"\r\n")
                self.lone_cr += part.count(b"\r") - part.count(b"\r\n")
                if part:
                    self._emit(part, True)
                    self.at_start = part.endswith(b"\r\n")
                del buf[:rest_at]
                if end >= 0:
                    return True
                # progress: a fresh timeout for the next block
                deadline = time.monotonic() + timeout
            elif len(buf) > DATA_LINE_MAX:
                keep = 1 if buf.endswith(b"\r") else 0
                blk = bytes(buf[:len(buf) - keep])
                self.lone_cr += blk.count(b"\r") - blk.count(b"\r\n")
                self._emit(blk, False)
                self.at_start = False
                del buf[:len(blk)]
            if not self.conn._recv(deadline - time.monotonic()):
                raise PeerGone("EOF in DATA")


def tls_context(args, cert=None, key=None):
    if not (cert or args.tls_cert):
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert or args.tls_cert, key or args.tls_key)
    if args.tls_client_ca:
        ctx.verify_mode = (ssl.CERT_REQUIRED if args.tls_client_required
                           else ssl.CERT_OPTIONAL)
        ctx.load_verify_locations(args.tls_client_ca)
    return ctx


# ---------------------------------------------------------------------------
# Scenario mode

class Failed(Exception):
    def __init__(self, reason, step=None):
        super().__init__(reason)
        self.reason = reason
        self.step = step


class Player:
    def __init__(self, server, conn, number):
        self.server = server
        self.args = server.args
        self.sc = server.scenario
        self.conn = conn
        self.n = number
        self.t0 = time.monotonic()
        self.transcript = []
        self.messages = []
        self.mail_from = None
        self.rcpts = []
        self.played = 0
        self.result = None
        self.bdat = None            # BDAT message being received

    def note(self, direction, text):
        if len(self.transcript) < 10000:
            self.transcript.append({"t": now_ms(self.t0), "dir": direction,
                                    "text": text})
        if self.args.verbose:
            print("smtpserver[%d] %s %s" % (self.n, direction, text.rstrip()),
                  file=sys.stderr)

    def send(self, data):
        for line in data.split(b"\r\n")[:-1] if data.endswith(b"\r\n") \
                else [data]:
            self.note("S", show(line))
        self.conn.send(data)

    def expect_line(self, step):
        try:
            line = self.conn.readline()
        except StepTimeout:
            raise Failed("timeout waiting for client line matching %r"
                         % step.text, step)
        except LineTooLong:
            raise Failed("client line longer than %d bytes" % LINE_MAX, step)
        if line is None:
            raise Failed("client closed the connection; expected %r"
                         % step.text, step)
        self.note("C", show(line.rstrip(b"\r\n")))
        if not line.endswith(b"\r\n"):
            raise Failed("client line not ended by CRLF: %r" % line, step)
        text = line[:-2]
        if b"\r" in text or b"\n" in text:
            raise Failed("stray CR or LF in client line: %r" % line, step)
        s = text.decode("utf-8", "surrogateescape")
        if not step.arg.match(s):
            raise Failed("client sent %r, expected %r" % (s, step.text),
                         step)
        u = s.upper()
        if u.startswith("MAIL FROM:"):
            self.mail_from = s[10:].strip()
            self.rcpts = []
        elif u.startswith("RCPT TO:"):
            self.rcpts.append(s[8:].strip())
        elif u.startswith("BDAT "):
            m = re.match(r"BDAT (\d+)( LAST)?\Z", u)
            if not m:
                raise Failed("malformed BDAT command %r (RFC 3030 2.)" % s,
                             step)
            self.receive_bdat(step, int(m.group(1)), bool(m.group(2)))

    def receive_bdat(self, step, n, last):
        """RFC 3030 2.: "BDAT n" is followed by exactly n octets, which
        belong to the message being built (kept like DATA's)."""
        if self.bdat is None:
            m = len(self.messages) + 1
            path = None
            if self.args.record:
                path = os.path.join(self.args.record,
                                    "data-%d-%d.bdat" % (self.n, m))
            self.bdat = {"mail_from": self.mail_from,
                         "rcpts": list(self.rcpts), "size": 0,
                         "chunks": 0, "sha": hashlib.sha256(),
                         "head": bytearray(), "wire_file": path,
                         "f": open(path, "wb") if path else None}
        b = self.bdat
        if b["size"] + n > self.args.max_data:
            raise Failed("BDAT data larger than --max-data %d"
                         % self.args.max_data, step)
        left = n
        try:
            while left > 0:
                part = self.conn.read_exact(min(left, RECV_SIZE))
                left -= len(part)
                b["sha"].update(part)
                if len(b["head"]) < INLINE_DATA_MAX:
                    b["head"] += part[:INLINE_DATA_MAX - len(b["head"])]
                if b["f"]:
                    b["f"].write(part)
        except StepTimeout:
            raise Failed("timeout in BDAT data (%d of %d octets missing)"
                         % (left, n), step)
        except PeerGone:
            raise Failed("client closed the connection in BDAT data "
                         "(%d of %d octets missing)" % (left, n), step)
        b["size"] += n
        b["chunks"] += 1
        self.note("C", "<%d octets of BDAT data>" % n)
        if last:
            if b["f"]:
                b["f"].close()
            msg = {"mail_from": b["mail_from"], "rcpts": b["rcpts"],
                   "size": b["size"], "sha256": b["sha"].hexdigest(),
                   "chunks": b["chunks"], "body": "BDAT",
                   "wire_file": b["wire_file"]}
            if b["size"] <= INLINE_DATA_MAX:
                msg["data"] = show(bytes(b["head"]))
            self.messages.append(msg)
            self.bdat = None

    def receive_data(self, step):
        m = len(self.messages) + 1
        wire_path = None
        f = None
        if self.args.record:
            wire_path = os.path.join(self.args.record,
                                     "data-%d-%d.wire" % (self.n, m))
            f = open(wire_path + ".tmp", "wb")
        rd = DataReader(self.conn, wire_out=f,
                        max_size=self.args.max_data)
        try:
            rd.read(self.conn.timeout)
        except StepTimeout:
            raise Failed("timeout in DATA (no progress for %ss)"
                         % self.conn.timeout, step)
        except PeerGone:
            raise Failed("client closed the connection in DATA", step)
        finally:
            if f:
                f.close()
                os.rename(wire_path + ".tmp", wire_path)
        self.note("C", "<%d bytes of data>" % rd.size)
        self.note("C", ".")
        msg = {"mail_from": self.mail_from, "rcpts": list(self.rcpts),
               "size": rd.size, "sha256": rd.sha.hexdigest(),
               "bare_lf": rd.bare_lf, "lone_cr": rd.lone_cr,
               "wire_file": wire_path}
        if rd.size <= INLINE_DATA_MAX:
            msg["data"] = show(bytes(rd.head))
        self.messages.append(msg)
        if rd.too_big:
            raise Failed("DATA larger than --max-data %d" % self.args.max_data,
                         step)
        if rd.bare_lf or rd.lone_cr:
            raise Failed("DATA holds %d bare LF and %d lone CR (must be "
                         "CRLF only)" % (rd.bare_lf, rd.lone_cr), step)

    def expect_end(self, step, tolerate_bytes=False):
        try:
            extra = self.conn.wait_eof(self.conn.timeout)
        except StepTimeout:
            raise Failed("client did not close the connection", step)
        if extra and not tolerate_bytes:
            self.note("C", show(extra))
            raise Failed("client sent %r, expected it to close" % extra,
                         step)

    def play(self):
        steps = self.sc.steps
        pending = bytearray()
        peer_gone = False
        after_close_notify = False
        i = 0
        if self.args.implicit_tls:
            try:
                self.conn.starttls(self.server.ctx, self.conn.timeout)
                self.note("note", "implicit TLS: %s" % self.conn.tls_info)
            except (ssl.SSLError, OSError, socket.timeout) as e:
                self.note("note", "TLS handshake failed: %s" % e)
                if steps and steps[0].kind == scn.END:
                    self.played = 1
                    return
                raise Failed("implicit TLS handshake failed: %s" % e,
                             steps[0] if steps else None)
        while i < len(steps):
            step = steps[i]
            k = step.kind
            if pending and k not in (scn.SEND, scn.RAW):
                self.send(bytes(pending))
                pending.clear()
            if peer_gone and k != scn.END:
                raise Failed("client already gone (reset) before this step",
                             step)
            if k == scn.SEND:
                pending += step.arg
                if not step.coalesce:
                    self.send(bytes(pending))
                    pending.clear()
            elif k == scn.RAW:
                pending += step.arg
                self.send(bytes(pending))
                pending.clear()
            elif k == scn.EXPECT:
                self.expect_line(step)
            elif k == scn.DATA:
                self.receive_data(step)
            elif k == scn.DROP:
                self.note("note", "drop")
                self.conn.close()
                self.played = i + 1
                return
            elif k == scn.DELAY:
                self.note("note", "delay %d ms" % step.arg)
                time.sleep(step.arg / 1000.0)
            elif k == scn.STALL:
                self.note("note", "stall")
                if i == len(steps) - 1:
                    try:
                        extra = self.conn.wait_eof(self.args.stall_max)
                    except StepTimeout:
                        raise Failed("client did not give up within %ss of "
                                     "stalling" % self.args.stall_max, step)
                    if extra:
                        self.note("C", show(extra))
                        raise Failed("client sent %r while the server "
                                     "stalled" % extra, step)
                    self.played = i + 1
                    return
            elif k == scn.STARTTLS:
                if self.conn.tls:
                    raise Failed("!starttls: TLS already active", step)
                if self.server.ctx is None:
                    raise Failed("!starttls: the server has no certificate "
                                 "(--tls-cert)", step)
                if self.conn.buf:
                    self.note("C", show(bytes(self.conn.buf)))
                    raise Failed("client sent %r after STARTTLS before the "
                                 "handshake (RFC 3207 4.)"
                                 % bytes(self.conn.buf), step)
                try:
                    self.conn.starttls(self.server.ctx, self.conn.timeout)
                    self.note("note", "TLS: %s" % self.conn.tls_info)
                except (ssl.SSLError, OSError, socket.timeout) as e:
                    self.note("note", "TLS handshake failed: %s" % e)
                    rest = steps[i + 1:]
                    if not rest or rest[0].kind == scn.END:
                        # The client refused the handshake (bad certificate,
                        # injected data): what the scenario wants.
                        self.played = len(steps)
                        return
                    raise Failed("TLS handshake failed: %s" % e, step)
            elif k == scn.LONG_LINE:
                self.note("S", "<%d bytes without CRLF>" % step.arg)
                chunk = (b"250 " + b"x" * 65536)[:step.arg]
                left = step.arg
                first = True
                try:
                    while left > 0:
                        if first:
                            part = chunk[:min(left, len(chunk))]
                            first = False
                        else:
                            part = b"x" * min(left, 65536)
                        self.conn.send(part)
                        left -= len(part)
                except PeerGone as e:
                    self.note("note", "client gone during long line: %s" % e)
                    peer_gone = True
            elif k == scn.CLOSE_NOTIFY:
                if not self.conn.tls:
                    raise Failed("!close-notify without TLS", step)
                self.note("note", "close_notify")
                self.conn.close_notify()
                after_close_notify = True
            elif k == scn.END:
                self.expect_end(step, tolerate_bytes=after_close_notify)
            else:
                raise Failed("unknown step %r" % k, step)
            i += 1
            self.played = i
        if pending:
            self.send(bytes(pending))
        if steps and steps[-1].kind == scn.END:
            return
        # The lines ran out: any further client bytes are unmatched.
        try:
            extra = self.conn.wait_eof(self.args.grace)
        except StepTimeout:
            extra = bytes(self.conn.buf)
            self.conn.buf.clear()
        if extra:
            self.note("C", show(extra))
            raise Failed("client sent %r after the scenario's last line"
                         % extra)

    def run(self):
        status, reason, line = "ok", "", None
        try:
            self.play()
        except Failed as e:
            status, reason = "failed", e.reason
            line = e.step.lineno if e.step else None
        except PeerGone as e:
            status = "failed"
            reason = "client gone while the server was sending: %s" % e
        except Exception as e:  # a bug here must show, not hang the test
            status, reason = "failed", "server error: %r" % e
        finally:
            self.conn.close()
            if self.bdat is not None and self.bdat["f"]:
                self.bdat["f"].close()
        if status != "ok":
            self.note("note", "FAILED: %s" % reason)
        self.finish(status, reason, line)

    def finish(self, status, reason, line=None):
        if self.result is not None:
            return
        self.result = {
            "scenario": self.sc.path, "name": self.sc.name,
            "connection": self.n, "status": status, "reason": reason,
            "line": line, "steps_played": self.played,
            "steps_total": len(self.sc.steps),
            "tls": self.conn.tls_info, "messages": self.messages,
            "transcript": self.transcript}
        if self.args.record:
            write_atomic(os.path.join(self.args.record,
                                      "result-%d.json" % self.n),
                         json.dumps(self.result, indent=1).encode())


# ---------------------------------------------------------------------------
# Sink mode

class Sink:
    def __init__(self, server, conn, number):
        self.server = server
        self.args = server.args
        self.conn = conn
        self.n = number
        self.helo = None
        self.esmtp = False
        self.auth_user = None
        self.auth_token = None
        self.bad = 0
        self.result = None
        self.connected_at = time.time()
        self.reset()

    def reset(self):
        self.mail_from = None
        self.mail_params = ""
        self.rcpts = []
        self.chunks = None          # BDAT in progress: open files

    def log(self, text):
        if self.args.verbose:
            print("sink[%d] %s" % (self.n, text), file=sys.stderr)

    def reply(self, text):
        if self.args.delay_ms:
            time.sleep(self.args.delay_ms / 1000.0)
        self.log("S %s" % text.replace("\r\n", " | "))
        self.conn.send(text.encode() + b"\r\n")

    def ehlo_lines(self):
        lines = [self.server.hostname, "PIPELINING",
                 "SIZE %d" % self.args.size, "8BITMIME",
                 "ENHANCEDSTATUSCODES", "SMTPUTF8"]
        if self.args.no_8bitmime:
            lines.remove("8BITMIME")
        if self.args.dsn:
            lines.append("DSN")
        if self.args.chunking:
            lines.append("CHUNKING")
        if self.server.ctx is not None and not self.conn.tls:
            lines.append("STARTTLS")
        if self.args.auth and (self.conn.tls or not self.args.auth_tls_only):
            lines.append("AUTH PLAIN LOGIN CRAM-MD5" +
                         (" XOAUTH2 OAUTHBEARER"
                          if self.args.oauth_tokens else ""))
        elif self.args.oauth_tokens and (self.conn.tls or
                                         not self.args.auth_tls_only):
            lines.append("AUTH XOAUTH2 OAUTHBEARER")
        return lines

    def run(self):
        try:
            if self.args.implicit_tls:
                self.conn.starttls(self.server.ctx, self.conn.timeout)
            self.reply("220 %s ESMTP mailsub test sink" % self.server.hostname)
            self.loop()
        except (PeerGone, StepTimeout, ssl.SSLError, OSError) as e:
            self.log("connection ended: %r" % e)
        except LineTooLong:
            try:
                self.reply("500 5.5.6 Line too long")
            except PeerGone:
                pass
        finally:
            self.conn.close()
        self.result = True

    def finish(self, status, reason, line=None):
        pass

    def need_tls(self):
        return (self.args.require_tls and not self.conn.tls)

    def need_auth(self):
        return ((self.args.auth or self.args.oauth_tokens) and
                self.auth_user is None)

    def loop(self):
        while True:
            line = self.conn.readline()
            if line is None:
                return
            if not line.endswith(b"\r\n"):
                self.reply("500 5.5.2 Lines must end with CRLF")
                self.bad += 1
                if self.bad > BAD_COMMANDS_MAX:
                    return
                continue
            text = line[:-2].decode("utf-8", "surrogateescape")
            self.log("C %s" % (text if not text.upper().startswith("AUTH")
                                else text.split()[0] + " ..."))
            verb = text.split(" ", 1)[0].upper()
            arg = text[len(verb) + 1:] if " " in text else ""
            h = getattr(self, "cmd_" + verb.replace("-", "_"), None)
            if h is None or not verb.isalpha():
                self.bad += 1
                if self.bad > BAD_COMMANDS_MAX:
                    self.reply("421 4.7.0 Too many errors")
                    return
                self.reply("500 5.5.2 Command not recognised")
                continue
            if h(arg) == "quit":
                return

    def cmd_EHLO(self, arg):
        if not arg.strip():
            return self.reply("501 5.5.4 EHLO needs a domain")
        self.helo, self.esmtp = arg.strip(), True
        self.reset()
        lines = self.ehlo_lines()
        self.reply("\r\n".join(("250-" if j < len(lines) - 1 else "250 ") + x
                               for j, x in enumerate(lines)))

    def cmd_HELO(self, arg):
        if not arg.strip():
            return self.reply("501 5.5.4 HELO needs a domain")
        self.helo, self.esmtp = arg.strip(), False
        self.reset()
        self.reply("250 %s" % self.server.hostname)

    def cmd_NOOP(self, arg):
        self.reply("250 2.0.0 Ok")

    def cmd_RSET(self, arg):
        self.reset()
        self.reply("250 2.0.0 Ok")

    def cmd_VRFY(self, arg):
        self.reply("252 2.0.0 Cannot verify")

    def cmd_HELP(self, arg):
        self.reply("214 2.0.0 See RFC 5321")

    def cmd_QUIT(self, arg):
        self.reply("221 2.0.0 Bye")
        return "quit"

    def cmd_STARTTLS(self, arg):
        if self.server.ctx is None or self.conn.tls:
            return self.reply("502 5.5.1 STARTTLS not available")
        if self.conn.buf:
            # RFC 3207 4.: the client must wait for 220.  Drop it.
            self.log("client pipelined after STARTTLS; closing")
            return "quit"
        self.reply("220 2.0.0 Ready to start TLS")
        self.conn.starttls(self.server.ctx, self.conn.timeout)
        self.helo = None
        self.auth_user = None
        self.reset()

    def auth_read(self, prompt):
        self.reply("334 " + prompt)
        line = self.conn.readline(cap=AUTH_LINE_MAX)
        if line is None:
            raise PeerGone()
        line = line.rstrip(b"\r\n")
        if line == b"*":
            return None
        return line

    def b64(self, data):
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return None

    def oauth_note(self, entry):
        entry["connection"] = self.n
        entry["time"] = time.time()
        path = os.path.join(self.args.record, "oauth.log")
        with open(path, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def valid_tokens(self):
        try:
            with open(self.args.oauth_tokens) as f:
                return [x.strip() for x in f if x.strip()]
        except OSError:
            return []

    def auth_oauth(self, mech, parts):
        """XOAUTH2 (Google's and Microsoft's format) or OAUTHBEARER (RFC
        7628 3.1): one client message, then 235, or the error challenge,
        the client's answer to it, and 535."""
        resp = parts[1].encode() if len(parts) > 1 else self.auth_read("")
        if resp is None:
            return self.reply("501 5.7.0 Authentication cancelled")
        dec = self.b64(resp)
        if dec is None or not dec.endswith(b"\x01\x01"):
            self.oauth_note({"mech": mech, "result": "malformed"})
            return self.reply("501 5.5.2 Bad %s response" % mech)
        fields = {}
        body = dec[:-2]
        if mech == "OAUTHBEARER":
            gs2, _, body = body.partition(b",\x01")
            m = re.match(rb"n,a=([^,]*)\Z", gs2 + b"")
            if not gs2.startswith(b"n,") or m is None:
                self.oauth_note({"mech": mech, "result": "malformed"})
                return self.reply("501 5.5.2 Bad OAUTHBEARER gs2 header")
            fields[b"user"] = m.group(1).replace(b"=2C", b",").replace(
                b"=3D", b"=")
        for kv in body.split(b"\x01"):
            k, _, v = kv.partition(b"=")
            fields.setdefault(k, v)
        auth = fields.get(b"auth", b"")
        user = fields.get(b"user", b"").decode("utf-8", "replace")
        token = auth[7:].decode("ascii", "replace") \
            if auth.startswith(b"Bearer ") else ""
        tokens = self.valid_tokens()
        ok = (token in tokens and
              (not self.args.oauth_user or user == self.args.oauth_user))
        entry = {"mech": mech, "user": user,
                 "token_index": tokens.index(token) if token in tokens
                 else -1,
                 "host": fields.get(b"host", b"").decode(),
                 "port": fields.get(b"port", b"").decode()}
        if ok:
            self.auth_user = user
            self.auth_token = entry["token_index"]
            entry["result"] = "ok"
            self.oauth_note(entry)
            return self.reply("235 2.7.0 Accepted")
        if mech == "XOAUTH2":
            err = {"status": "401", "schemes": "bearer",
                   "scope": "https://mail.google.com/"}
            want = b""
        else:
            err = {"status": "invalid_token",
                   "scope": "https://mail.google.com/"}
            want = b"AQ=="
        self.reply("334 " + base64.b64encode(
            json.dumps(err).encode()).decode())
        line = self.conn.readline(cap=AUTH_LINE_MAX)
        if line is None:
            raise PeerGone()
        answer = line.rstrip(b"\r\n")
        entry["result"] = "refused"
        entry["challenge_answer_ok"] = answer == want
        self.oauth_note(entry)
        if answer != want:
            return self.reply("501 5.5.2 Expected %s after the error "
                              "challenge" % ("an empty line" if not want
                                             else want.decode()))
        return self.reply("535 5.7.8 Username and Password not accepted")

    def cmd_AUTH(self, arg):
        if not (self.args.auth or self.args.oauth_tokens) or \
                (self.args.auth_tls_only and not self.conn.tls):
            return self.reply("503 5.5.1 AUTH not available")
        if self.auth_user is not None:
            return self.reply("503 5.5.1 Already authenticated")
        if self.mail_from is not None:
            return self.reply("503 5.5.1 AUTH not allowed in a transaction")
        parts = arg.split()
        if not parts:
            return self.reply("501 5.5.4 AUTH needs a mechanism")
        mech = parts[0].upper()
        if mech in ("XOAUTH2", "OAUTHBEARER") and self.args.oauth_tokens:
            return self.auth_oauth(mech, parts)
        if not self.args.auth:
            return self.reply("504 5.5.4 Mechanism not supported")
        user, pw = self.args.auth.split(":", 1)
        ok = False
        got_user = None
        if mech == "PLAIN":
            resp = parts[1].encode() if len(parts) > 1 else \
                self.auth_read("")
            if resp is None:
                return self.reply("501 5.7.0 Authentication cancelled")
            dec = self.b64(b"" if resp == b"=" else resp)
            if dec is None or dec.count(b"\0") != 2:
                return self.reply("501 5.5.2 Bad PLAIN response")
            authz, u, p = dec.split(b"\0")
            got_user = u.decode("utf-8", "replace")
            ok = (u == user.encode() and p == pw.encode() and
                  authz in (b"", u))
        elif mech == "LOGIN":
            if len(parts) > 1:
                u = self.b64(parts[1].encode())
            else:
                r = self.auth_read("VXNlcm5hbWU6")
                u = None if r is None else self.b64(r)
            if u is None:
                return self.reply("501 5.5.2 Bad LOGIN response")
            r = self.auth_read("UGFzc3dvcmQ6")
            p = None if r is None else self.b64(r)
            if p is None:
                return self.reply("501 5.5.2 Bad LOGIN response")
            got_user = u.decode("utf-8", "replace")
            ok = (u == user.encode() and p == pw.encode())
        elif mech == "CRAM-MD5":
            chal = ("<%d.%d@%s>" % (random.getrandbits(48), time.time(),
                                    self.server.hostname)).encode()
            r = self.auth_read(base64.b64encode(chal).decode())
            dec = None if r is None else self.b64(r)
            if dec is None or b" " not in dec:
                return self.reply("501 5.5.2 Bad CRAM-MD5 response")
            u, digest = dec.rsplit(b" ", 1)
            want = hmac.new(pw.encode(), chal, "md5").hexdigest().encode()
            got_user = u.decode("utf-8", "replace")
            ok = (u == user.encode() and hmac.compare_digest(digest, want))
        else:
            return self.reply("504 5.5.4 Mechanism not supported")
        if not ok:
            return self.reply("535 5.7.8 Authentication failed")
        self.auth_user = got_user
        self.reply("235 2.7.0 Authentication successful")

    def cmd_MAIL(self, arg):
        m = re.match(r"(?i)FROM:\s*<([^>]*)>\s*(.*)\Z", arg)
        if self.helo is None:
            return self.reply("503 5.5.1 EHLO first")
        if self.need_tls():
            return self.reply("530 5.7.0 Must issue a STARTTLS command first")
        if self.need_auth():
            return self.reply("530 5.7.0 Authentication required")
        if self.mail_from is not None:
            return self.reply("503 5.5.1 Nested MAIL command")
        if not m:
            return self.reply("501 5.5.4 Syntax: MAIL FROM:<address>")
        params = m.group(2)
        sm = re.search(r"(?i)(?:^|\s)SIZE=(\d+)", params)
        if sm and int(sm.group(1)) > self.args.size:
            return self.reply("552 5.3.4 Message size exceeds fixed limit")
        self.mail_from = m.group(1)
        self.mail_params = params
        self.reply("250 2.1.0 Ok")

    def cmd_RCPT(self, arg):
        m = re.match(r"(?i)TO:\s*<([^>]*)>\s*(.*)\Z", arg)
        if self.mail_from is None:
            return self.reply("503 5.5.1 MAIL first")
        if not m:
            return self.reply("501 5.5.4 Syntax: RCPT TO:<address>")
        addr = m.group(1)
        low = addr.lower()
        if low in self.server.reject:
            return self.reply("550 5.1.1 <%s>: Recipient address rejected"
                              % addr)
        if low in self.server.defer:
            return self.reply("451 4.3.0 <%s>: Try again later" % addr)
        if len(self.rcpts) >= self.args.max_rcpts:
            return self.reply("452 4.5.3 Too many recipients")
        if self.args.tempfail_rate and \
                random.random() < self.args.tempfail_rate:
            return self.reply("451 4.3.0 Random temporary failure")
        self.rcpts.append({"addr": addr, "params": m.group(2)})
        self.reply("250 2.1.5 Ok")

    def _new_files(self):
        seq = self.server.next_message()
        base = os.path.join(self.args.record, "msg-%05d" % seq)
        return seq, base, open(base + ".eml.tmp", "wb")

    def _store(self, seq, base, size, body, extra):
        env = {"id": seq, "connection": self.n,
               "mail_from": self.mail_from, "mail_params": self.mail_params,
               "rcpts": [r["addr"] for r in self.rcpts],
               "rcpt_params": [r["params"] for r in self.rcpts],
               "helo": self.helo, "esmtp": self.esmtp,
               "tls": self.conn.tls_info, "auth_user": self.auth_user,
               "auth_token": self.auth_token,
               "size": size, "body": body, "time": time.time(),
               "connected_at": self.connected_at}
        env.update(extra)
        os.rename(base + ".eml.tmp", base + ".eml")
        write_atomic(base + ".json", json.dumps(env, indent=1).encode())

    def cmd_DATA(self, arg):
        if self.mail_from is None:
            return self.reply("503 5.5.1 MAIL first")
        if not self.rcpts:
            return self.reply("554 5.5.1 No valid recipients")
        if self.chunks is not None:
            return self.reply("503 5.5.1 BDAT in progress")
        self.reply("354 End data with <CR><LF>.<CR><LF>")
        seq, base, f = self._new_files()
        rd = DataReader(self.conn, content_out=None if self.args.discard
                        else f, max_size=self.args.size)
        try:
            rd.read(self.conn.timeout)
        finally:
            f.close()
        if rd.too_big:
            os.unlink(base + ".eml.tmp")
            self.reset()
            return self.reply("552 5.3.4 Message size exceeds fixed limit")
        if self.args.defer_data:
            # Recorded as what the client sent, then refused for now.
            self._store(seq, base, os.path.getsize(base + ".eml.tmp"),
                        "DATA", {"deferred": True,
                                 "wire_sha256": rd.sha.hexdigest()})
            self.reset()
            if self.args.end_delay_ms:
                time.sleep(self.args.end_delay_ms / 1000.0)
            return self.reply("451 4.3.0 Try again later")
        if self.args.tempfail_rate and \
                random.random() < self.args.tempfail_rate:
            os.unlink(base + ".eml.tmp")
            self.reset()
            return self.reply("451 4.3.0 Random temporary failure")
        self._store(seq, base, os.path.getsize(base + ".eml.tmp"), "DATA",
                    {"wire_size": rd.size, "bare_lf": rd.bare_lf,
                     "lone_cr": rd.lone_cr,
                     "wire_sha256": rd.sha.hexdigest()})
        self.reset()
        if self.args.end_delay_ms:
            # Kept, not yet acknowledged: the window a client can lose
            # the link in after its final dot.
            time.sleep(self.args.end_delay_ms / 1000.0)
        self.reply("250 2.0.0 Ok: queued as %05d" % seq)

    def cmd_BDAT(self, arg):
        m = re.match(r"(?i)(\d+)(\s+LAST)?\s*\Z", arg)
        if not self.args.chunking:
            return self.reply("502 5.5.1 CHUNKING not offered")
        if not m:
            return self.reply("501 5.5.4 Syntax: BDAT size [LAST]")
        n = int(m.group(1))
        if n > self.args.size:
            self.conn.read_exact(min(n, 4 * self.args.size))
            self.reset()
            return self.reply("552 5.3.4 Message size exceeds fixed limit")
        # RFC 3030: the chunk is read even when the command is refused.
        data = self.conn.read_exact(n) if n else b""
        if self.mail_from is None or not self.rcpts:
            return self.reply("503 5.5.1 MAIL and RCPT first")
        if self.chunks is None:
            seq, base, f = self._new_files()
            self.chunks = [seq, base, f, 0]
        self.chunks[2].write(data)
        self.chunks[3] += n
        if self.chunks[3] > self.args.size:
            self.chunks[2].close()
            os.unlink(self.chunks[1] + ".eml.tmp")
            self.reset()
            return self.reply("552 5.3.4 Message size exceeds fixed limit")
        if not m.group(2):
            return self.reply("250 2.0.0 %d octets received" % n)
        seq, base, f, size = self.chunks
        f.close()
        self._store(seq, base, size, "BDAT", {})
        self.reset()
        self.reply("250 2.0.0 Ok: queued as %05d" % seq)


# ---------------------------------------------------------------------------

class Server:
    def __init__(self, args):
        self.args = args
        self.hostname = "mx.test.invalid"
        self.scenario = scn.parse(args.scenario) if args.scenario else None
        cert, key = args.tls_cert, args.tls_key
        self.ctx = tls_context(args, cert, key)
        self.reject = set(a.lower() for a in args.reject_rcpt)
        self.defer = set(a.lower() for a in args.defer_rcpt)
        self.lock = threading.Lock()
        self.msg_seq = 0
        self.conn_seq = 0
        self.handlers = []
        self.stop = threading.Event()

    def next_message(self):
        with self.lock:
            self.msg_seq += 1
            return self.msg_seq

    def handle(self, handler):
        try:
            handler.run()
        finally:
            if self.args.once:
                self.stop.set()

    def serve(self):
        fam = socket.AF_INET6 if ":" in self.args.bind else socket.AF_INET
        ls = socket.socket(fam, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((self.args.bind, self.args.port))
        ls.listen(128)
        port = ls.getsockname()[1]
        if self.args.pidfile:
            write_atomic(self.args.pidfile, b"%d\n" % os.getpid())
        if self.args.portfile:
            write_atomic(self.args.portfile, b"%d\n" % port)
        if self.args.verbose:
            print("smtpserver: listening on %s:%d" % (self.args.bind, port),
                  file=sys.stderr)
        deadline = time.monotonic() + self.args.lifetime
        threads = []
        while not self.stop.is_set():
            if time.monotonic() > deadline:
                print("smtpserver: lifetime of %ss over, exiting"
                      % self.args.lifetime, file=sys.stderr)
                break
            try:
                r, _, _ = select.select([ls], [], [], 0.1)
            except InterruptedError:
                continue
            if not r:
                continue
            try:
                s, _ = ls.accept()
            except OSError:
                continue
            threads = [t for t in threads if t.is_alive()]
            if len(threads) >= CONNECTIONS_MAX:
                s.close()
                continue
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.conn_seq += 1
            conn = Conn(s, self.args.timeout)
            if self.scenario is not None:
                h = Player(self, conn, self.conn_seq)
            else:
                h = Sink(self, conn, self.conn_seq)
            self.handlers.append(h)
            t = threading.Thread(target=self.handle, args=(h,), daemon=True)
            t.start()
            threads.append(t)
            if self.args.once:
                # one connection only: stop listening now
                break
        ls.close()
        end = time.monotonic() + 3
        for t in threads:
            if self.args.once and not self.stop.is_set():
                # --once: wait for the connection to finish (its own
                # timeouts bound this)
                while t.is_alive() and not self.sigterm:
                    t.join(0.1)
            t.join(max(0.0, end - time.monotonic()))
        for h in self.handlers:
            if h.result is None:
                h.finish("failed", "server terminated before the dialogue "
                         "ended")
        return 0

    sigterm = False


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--scenario", help="play this .scn file")
    g.add_argument("--sink", action="store_true",
                   help="well-behaved ESMTP server keeping every message")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--bind", default="127.0.0.1",
                   help="loopback address to listen on (127.x.y.z or ::1; "
                   "two servers on one port for the failover tests)")
    p.add_argument("--portfile")
    p.add_argument("--pidfile")
    p.add_argument("--record", help="directory for results and messages")
    p.add_argument("--once", action="store_true",
                   help="exit after the first connection")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--tls-client-ca",
                   help="ask for a client certificate signed by this CA")
    p.add_argument("--tls-client-required", action="store_true",
                   help="with --tls-client-ca: refuse clients without one")
    p.add_argument("--implicit-tls", action="store_true")
    p.add_argument("--timeout", type=float, default=15.0,
                   help="seconds per read (default 15)")
    p.add_argument("--stall-max", type=float, default=30.0,
                   help="how long !stall waits for the client to give up")
    p.add_argument("--grace", type=float, default=0.3,
                   help="seconds to watch for unmatched bytes at the end")
    p.add_argument("--max-data", type=int, default=2 * 1024 ** 3)
    p.add_argument("--lifetime", type=float, default=900.0,
                   help="exit after this many seconds whatever happens")
    p.add_argument("--verbose", "-v", action="store_true")
    # sink
    p.add_argument("--auth", help="USER:PASS accepted by AUTH")
    p.add_argument("--oauth-tokens",
                   help="file of bearer tokens XOAUTH2/OAUTHBEARER accept")
    p.add_argument("--oauth-user",
                   help="the user XOAUTH2/OAUTHBEARER must name")
    p.add_argument("--auth-tls-only", action="store_true",
                   help="offer AUTH only after TLS")
    p.add_argument("--require-tls", action="store_true",
                   help="refuse MAIL before STARTTLS")
    p.add_argument("--chunking", action="store_true")
    p.add_argument("--dsn", action="store_true")
    p.add_argument("--size", type=int, default=100 * 1024 * 1024,
                   help="SIZE limit (default 100 MiB)")
    p.add_argument("--max-rcpts", type=int, default=1000)
    p.add_argument("--reject-rcpt", action="append", default=[])
    p.add_argument("--defer-rcpt", action="append", default=[])
    p.add_argument("--delay-ms", type=int, default=0)
    p.add_argument("--end-delay-ms", type=int, default=0,
                   help="wait this long between keeping a DATA message "
                   "and saying 250")
    p.add_argument("--no-8bitmime", action="store_true",
                   help="do not offer 8BITMIME")
    p.add_argument("--discard", action="store_true",
                   help="keep only the envelope, the size and the SHA-256 "
                   "of what DATA carried (the .eml stays empty)")
    p.add_argument("--tempfail-rate", type=float, default=0.0)
    p.add_argument("--defer-data", action="store_true",
                   help="answer every final dot with 451 (the message "
                   "recorded with \"deferred\": true)")
    args = p.parse_args()

    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")
    if not (args.bind.startswith("127.") or args.bind == "::1"):
        p.error("--bind takes a loopback address (127.x.y.z or ::1)")
    if args.implicit_tls and not args.tls_cert:
        p.error("--implicit-tls needs --tls-cert and --tls-key")
    if args.sink and not args.record:
        p.error("--sink needs --record DIR")
    if args.auth and ":" not in args.auth:
        p.error("--auth USER:PASS")
    if args.record:
        os.makedirs(args.record, exist_ok=True)
    try:
        server = Server(args)
    except scn.ScenarioError as e:
        print("smtpserver: %s" % e, file=sys.stderr)
        return 2
    except (OSError, ssl.SSLError) as e:
        print("smtpserver: %s" % e, file=sys.stderr)
        return 2

    def on_signal(signum, frame):
        server.sigterm = True
        server.stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        return server.serve()
    finally:
        if args.pidfile:
            try:
                os.unlink(args.pidfile)
            except OSError:
                pass


if __name__ == "__main__":
    sys.exit(main())
