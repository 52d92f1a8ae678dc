#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""A fake OAuth2 identity provider for the mailsub tests, and its helpers.

  fakeidp.py serve --port 0 --portfile P --cert C --key K --dir D
      [--client-id ID] [--client-secret S] [--scope SCOPE] [--canary X]
      [--lifetime SECONDS]

HTTPS on 127.0.0.1 (Debian's python3: http.server + ssl) with the test CA's
server certificate (tests/pki.sh).  Endpoints:

  GET  /authorize   RFC 6749 4.1.1 with RFC 7636: checks response_type,
                    client_id, a loopback redirect_uri, scope, state and an
                    S256 code_challenge; answers 302 to the redirect_uri
                    with a code (or error=access_denied when told to deny)
  POST /token       RFC 6749 4.1.3 (checks the code, its redirect_uri and
                    the PKCE verifier), 6 (refresh: checks the refresh
                    token, rotates it) and RFC 8628 3.4 (device code)
  POST /devicecode  RFC 8628 3.1

Every request is checked for client_id (and client_secret when given),
scope and grant_type; what fails is answered as RFC 6749 5.2 says and
listed in state.json "problems".  The tests steer it with D/control.json,
read at each request (all keys optional):

  expires_in N          lifetime of the access tokens it issues (3600)
  rotate true|false     a new refresh token on every refresh (true)
  keep_old true|false   an old refresh token stays valid (false)
  token_error CODE      answer /token with this OAuth2 error (400)
  token_status N        answer /token with this HTTP status (503, 429)
  delay SECONDS         wait before answering /token
  deny true             /authorize redirects with error=access_denied
  device [CODE, ...]    what the device polls get before the grant
                        (authorization_pending, slow_down, expired_token...)
  device_interval N     the interval the device authorization names (1)
  no_refresh_token true the grant has no refresh token
  huge true             the token answer is larger than 64 KiB

and read D/state.json, written (atomically) after each request:
counters ("refresh", "code", "device", "device_polls", "requests"), the
time of each device poll, every token it ever issued ("issued") and the
problems it found.  D/access-tokens lists the valid access tokens, one a
line, for smtpserver.py --oauth-tokens.  State survives a restart.

  fakeidp.py browser --cafile CA --from FILE [--timeout S]

A scripted browser: waits for an https:// line in FILE (mailsub's output),
follows it to the IdP (which "signs the user in" at once) and then the
redirect to mailsub's loopback listener; prints what the listener said.

  fakeidp.py proxy --port 0 --portfile P --count FILE

An HTTP CONNECT proxy on 127.0.0.1 that tunnels and writes the number of
tunnels it made to FILE.

Every socket has a timeout and every server a --lifetime.
"""

import argparse
import base64
import hashlib
import http.client
import http.server
import json
import os
import re
import secrets
import select
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True

BODY_MAX = 64 * 1024


def write_atomic(path, data):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.path = os.path.join(args.dir, "state.json")
        self.load()

    def load(self):
        """The state from the file (a test may have added a refresh
        token to it); called under the lock before each request."""
        self.data = {"refresh": 0, "code": 0, "device": 0,
                     "device_polls": 0, "device_poll_times": [],
                     "requests": 0, "issued": [], "problems": [],
                     "codes": {}, "refresh_tokens": [], "access_tokens": [],
                     "devices": {}, "serial": 0}
        try:
            with open(self.path) as f:
                self.data.update(json.load(f))
        except (OSError, ValueError):
            pass

    def control(self):
        try:
            with open(os.path.join(self.args.dir, "control.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def save(self):
        write_atomic(self.path, json.dumps(self.data, indent=1).encode())
        write_atomic(os.path.join(self.args.dir, "access-tokens"),
                     "".join(t + "\n" for t in
                             self.data["access_tokens"]).encode())

    def new_token(self, kind):
        self.data["serial"] += 1
        tok = "%s-%s-%d.%s" % (kind, self.args.canary, self.data["serial"],
                               secrets.token_urlsafe(12))
        self.data["issued"].append(tok)
        return tok

    def problem(self, text):
        self.data["problems"].append(text)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakeidp"
    timeout = 15

    def log_message(self, fmt, *a):
        if self.server.args.verbose:
            sys.stderr.write("fakeidp: " + fmt % a + "\n")

    def send_json(self, status, obj, extra=b""):
        """The answer is sent after the state is saved (do_POST): a
        client that uses a token at once finds it in access-tokens."""
        self.pending = (status, json.dumps(obj).encode() + extra)

    def flush_pending(self):
        status, body = self.pending
        self.pending = None
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def oauth_error(self, code, desc, status=400):
        self.send_json(status, {"error": code, "error_description": desc})

    def form(self):
        n = int(self.headers.get("Content-Length", "0"))
        if n > BODY_MAX:
            return None
        raw = self.rfile.read(n).decode("ascii", "replace")
        ctype = self.headers.get("Content-Type", "")
        if not ctype.startswith("application/x-www-form-urlencoded"):
            self.server.state.problem("POST without a form content type")
        f = {}
        for k, v in urllib.parse.parse_qsl(raw, keep_blank_values=True,
                                           strict_parsing=False):
            if k in f:
                self.server.state.problem("parameter %s twice" % k)
            f[k] = v
        return f

    def check_client(self, f):
        a = self.server.args
        st = self.server.state
        if f.get("client_id") != a.client_id:
            st.problem("wrong client_id %r" % f.get("client_id"))
            self.oauth_error("invalid_client", "unknown client", 401)
            return False
        if a.client_secret is not None and \
                f.get("client_secret") != a.client_secret:
            st.problem("wrong client_secret")
            self.oauth_error("invalid_client", "bad client secret", 401)
            return False
        if a.client_secret is None and "client_secret" in f:
            st.problem("client_secret sent by a public client")
        return True

    # ---- /authorize -----------------------------------------------------

    def do_GET(self):
        st = self.server.state
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        with st.lock:
            st.load()
            st.data["requests"] += 1
            ctl = st.control()
            if u.path != "/authorize":
                self.send_json(404, {"error": "not_found"})
                st.save()
                self.flush_pending()
                return
            a = self.server.args
            redirect = q.get("redirect_uri", "")
            bad = None
            if q.get("response_type") != "code":
                bad = "response_type must be code"
            elif q.get("client_id") != a.client_id:
                bad = "wrong client_id"
            elif not re.match(r"http://(127\.0\.0\.1|localhost):\d+/\Z",
                              redirect):
                bad = "redirect_uri is not a loopback address: %r" % redirect
            elif q.get("scope") != a.scope:
                bad = "wrong scope %r" % q.get("scope")
            elif not q.get("state") or len(q["state"]) < 16:
                bad = "no state (or too short)"
            elif q.get("code_challenge_method") != "S256":
                bad = "code_challenge_method must be S256"
            elif not re.match(r"[A-Za-z0-9_-]{43}\Z",
                              q.get("code_challenge", "")):
                bad = "bad code_challenge"
            if bad is not None:
                st.problem("authorize: " + bad)
                st.save()
                self.send_json(400, {"error": "invalid_request",
                                     "error_description": bad})
                self.flush_pending()
                return
            if ctl.get("deny"):
                loc = redirect + "?" + urllib.parse.urlencode(
                    {"error": "access_denied",
                     "error_description": "The user declined",
                     "state": q["state"]})
            else:
                code = "code-" + secrets.token_urlsafe(24)
                st.data["codes"][code] = {
                    "challenge": q["code_challenge"],
                    "redirect_uri": redirect, "used": False}
                loc = redirect + "?" + urllib.parse.urlencode(
                    {"code": code, "state": q["state"],
                     "scope": a.scope})
            st.save()
        self.send_response(302)
        self.send_header("Location", loc)
        self.send_header("Content-Length", "0")
        self.end_headers()

    # ---- /token and /devicecode -----------------------------------------

    def grant(self, ctl):
        st = self.server.state
        at = st.new_token("AT")
        st.data["access_tokens"].append(at)
        out = {"access_token": at, "token_type": "Bearer",
               "expires_in": int(ctl.get("expires_in", 3600)),
               "scope": self.server.args.scope}
        return out

    def do_POST(self):
        st = self.server.state
        u = urllib.parse.urlsplit(self.path)
        with st.lock:
            ctl = st.control()
        delay = float(ctl.get("delay", 0))
        if u.path == "/token" and delay:
            time.sleep(delay)
        self.pending = None
        with st.lock:
            st.load()
            st.data["requests"] += 1
            try:
                self.post(u.path, ctl)
            finally:
                st.save()
        if self.pending is not None:
            self.flush_pending()

    def post(self, path, ctl):
        st = self.server.state
        a = self.server.args
        f = self.form()
        if f is None:
            return self.oauth_error("invalid_request", "too large")
        if path == "/devicecode":
            if not self.check_client(f):
                return
            if f.get("scope") != a.scope:
                st.problem("devicecode: wrong scope %r" % f.get("scope"))
                return self.oauth_error("invalid_scope", "wrong scope")
            st.data["device"] += 1
            dc = "dev-" + secrets.token_urlsafe(24)
            st.data["devices"][dc] = {"script": list(ctl.get("device", [])),
                                      "done": False}
            return self.send_json(200, {
                "device_code": dc, "user_code": "FAKE-CODE",
                "verification_uri": "https://127.0.0.1:%d/device" %
                self.server.server_address[1],
                "expires_in": int(ctl.get("device_expires", 900)),
                "interval": int(ctl.get("device_interval", 1)),
                "message": "Enter FAKE-CODE at the fake IdP"})
        if path != "/token":
            return self.send_json(404, {"error": "not_found"})
        if ctl.get("token_status"):
            return self.send_json(int(ctl["token_status"]),
                                  {"error": "temporarily_unavailable"})
        if not self.check_client(f):
            return
        gt = f.get("grant_type")
        if ctl.get("token_error") and gt == "refresh_token":
            return self.oauth_error(ctl["token_error"],
                                    "AADSTS70000: told to fail\r\nTrace ID: x")
        if gt == "authorization_code":
            c = st.data["codes"].get(f.get("code", ""))
            if c is None or c["used"]:
                st.problem("token: unknown or reused code")
                return self.oauth_error("invalid_grant", "bad code")
            c["used"] = True
            if f.get("redirect_uri") != c["redirect_uri"]:
                st.problem("token: redirect_uri differs from /authorize")
                return self.oauth_error("invalid_grant", "redirect_uri")
            verifier = f.get("code_verifier", "")
            if not re.match(r"[A-Za-z0-9._~-]{43,128}\Z", verifier) or \
                    b64url(hashlib.sha256(verifier.encode()).digest()) != \
                    c["challenge"]:
                st.problem("token: PKCE verifier does not match")
                return self.oauth_error("invalid_grant", "PKCE")
            st.data["code"] += 1
        elif gt == "refresh_token":
            rt = f.get("refresh_token", "")
            if rt not in st.data["refresh_tokens"]:
                st.problem("token: unknown refresh token")
                return self.oauth_error("invalid_grant",
                                        "AADSTS700082: The refresh token "
                                        "has expired or was revoked")
            if "scope" in f and f["scope"] != a.scope:
                st.problem("token: refresh with scope %r" % f["scope"])
                return self.oauth_error("invalid_scope", "wrong scope")
            st.data["refresh"] += 1
            out = self.grant(ctl)
            if ctl.get("rotate", True):
                new = st.new_token("RT")
                if not ctl.get("keep_old", False):
                    st.data["refresh_tokens"].remove(rt)
                st.data["refresh_tokens"].append(new)
                out["refresh_token"] = new
            return self.send_grant(out, ctl)
        elif gt == "urn:ietf:params:oauth:grant-type:device_code":
            d = st.data["devices"].get(f.get("device_code", ""))
            st.data["device_polls"] += 1
            st.data["device_poll_times"].append(time.time())
            if d is None or d["done"]:
                st.problem("token: unknown device code")
                return self.oauth_error("invalid_grant", "bad device code")
            if d["script"]:
                code = d["script"].pop(0)
                return self.oauth_error(code, "scripted " + code)
            d["done"] = True
        else:
            st.problem("token: grant_type %r" % gt)
            return self.oauth_error("unsupported_grant_type", str(gt))
        out = self.grant(ctl)
        if not ctl.get("no_refresh_token"):
            rt = st.new_token("RT")
            st.data["refresh_tokens"].append(rt)
            out["refresh_token"] = rt
        return self.send_grant(out, ctl)

    def send_grant(self, out, ctl):
        extra = b""
        if ctl.get("huge"):
            extra = b" " * (BODY_MAX + 10)
        self.send_json(200, out, extra)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(args):
    if not args.canary:
        args.canary = secrets.token_hex(8)
    os.makedirs(args.dir, exist_ok=True)
    srv = Server(("127.0.0.1", args.port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.args = args
    srv.state = State(args)
    with srv.state.lock:
        srv.state.save()
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    t = threading.Thread(target=srv.serve_forever, kwargs={
        "poll_interval": 0.1}, daemon=True)
    t.start()
    if args.portfile:
        write_atomic(args.portfile, b"%d\n" % srv.server_address[1])
    stop.wait(args.lifetime)
    srv.shutdown()
    return 0


# ---- the scripted browser ---------------------------------------------

def browser(args):
    deadline = time.time() + args.timeout
    url = None
    while time.time() < deadline and url is None:
        try:
            with open(args.from_file) as f:
                for line in f:
                    if line.startswith("https://"):
                        url = line.strip()
                        break
        except OSError:
            pass
        if url is None:
            time.sleep(0.05)
    if url is None:
        print("browser: no URL appeared", file=sys.stderr)
        return 1
    u = urllib.parse.urlsplit(url)
    ctx = ssl.create_default_context(cafile=args.cafile)
    c = http.client.HTTPSConnection(u.hostname, u.port, context=ctx,
                                    timeout=10)
    c.request("GET", u.path + "?" + u.query)
    r = c.getresponse()
    r.read()
    if r.status != 302:
        print("browser: the IdP answered %d" % r.status, file=sys.stderr)
        return 1
    loc = r.getheader("Location")
    if args.print_location:
        print(loc)
        return 0
    v = urllib.parse.urlsplit(loc)
    if v.scheme != "http" or v.hostname not in ("127.0.0.1", "localhost"):
        print("browser: redirected to %s" % loc, file=sys.stderr)
        return 1
    # A browser asks for the favicon too, and may come first with it.
    for target in (["/favicon.ico"] if args.favicon else []) + \
            [v.path + "?" + v.query]:
        h = http.client.HTTPConnection("127.0.0.1", v.port, timeout=10)
        h.request("GET", target)
        resp = h.getresponse()
        body = resp.read().decode("utf-8", "replace")
        h.close()
    print("%d %s" % (resp.status, body.strip()))
    return 0 if resp.status == 200 else 1


# ---- the CONNECT proxy --------------------------------------------------

def proxy(args):
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", args.port))
    lsock.listen(16)
    lsock.settimeout(0.2)
    count = [0]
    lock = threading.Lock()
    write_atomic(args.count, b"0\n")
    if args.portfile:
        write_atomic(args.portfile, b"%d\n" % lsock.getsockname()[1])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda s, f: stop.set())
    signal.signal(signal.SIGINT, lambda s, f: stop.set())

    def tunnel(c):
        c.settimeout(15)
        try:
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 8192:
                d = c.recv(4096)
                if not d:
                    return
                head += d
            m = re.match(rb"CONNECT ([^ :]+):(\d+) HTTP/1\.[01]\r\n", head)
            if m is None or m.group(1) not in (b"127.0.0.1", b"localhost"):
                c.sendall(b"HTTP/1.1 403 Forbidden\r\n\r\n")
                return
            up = socket.create_connection(("127.0.0.1", int(m.group(2))),
                                          timeout=15)
            with lock:
                count[0] += 1
                write_atomic(args.count, b"%d\n" % count[0])
            c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            rest = head.split(b"\r\n\r\n", 1)[1]
            if rest:
                up.sendall(rest)
            end = time.time() + 30
            while time.time() < end:
                r, _, _ = select.select([c, up], [], [], 1)
                for s in r:
                    d = s.recv(65536)
                    if not d:
                        return
                    (up if s is c else c).sendall(d)
        except OSError:
            pass
        finally:
            c.close()

    end = time.time() + args.lifetime
    while not stop.is_set() and time.time() < end:
        try:
            c, _ = lsock.accept()
        except socket.timeout:
            continue
        threading.Thread(target=tunnel, args=(c,), daemon=True).start()
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--portfile")
    s.add_argument("--cert", required=True)
    s.add_argument("--key", required=True)
    s.add_argument("--dir", required=True)
    s.add_argument("--client-id", default="mailsub-test-client")
    s.add_argument("--client-secret")
    s.add_argument("--scope", default="https://outlook.office.com/SMTP.Send "
                   "offline_access")
    s.add_argument("--canary")
    s.add_argument("--lifetime", type=float, default=900)
    s.add_argument("--verbose", "-v", action="store_true")
    b = sub.add_parser("browser")
    b.add_argument("--cafile", required=True)
    b.add_argument("--from", dest="from_file", required=True)
    b.add_argument("--timeout", type=float, default=30)
    b.add_argument("--favicon", action="store_true",
                   help="ask the listener for /favicon.ico first")
    b.add_argument("--print-location", action="store_true",
                   help="print where the IdP redirects to and stop")
    x = sub.add_parser("proxy")
    x.add_argument("--port", type=int, default=0)
    x.add_argument("--portfile")
    x.add_argument("--count", required=True)
    x.add_argument("--lifetime", type=float, default=900)
    args = p.parse_args()
    return {"serve": serve, "browser": browser, "proxy": proxy}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
