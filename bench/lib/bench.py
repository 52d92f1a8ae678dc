#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""mailsub against msmtp and esmtp, side by side, on the same local
servers.

Run by bench/run, which installs the tools, builds mailsub, starts the
sinks and stops them; this script writes the configurations and messages,
runs the scenarios and writes RESULTS.md.

Every timed run is one process started by spawn.c (vfork, exec) and
reaped with wait4(2): wall time from spawn to reap, CPU as the child's user + system
time, peak RSS as its ru_maxrss (what /usr/bin/time -v prints).  The two
clients alternate run by run (ABBA order), so a change in machine load
hits all.  Instructions come from one run under valgrind --tool=callgrind
(user space only: the kernel's share is not counted).  esmtp (libESMTP)
is the second reference client: it streams the message to the server as
it reads it and keeps nothing, the speed mailsub must match while keeping
every message it read.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

KIB = 1024
MIB = 1024 * 1024
GIB = 1024 * MIB


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


# ---- measuring ----------------------------------------------------------


class Sample:
    __slots__ = ("wall", "cpu", "rss", "rc")

    def __init__(self, wall, cpu, rss, rc):
        self.wall, self.cpu, self.rss, self.rc = wall, cpu, rss, rc


SPAWN = None  # the launcher binary (spawn.c), set by main()
CEILING_RUNS = 5  # runs of each server ceiling (the best is kept)


def spawn(argv, stdin_path, env, errpath, count=1, pipe=False):
    """Run argv count times in sequence through the launcher, stdin from
    stdin_path (through a pipe with pipe): one Sample (for count > 1: total
    wall, summed CPU, the largest RSS, the first non-zero exit code)."""
    out = subprocess.run([SPAWN, "-n", str(count), "-i", stdin_path] +
                         (["-p"] if pipe else []) +
                         ["-e", errpath, "--"] + argv, env=env,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("spawn failed: %s" % out.stderr.strip())
    wall, cpu, rss, rc = out.stdout.split()
    return Sample(float(wall), float(cpu), int(rss) * KIB, int(rc))


def callgrind(argv, stdin_path, env, outdir, tag):
    """Instructions (Ir) of one run under callgrind, or None."""
    out = os.path.join(outdir, "callgrind.%s.out" % tag)
    vg = shutil.which("valgrind")
    if vg is None:
        return None
    cmd = [vg, "--tool=callgrind", "--callgrind-out-file=" + out] + argv
    with open(stdin_path, "rb") as fin, \
            open(os.path.join(outdir, "callgrind.%s.log" % tag), "wb") as e:
        rc = subprocess.call(cmd, stdin=fin, stdout=subprocess.DEVNULL,
                             stderr=e, env=env)
    if rc != 0:
        log("callgrind run of %s exited %d" % (tag, rc))
        return None
    total = None
    with open(out) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                total = int(line.split()[1])
    return total


class Result:
    """Samples per client for one scenario."""

    def __init__(self, key, title, clients):
        self.key, self.title = key, title
        self.samples = {c: [] for c in clients}
        self.instr = {c: None for c in clients}
        self.note = ""
        self.skipped = None
        self.bytes = None
        self.link = "plain"     # S4: plain or starttls
        self.size_key = None    # S4: S4-100M or S4-1G

    def ok(self, c):
        return [s for s in self.samples[c] if s.rc == 0]

    def failed(self, c):
        return len(self.samples[c]) - len(self.ok(c))

    def stat(self, c, field):
        vals = [getattr(s, field) for s in self.ok(c)]
        if not vals:
            return None
        return (statistics.median(vals), min(vals), max(vals))

    def ratio(self, field, a="mailsub", b="msmtp"):
        x, y = self.stat(a, field), self.stat(b, field)
        if x is None or y is None or y[0] == 0:
            return None
        return x[0] / y[0]

    def instr_ratio(self, b="msmtp"):
        a, b = self.instr.get("mailsub"), self.instr.get(b)
        if not a or not b:
            return None
        return a / b


def measure(key, title, cmds, stdin_path, env, runs, warmup, logdir,
            loop=1, prepare=None, pipe=False):
    """cmds: {client: argv}.  Interleaved ABBA; prepare(client) runs before
    every timed run, outside the timing; pipe: stdin through a pipe."""
    res = Result(key, title, list(cmds))
    names = list(cmds)
    errpath = os.path.join(logdir, "%s.stderr" % key)
    for i in range(warmup + runs):
        order = names if i % 2 == 0 else list(reversed(names))
        for c in order:
            if prepare:
                prepare(c)
            s = spawn(cmds[c], stdin_path, env, errpath, loop, pipe)
            if i >= warmup:
                res.samples[c].append(s)
            if s.rc != 0:
                log("%s: %s exited %d (see %s)" % (key, c, s.rc, errpath))
    return res


# ---- messages and configurations ---------------------------------------


def make_message(path, size, rcpt):
    """A text message of about size bytes: 72-character lines, one in 64
    starting with a dot (dot-stuffing has work to do), Date and Message-ID
    present so that neither client adds headers."""
    hdr = ("From: Bench Sender <a@example.org>\n"
           "To: %s\n"
           "Subject: mailsub bench, %d bytes\n"
           "Date: Mon, 1 Jan 2024 00:00:00 +0000\n"
           "Message-ID: <bench-%d@example.org>\n"
           "\n" % (rcpt, size, size)).encode()
    lines = []
    for i in range(4096):
        body = ("%05d the quick brown fox jumps over the lazy dog "
                "0123456789 abcdefghij" % i)[:71]
        if i % 64 == 63:
            body = "." + body[1:]
        lines.append(body + "\n")
    block = "".join(lines).encode()
    with open(path, "wb") as f:
        f.write(hdr)
        left = size - len(hdr)
        while left > 0:
            chunk = block[:left] if left < len(block) else block
            if left < len(block):
                # end on a whole line
                cut = chunk.rfind(b"\n") + 1
                chunk = chunk[:cut] if cut > 0 else b"x\n"
            f.write(chunk)
            left -= len(chunk)


def write_private(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def mailsub_config(path, work, sink_port, front):
    t = ["[defaults]",
         "from = a@example.org",
         "queue_dir = %s/queue" % work,
         "add_headers = auto",
         # S4-1G sends 1 GiB, past the default max_message_size.
         "max_message_size = 0",
         "account = plain",
         "",
         "[plain]",
         "host = 127.0.0.1",
         "port = %d" % sink_port,
         "tls = off",
         ""]
    if front:
        t += ["[starttls]",
              "host = 127.0.0.1",
              "port = %s" % front["STARTTLS_PORT"],
              "tls = starttls",
              "tls_trust_file = %s" % front["TRUST"],
              "",
              "[smtps]",
              "host = 127.0.0.1",
              "port = %s" % front["SMTPS_PORT"],
              "tls = on",
              "tls_trust_file = %s" % front["TRUST"],
              ""]
        for acct, mech, user, pw in (
                ("authplain", "PLAIN", front["PLAIN_USER"],
                 front["PLAIN_PASSWORD"]),
                ("authscram", "SCRAM-SHA-256", front["SCRAM_USER"],
                 front["SCRAM_PASSWORD"])):
            t += ["[%s]" % acct,
                  "host = 127.0.0.1",
                  "port = %s" % front["SUBMIT_PORT"],
                  "tls = starttls",
                  "tls_trust_file = %s" % front["TRUST"],
                  "auth = %s" % mech,
                  "user = %s" % user,
                  'password = "%s"' % pw,
                  ""]
    write_private(path, "\n".join(t))


def msmtp_config(path, sink_port, front):
    t = ["defaults",
         "from a@example.org",
         "",
         "account plain",
         "host 127.0.0.1",
         "port %d" % sink_port,
         "tls off",
         "auth off",
         ""]
    if front:
        tls = ["host 127.0.0.1", "tls on",
               "tls_trust_file %s" % front["TRUST"]]
        t += ["account starttls"] + tls + [
            "port %s" % front["STARTTLS_PORT"], "tls_starttls on",
            "auth off", ""]
        t += ["account smtps"] + tls + [
            "port %s" % front["SMTPS_PORT"], "tls_starttls off",
            "auth off", ""]
        for acct, mech, user, pw in (
                ("authplain", "plain", front["PLAIN_USER"],
                 front["PLAIN_PASSWORD"]),
                ("authscram", "scram-sha-256", front["SCRAM_USER"],
                 front["SCRAM_PASSWORD"])):
            t += ["account %s" % acct] + tls + [
                "port %s" % front["SUBMIT_PORT"], "tls_starttls on",
                "auth %s" % mech, "user %s" % user,
                "password %s" % pw, ""]
    t += ["account default : plain", ""]
    write_private(path, "\n".join(t))


def esmtp_setup(work, sink_port, front):
    """esmtp's configuration files, one per account ({account: path}: it
    has no -a), and its trust store.  libESMTP verifies the server
    against $HOME/.config/libesmtp/ca.pem (mode 0600 in a 0700
    directory) and matches the certificate's DNS names only, so it
    connects to "localhost" (the test certificate names localhost and
    127.0.0.1; localhost resolves to 127.0.0.1 alone here).  Returns
    (configs, extra environment)."""
    cfgs = {}

    def write(name, lines):
        path = os.path.join(work, "esmtprc-%s" % name)
        write_private(path, "\n".join(lines + [""]))
        cfgs[name] = path

    write("plain", ["hostname = 127.0.0.1:%d" % sink_port,
                    "starttls = disabled"])
    extra = {}
    if front:
        cadir = os.path.join(work, ".config", "libesmtp")
        os.makedirs(cadir, mode=0o700, exist_ok=True)
        os.chmod(cadir, 0o700)
        ca = os.path.join(cadir, "ca.pem")
        with open(front["TRUST"], "rb") as f:
            data = f.read()
        fd = os.open(ca, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        write("starttls", ["hostname = localhost:%s" % front["STARTTLS_PORT"],
                           "starttls = required"])
        write("authplain", ["hostname = localhost:%s" % front["SUBMIT_PORT"],
                            "starttls = required",
                            "username = \"%s\"" % front["PLAIN_USER"],
                            "password = \"%s\"" % front["PLAIN_PASSWORD"]])
        # libESMTP 1.1 over TLS 1.3 hangs now and then after the
        # handshake (it waits for a reply to a command it has not sent,
        # while the server's session tickets arrive): one run in two
        # here.  OpenSSL capped at TLS 1.2 for it alone (msmtp and
        # mailsub use GnuTLS, which ignores OPENSSL_CONF).
        conf = os.path.join(work, "openssl-esmtp.cnf")
        with open(conf, "w") as f:
            f.write("openssl_conf = default_conf\n"
                    "[default_conf]\nssl_conf = ssl_sect\n"
                    "[ssl_sect]\nsystem_default = system_default_sect\n"
                    "[system_default_sect]\nMaxProtocol = TLSv1.2\n")
        extra["OPENSSL_CONF"] = conf
    return cfgs, extra


SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def trust_bundle(work, test_ca):
    """The trust file both clients verify against: the system's CA
    certificates plus the test CA, so each parses as many anchors as
    with its default (the system store) while the test server's
    certificate still verifies.  Returns (path, sentence for the
    report)."""
    path = os.path.join(work, "trust-bundle.pem")
    n = 0
    with open(path, "wb") as out:
        if os.path.exists(SYSTEM_CA_BUNDLE):
            with open(SYSTEM_CA_BUNDLE, "rb") as f:
                data = f.read()
            n = data.count(b"-----BEGIN CERTIFICATE-----")
            out.write(data)
        with open(test_ca, "rb") as f:
            out.write(f.read())
    if n == 0:
        return path, ("both clients verify against the test CA alone "
                      "(`tls_trust_file`; no %s here)" % SYSTEM_CA_BUNDLE)
    return path, ("both clients verify against a `tls_trust_file` of the "
                  "%d CA certificates of %s plus the test CA: as many "
                  "trust anchors as their default, the system store"
                  % (n, SYSTEM_CA_BUNDLE))


def read_ports(path):
    d = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if "=" in line:
                k, v = line.split("=", 1)
                d[k] = v.strip("'")
    return d


# ---- floors --------------------------------------------------------------


class RawClient:
    """A minimal SMTP client for the server floors: no start-up, no
    parsing beyond counting reply lines (smtp-sink's are one line each)."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.pending = b""
        self.lines = 0

    def replies(self, n):
        """Wait for n reply lines; a recv at a time, counting each chunk's
        line ends once."""
        chunks = [self.pending]
        while self.lines < n:
            chunk = self.s.recv(1 << 20)
            if not chunk:
                raise OSError("server closed")
            self.lines += chunk.count(b"\n")
            chunks.append(chunk)
        data = b"".join(chunks)
        pos = 0
        for _ in range(n):
            pos = data.index(b"\n", pos) + 1
        self.pending = data[pos:]
        self.lines -= n

    def close(self):
        self.s.close()


def raw_data(port, wire_path):
    """Bytes per second smtp-sink takes a message in: the file (already in
    wire form) sent with sendfile() after DATA.  The server's share of
    S4."""
    size = os.path.getsize(wire_path)
    c = RawClient(port)
    c.replies(1)
    c.s.sendall(b"HELO raw\r\n")
    c.replies(1)
    c.s.sendall(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n"
                b"DATA\r\n")
    c.replies(3)
    t0 = time.perf_counter()
    with open(wire_path, "rb") as f:
        c.s.sendfile(f, 0, size)
    c.s.sendall(b".\r\n")
    c.replies(1)
    dt = time.perf_counter() - t0
    c.s.sendall(b"QUIT\r\n")
    c.close()
    return size / dt


def raw_data_tls(port, wire_path, cafile):
    """Bytes per second the TLS front (Postfix smtpd over STARTTLS, then
    smtp-sink) takes a message in from a minimal client: Python's ssl
    (OpenSSL), 1 MiB writes of the wire-form file after DATA.  The
    server's share of the STARTTLS scenarios."""
    import ssl

    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = s.makefile("rb")

    def reply():
        while True:
            line = f.readline()
            if not line:
                raise OSError("server closed")
            if line[3:4] != b"-":
                return int(line[:3])

    reply()
    s.sendall(b"EHLO raw\r\n")
    reply()
    s.sendall(b"STARTTLS\r\n")
    if reply() != 220:
        raise OSError("STARTTLS refused")
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = False
    t = ctx.wrap_socket(s, server_hostname="localhost")
    f = t.makefile("rb")
    t.sendall(b"EHLO raw\r\n")
    reply()
    t.sendall(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n"
              b"DATA\r\n")
    for _ in range(3):
        code = reply()
    if code != 354:
        raise OSError("DATA refused")
    size = os.path.getsize(wire_path)
    t0 = time.perf_counter()
    with open(wire_path, "rb") as src:
        for block in iter(lambda: src.read(1 << 20), b""):
            t.sendall(block)
    t.sendall(b".\r\n")
    code = reply()
    dt = time.perf_counter() - t0
    t.sendall(b"QUIT\r\n")
    t.close()
    if code != 250:
        raise OSError("end of data: %d" % code)
    return size / dt


def loopback_throughput(path, size):
    """Bytes per second of sendfile() from path to a reader that discards,
    over 127.0.0.1: what any client's data path can at best reach."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    got = [0]

    def reader():
        c, _ = srv.accept()
        buf = bytearray(1024 * 1024)
        while True:
            n = c.recv_into(buf)
            if n == 0:
                break
            got[0] += n
        c.close()

    th = threading.Thread(target=reader)
    th.start()
    s = socket.create_connection(("127.0.0.1", port))
    t0 = time.perf_counter()
    with open(path, "rb") as f:
        s.sendfile(f, 0, size)
    s.shutdown(socket.SHUT_WR)
    th.join()
    dt = time.perf_counter() - t0
    s.close()
    srv.close()
    return got[0] / dt


# ---- report ------------------------------------------------------------


def fmt_time(v):
    if v is None:
        return "-"
    if v < 1e-3:
        return "%.0f µs" % (v * 1e6)
    if v < 1:
        return "%.1f ms" % (v * 1e3)
    return "%.2f s" % v


def fmt_rss(v):
    if v is None:
        return "-"
    return "%.1f MiB" % (v / MIB)


def fmt_instr(v):
    if v is None:
        return "-"
    if v >= 1e9:
        return "%.2f G" % (v / 1e9)
    if v >= 1e6:
        return "%.2f M" % (v / 1e6)
    return "%.0f k" % (v / 1e3)


def fmt_ratio(v):
    return "-" if v is None else "%.3f" % v


def trio(st, f):
    if st is None:
        return "-"
    return "%s (%s – %s)" % (f(st[0]), f(st[1]), f(st[2]))


def scenario_table(r):
    out = []
    if r.skipped:
        return ["_skipped: %s_" % r.skipped, ""]
    out.append("| client | wall: median (min – max) | CPU user+sys: median "
               "(min – max) | peak RSS: median | instructions | runs "
               "(failed) |")
    out.append("|---|---|---|---|---|---|")
    for c in r.samples:
        rss = r.stat(c, "rss")
        out.append("| %s | %s | %s | %s | %s | %d (%d) |" % (
            c, trio(r.stat(c, "wall"), fmt_time),
            trio(r.stat(c, "cpu"), fmt_time),
            fmt_rss(rss[0] if rss else None), fmt_instr(r.instr.get(c)),
            len(r.samples[c]), r.failed(c)))
    for other in [c for c in r.samples if c != "mailsub"]:
        if "mailsub" not in r.samples:
            break
        out.append("| **mailsub/%s** | **%s** | **%s** | **%s** | "
                   "**%s** | |" % (
                       other, fmt_ratio(r.ratio("wall", b=other)),
                       fmt_ratio(r.ratio("cpu", b=other)),
                       fmt_ratio(r.ratio("rss", b=other)),
                       fmt_ratio(r.instr_ratio(other))))
    if r.note:
        out += ["", r.note]
    out.append("")
    return out


# ---- main ----------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--mailsub", required=True)
    ap.add_argument("--msmtp", default=shutil.which("msmtp"))
    ap.add_argument("--esmtp", default=shutil.which("esmtp"),
                    help="the second reference client (none: left out)")
    ap.add_argument("--no-esmtp", action="store_true",
                    help="leave esmtp out")
    ap.add_argument("--work", required=True)
    ap.add_argument("--sink-port", type=int, required=True)
    ap.add_argument("--front", help="front.sh's ports file")
    ap.add_argument("--spawn", required=True, help="bench/lib/spawn.c, "
                    "built")
    ap.add_argument("--floor-bin", help="the empty program linked to "
                    "GnuTLS and libgsasl")
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", default="",
                    help="comma list of scenario keys (S1,S2,...)")
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--command", default="bench/run",
                    help="the command line, for the report")
    a = ap.parse_args()
    if a.no_esmtp:
        a.esmtp = None
    global SPAWN
    SPAWN = a.spawn

    work = a.work
    logdir = os.path.join(work, "logs")
    os.makedirs(logdir, exist_ok=True)
    os.makedirs(os.path.join(work, "queue"), mode=0o700, exist_ok=True)
    only = set(x.strip() for x in a.only.split(",") if x.strip())
    want = (lambda k: not only or k in only)
    front = read_ports(a.front) if a.front and os.path.exists(a.front) \
        else None
    q = a.quick
    runs_small = 3 if q else 30
    warm = 1 if q else 3
    do_cg = not a.no_callgrind

    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
           "HOME": work,
           "XDG_STATE_HOME": os.path.join(work, "state"),
           "XDG_CONFIG_HOME": os.path.join(work, "config"),
           "LANG": os.environ.get("LANG", "C.UTF-8")}
    os.makedirs(env["XDG_STATE_HOME"], mode=0o700, exist_ok=True)

    trust_note = None
    if front:
        front["TRUST"], trust_note = trust_bundle(work, front["FRONT_CA"])
    mcfg = os.path.join(work, "mailsub.ini")
    rcfg = os.path.join(work, "msmtprc")
    mailsub_config(mcfg, work, a.sink_port, front)
    msmtp_config(rcfg, a.sink_port, front)
    M = [a.mailsub, "-C", mcfg]
    R = [a.msmtp, "-C", rcfg]
    ecfgs = {}
    if a.esmtp:
        ecfgs, extra = esmtp_setup(work, a.sink_port, front)
        env.update(extra)

    def E(acct="plain"):
        """esmtp's command for an account; None where it has none (no
        implicit TLS, no SCRAM in libESMTP)."""
        if acct not in ecfgs:
            return None
        return [a.esmtp, "-C", ecfgs[acct]]

    rcpt = "rcpt@example.org"

    msgs = {}

    def msg(size):
        if size not in msgs:
            p = os.path.join(work, "msg-%d.txt" % size)
            make_message(p, size, rcpt)
            msgs[size] = p
            if size >= MIB:
                # Its pages written back now, not during the timed runs.
                os.sync()
        return msgs[size]

    results = []
    t_start = time.time()

    cache_dir = os.path.join(env["XDG_STATE_HOME"], "mailsub", "cache")

    def cold(client):
        """Before a mailsub run: no TLS session or SCRAM value cached
        (msmtp keeps nothing between runs)."""
        if client == "mailsub":
            shutil.rmtree(cache_dir, ignore_errors=True)

    def scenario(key, title, margs, rargs, stdin, runs, loop=1,
                 warmup=None, eargs=None, chosen=False, **kw):
        """eargs: esmtp's whole command, or None to leave it out; chosen:
        the caller has applied --only already (a group name)."""
        if not chosen and not want(key):
            return None
        log("%s: %s (%d runs%s)" % (key, title, runs,
                                   ", %d invocations each" % loop
                                   if loop > 1 else ""))
        cmds = {"mailsub": M + margs, "msmtp": R + rargs}
        if eargs is not None:
            cmds["esmtp"] = eargs
        r = measure(key, title, cmds,
                    stdin, env, runs,
                    (warm if loop == 1 else 0) if warmup is None else warmup,
                    logdir,
                    loop=loop, **kw)
        results.append(r)
        return r

    def instr(r, margs, rargs, stdin, tag=None, eargs=None):
        if r is None or not do_cg or (q and r.key != "S1"):
            return
        tag = tag or r.key
        r.instr["mailsub"] = callgrind(M + margs, stdin, env, logdir,
                                       tag + ".mailsub")
        r.instr["msmtp"] = callgrind(R + rargs, stdin, env, logdir,
                                     tag + ".msmtp")
        if eargs is not None and "esmtp" in r.samples:
            r.instr["esmtp"] = callgrind(eargs, stdin, env, logdir,
                                         tag + ".esmtp")

    one_k = msg(1024)

    # S1
    e1 = E() + [rcpt] if E() else None
    r = scenario("S1", "1 KB, plain SMTP", [rcpt], [rcpt], one_k, runs_small,
                 eargs=e1)
    instr(r, [rcpt], [rcpt], one_k, eargs=e1)
    s1 = r
    hf = None
    if r and shutil.which("hyperfine"):
        hf = hyperfine_check(M + [rcpt], R + [rcpt], one_k, env, logdir,
                             3 if q else 20)

    # The floors next to the small-message scenarios, so that both see the
    # same machine load.
    floors = []
    if want("floors"):
        floors = measure_floors(a, env, logdir, runs_small, warm, do_cg,
                                msg(100 * MIB if not q else 1 * MIB))

    # S2, S3, S7
    warm_note = ("; mailsub's caches warm (TLS session resumed, SCRAM "
            "salted password cached), as from the second run of a cron "
            "job on")
    cold_note = "; mailsub's caches emptied before every run"
    tls_cases = [
        ("S2", "1 KB, STARTTLS with certificate verification" + warm_note,
         "starttls", None),
        ("S2-cold", "1 KB, STARTTLS with certificate verification"
         + cold_note, "starttls", cold),
        ("S3", "1 KB, implicit TLS with verification" + warm_note, "smtps",
         None),
        ("S3-cold", "1 KB, implicit TLS with verification" + cold_note,
         "smtps", cold),
        ("S7-PLAIN", "1 KB, STARTTLS + AUTH PLAIN" + warm_note, "authplain",
         None),
        ("S7-SCRAM", "1 KB, STARTTLS + AUTH SCRAM-SHA-256" + warm_note,
         "authscram", None),
        ("S7-SCRAM-cold", "1 KB, STARTTLS + AUTH SCRAM-SHA-256"
         + cold_note, "authscram", cold),
    ]
    for key, title, acct, prep in tls_cases:
        if not want(key):
            continue
        if front is None:
            r = Result(key, title, ["mailsub", "msmtp"])
            r.skipped = "no TLS front (needs root, postfix and dovecot)"
            results.append(r)
            continue
        args = ["-a", acct, rcpt]
        ea = E(acct) + [rcpt] if E(acct) else None
        r = scenario(key, title, args, args, one_k, runs_small,
                     prepare=prep, eargs=ea)
        if prep:
            prep("mailsub")
        instr(r, args, args, one_k, eargs=ea)

    # S8: OAuth2, next to S7 so that both see the same machine load.
    s8 = oauth_scenarios(a, env, work, logdir, rcpt, one_k, runs_small,
                         warm, want, results)

    # S4: large messages, plain and over STARTTLS, then the servers'
    # own intake rates for the same bytes (the ceilings).
    if q:
        big = [("S4-100M", "large message (quick: 256 KiB)", 256 * KIB, 3),
               ("S4-1G", "larger message (quick: 1 MiB)", 1 * MIB, 3)]
        cg_size = 256 * KIB
    else:
        # The page cache is warm after the first large run; a warm-up
        # run would only double the time these take.
        big = [("S4-100M", "100 MB message", 100 * MIB, 3),
               ("S4-1G", "1 GB message", 1 * GIB, 1)]
        cg_size = 10 * MIB
    links = [("plain", "plain", "", [])]
    if front:
        links.append(("starttls", "STARTTLS", "tls-",
                      ["-a", "starttls"]))
    s4 = []
    ceilings = {}
    for key, title, size, runs in big:
        done = []
        for link, lname, ktag, acct_args in links:
            # The file itself as stdin (mailsub sends it straight from the
            # file), and over plain SMTP the same through a pipe, as git
            # or mutt hand it over (mailsub must keep its own copy).
            variants = [("argv", [rcpt], "in argv"),
                        ("t", ["-t"], "from the header (-t)")]
            if link == "plain":
                variants.append(("pipe", [rcpt], "in argv, input "
                                 "through a pipe"))
            for variant, vargs, vtitle in variants:
                k = "%s-%s%s" % (key, ktag, variant)
                if not (want(k) or want(key) or want("S4") or
                        (ktag and want("S4-tls"))):
                    continue
                p = msg(size)
                ea = E(link) + vargs if E(link) else None
                r = scenario(k, "%s, %s, recipient %s" % (
                    title, lname, vtitle), acct_args + vargs,
                    acct_args + vargs, p, runs, warmup=0, eargs=ea,
                    chosen=True, pipe=(variant == "pipe"))
                if r:
                    r.bytes = os.path.getsize(p)
                    r.link = link
                    r.size_key = key
                    s4.append(r)
                    done.append(link)
        if not done:
            continue
        # The servers' own intake rates, with a wire-form copy of this
        # message (CRLF; the body has no lone "." line): CEILING_RUNS runs
        # each (they spread over +-5%).
        wire = os.path.join(work, "wire.txt")
        with open(msg(size), "rb") as fi, open(wire, "wb") as fo:
            for block in iter(lambda: fi.read(1 << 20), b""):
                fo.write(block.replace(b"\n", b"\r\n"))
        os.sync()
        if "plain" in done:
            ceilings[(key, "plain")] = [raw_data(a.sink_port, wire)
                                        for _ in range(CEILING_RUNS)]
        if "starttls" in done:
            try:
                ceilings[(key, "starttls")] = [
                    raw_data_tls(int(front["STARTTLS_PORT"]), wire,
                                 front["TRUST"])
                    for _ in range(CEILING_RUNS)]
            except (OSError, ValueError) as e:
                log("the TLS ceiling could not be measured: %s" % e)
        os.unlink(wire)
    cg = None
    if (want("S4") or want("S4-100M") or want("S4-100M-argv")) and do_cg:
        p = msg(cg_size)
        cg = {}
        for c, argv in (("mailsub", M + [rcpt]), ("msmtp", R + [rcpt]),
                        ("esmtp", E() + [rcpt] if E() else None)):
            if argv is None:
                continue
            total = callgrind(argv, p, env, logdir, "S4-cg." + c)
            base = s1.instr.get(c) if s1 else None
            cg[c] = (total, base)
        cg_bytes = os.path.getsize(p)

    # The large messages are done with: remove them and let the kernel
    # write back what it still holds, so that the small scenarios after
    # this do not share the machine with gigabytes of writeback.
    for size in [sz for sz in msgs if sz >= (1 << 20)]:
        os.unlink(msgs.pop(size))
    os.sync()
    time.sleep(1)

    # S5
    n_rcpts = 100 if q else 10000
    many = ["r%05d@example.org" % i for i in range(n_rcpts)]
    e5 = E() + many if E() else None
    r = scenario("S5", "one 1 KB message to %d recipients" % n_rcpts,
                 many, many, one_k, 3 if q else 10, eargs=e5)
    instr(r, many, many, one_k, eargs=e5)

    # S6
    n_inv = 10 if q else 1000
    s6 = scenario("S6", "%d messages of 1 KB by %d invocations, plain"
                  % (n_inv, n_inv), [rcpt], [rcpt], one_k,
                  2, loop=n_inv, eargs=e1)
    if s6:
        s6.note = ("One run is %d invocations in sequence; CPU is their "
                   "sum, RSS the largest." % n_inv)

    # Q: the queue flush, when this mailsub has one.
    qres = None
    if want("Q"):
        qres = queue_flush(a, M, env, work, logdir, rcpt, one_k,
                           n_inv, 2 if q else 3, s6)
        if qres:
            results.append(qres)


    elapsed = time.time() - t_start
    write_report(a, results, s1, s4, cg, cg_bytes if cg else None, s6,
                 qres, floors, elapsed, n_inv, hf, trust_note, s8=s8,
                 ceilings=ceilings)
    log("wrote %s in %.0f s" % (a.out, elapsed))


# ---- S8: OAuth2 ------------------------------------------------------------

TESTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         os.pardir, os.pardir, "tests")
OAUTH_USER = "bench@example.org"
OAUTH_PW = "bench-pw-S8"
OAUTH_CLIENT = "mailsub-bench-client"
REFRESHING = "mailsub XOAUTH2, refreshing"
CACHED = "mailsub XOAUTH2, stored token"


def wait_portfile(path, proc, what):
    for _ in range(200):
        if os.path.exists(path) and os.path.getsize(path) > 0:
            with open(path) as f:
                return int(f.read())
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError("%s did not start" % what)


def oauth_scenarios(a, env, work, logdir, rcpt, one_k, runs, warm, want,
                    results):
    """S8: STARTTLS + XOAUTH2 with the token mailsub keeps (cached, and
    refreshed on every run) against STARTTLS + AUTH PLAIN, all on one
    server: tests/smtpserver.py as a sink that takes both, with
    tests/fakeidp.py as the token endpoint (HTTPS, the test CA).  Returns
    {key: Result}."""
    keys = ["S8", "S8-REFRESH"]
    if not any(want(k) for k in keys):
        return {}
    py = sys.executable or "/usr/bin/python3"
    pki = os.path.join(work, "s8-pki")
    idp_dir = os.path.join(work, "s8-idp")
    os.makedirs(idp_dir, exist_ok=True)
    if subprocess.call(["sh", os.path.join(TESTS_DIR, "pki.sh"), pki],
                       stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL) != 0:
        log("S8: tests/pki.sh failed: skipped")
        return {}
    ca = os.path.join(pki, "ca.crt")
    cert, key = os.path.join(pki, "server.crt"), os.path.join(pki,
                                                             "server.key")
    procs = []
    out = {}
    try:
        idp_port_file = os.path.join(work, "s8-idp.port")
        idp = subprocess.Popen(
            [py, os.path.join(TESTS_DIR, "fakeidp.py"), "serve",
             "--portfile", idp_port_file, "--cert", cert, "--key", key,
             "--dir", idp_dir, "--client-id", OAUTH_CLIENT],
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(logdir, "s8-idp.log"), "wb"))
        procs.append(idp)
        idp_port = wait_portfile(idp_port_file, idp, "fakeidp.py")
        sink_port_file = os.path.join(work, "s8-sink.port")
        sink = subprocess.Popen(
            [py, os.path.join(TESTS_DIR, "smtpserver.py"), "--sink",
             "--record", os.path.join(work, "s8-rec"), "--port", "0",
             "--portfile", sink_port_file, "--tls-cert", cert,
             "--tls-key", key, "--auth-tls-only",
             "--auth", "%s:%s" % (OAUTH_USER, OAUTH_PW),
             "--oauth-tokens", os.path.join(idp_dir, "access-tokens"),
             "--oauth-user", OAUTH_USER],
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(logdir, "s8-sink.log"), "wb"))
        procs.append(sink)
        sink_port = wait_portfile(sink_port_file, sink, "smtpserver.py")

        common = ["host = 127.0.0.1", "port = %d" % sink_port,
                  "tls = starttls", "tls_trust_file = %s" % ca,
                  "user = %s" % OAUTH_USER]
        mcfg = os.path.join(work, "mailsub-s8.ini")
        write_private(mcfg, "\n".join(
            ["[defaults]", "from = a@example.org",
             "queue_dir = %s/queue" % work, "", "[s8plain]"] + common +
            ["auth = PLAIN", 'password = "%s"' % OAUTH_PW, "", "[s8oauth]"]
            + common +
            ["oauth2_provider = custom",
             "oauth2_client_id = %s" % OAUTH_CLIENT,
             "oauth2_token_url = https://127.0.0.1:%d/token" % idp_port,
             "oauth2_scope = \"https://outlook.office.com/SMTP.Send "
             "offline_access\"",
             "oauth2_trust_file = %s" % ca, ""]))
        # A signed-in account: a refresh token the IdP knows, the access
        # token stale, so the warm-up run fetches one.
        rt = "RT-bench-seed"
        with open(os.path.join(idp_dir, "state.json"), "w") as f:
            json.dump({"refresh_tokens": [rt]}, f)
        tdir = os.path.join(env["XDG_STATE_HOME"], "mailsub", "oauth2")
        os.makedirs(tdir, mode=0o700, exist_ok=True)
        os.chmod(os.path.join(env["XDG_STATE_HOME"], "mailsub"), 0o700)
        tfile = os.path.join(tdir, "s8oauth.token")

        def token_file(expires, refresh, access):
            write_private(tfile, "\n".join([
                "mailsub-oauth2 1", "client_id " + OAUTH_CLIENT,
                "token_url https://127.0.0.1:%d/token" % idp_port,
                "user " + OAUTH_USER, "expires %d" % expires,
                "updated 1", "refresh_token " + refresh,
                "access_token " + access, ""]))

        def read_token():
            with open(tfile) as f:
                d = dict(line.rstrip("\n").split(" ", 1) for line in f
                         if " " in line)
            return d

        token_file(1, rt, "AT-stale")
        M = [a.mailsub, "-C", mcfg]
        e = os.path.join(logdir, "S8-setup.stderr")
        if spawn(M + ["-a", "s8oauth", rcpt], one_k, env, e).rc != 0:
            log("S8: the first refresh failed (see %s): skipped" % e)
            return {}
        tok = read_token()
        rcfg = os.path.join(work, "msmtprc-s8")
        tls = ["host 127.0.0.1", "port %d" % sink_port, "tls on",
               "tls_starttls on", "tls_trust_file %s" % ca,
               "user %s" % OAUTH_USER]
        write_private(rcfg, "\n".join(
            ["defaults", "from a@example.org", "", "account s8plain"] + tls
            + ["auth plain", "password %s" % OAUTH_PW, "",
               "account s8oauth"] + tls +
            ["auth xoauth2", "password %s" % tok["access_token"], ""]))
        R = [a.msmtp, "-C", rcfg]

        def stale(client):
            """Before every refreshing run: the access token expired."""
            if client == REFRESHING:
                d = read_token()
                token_file(1, d["refresh_token"], d["access_token"])

        # All the clients of one scenario take turns run by run, so the
        # ratios between them hold whatever the machine's load does.
        for k, title, cmds, prep in (
                ("S8", "1 KB, STARTTLS + AUTH PLAIN or XOAUTH2 on one server "
                 "(tests/smtpserver.py); mailsub's stored token still good, "
                 "msmtp given the same token as its password",
                 {"mailsub PLAIN": M + ["-a", "s8plain", rcpt],
                  "mailsub XOAUTH2": M + ["-a", "s8oauth", rcpt],
                  "msmtp PLAIN": R + ["-a", "s8plain", rcpt],
                  "msmtp XOAUTH2": R + ["-a", "s8oauth", rcpt]}, None),
                ("S8-REFRESH", "1 KB, STARTTLS + XOAUTH2, mailsub with the "
                 "token renewed before every run (HTTPS to tests/fakeidp.py) "
                 "and with the stored one",
                 {REFRESHING: M + ["-a", "s8oauth", rcpt],
                  CACHED: M + ["-a", "s8oauth", rcpt]}, stale)):
            if not want(k):
                continue
            log("%s: %s (%d runs)" % (k, title, runs))
            r = measure(k, title, cmds, one_k, env, runs, warm, logdir,
                        prepare=prep)
            results.append(r)
            out[k] = r
        if "S8-REFRESH" in out:
            with open(os.path.join(idp_dir, "state.json")) as f:
                n = json.load(f)["refresh"]
            out["S8-REFRESH"].note = (
                "The fake IdP counted %d refreshes (the warm-up included)."
                % n)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    return out


def hyperfine_check(margv, rargv, stdin, env, logdir, runs):
    """S1 again with hyperfine (a public tool, its own spawning and
    statistics), as a cross-check of the launcher's numbers."""
    import shlex
    out = os.path.join(logdir, "hyperfine-S1.json")
    cmds = ["%s < %s" % (shlex.join(c), shlex.quote(stdin))
            for c in (margv, rargv)]
    rc = subprocess.call(["hyperfine", "--style", "none", "-w", "3", "-r",
                          str(runs), "--export-json", out] + cmds,
                         env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    if rc != 0:
        log("hyperfine exited %d" % rc)
        return None
    with open(out) as f:
        data = json.load(f)["results"]
    return [(name, d["mean"], d["stddev"], d["median"], d["user"],
             d["system"]) for name, d in zip(("mailsub", "msmtp"), data)]


def queue_flush(a, M, env, work, logdir, rcpt, one_k, n, runs, s6):
    """mailsub -q over n queued messages; compared with S6's msmtp runs
    (n invocations of msmtp, the only way msmtp sends n messages)."""
    qdir = os.path.join(work, "queue")
    errpath = os.path.join(logdir, "Q.stderr")
    probe = spawn(M + ["-q"], one_k, env, errpath)
    if probe.rc not in (0,):
        log("Q: this mailsub has no working -q (exit %d): skipped" %
            probe.rc)
        r = Result("Q", "%d queued messages flushed with mailsub -q" % n,
                   ["mailsub", "msmtp"])
        r.skipped = "mailsub -q is not available in this build (exit %d)" \
            % probe.rc
        return r
    # Fill the queue once with -odq, keep a copy, restore it before each
    # run.
    tmpl = os.path.join(work, "queue-template")
    shutil.rmtree(tmpl, ignore_errors=True)
    s = spawn(M + ["-odq", rcpt], one_k, env, errpath, n)
    if s.rc != 0:
        log("Q: -odq exited %d" % s.rc)
    shutil.copytree(qdir, tmpl, symlinks=True)
    r = Result("Q", "%d queued messages flushed with mailsub -q" % n,
               ["mailsub", "msmtp"])
    for i in range(runs):
        shutil.rmtree(qdir)
        shutil.copytree(tmpl, qdir, symlinks=True)
        s = spawn(M + ["-q"], one_k, env, errpath)
        left = len(os.listdir(os.path.join(qdir, "new"))) \
            if os.path.isdir(os.path.join(qdir, "new")) else 0
        if left:
            log("Q: %d messages left in the queue" % left)
            s.rc = s.rc or 1
        r.samples["mailsub"].append(s)
    if s6:
        for c in s6.samples:
            if c != "mailsub":
                r.samples[c] = list(s6.samples[c])
    r.note = ("msmtp and esmtp have no queue: their columns are S6's %d "
              "invocations from this same run.  The queue is refilled (a "
              "copy made with -odq) before each flush, outside the "
              "timing." % n)
    return r


def measure_floors(a, env, logdir, runs, warm, do_cg, big):
    floors = []
    cmds = {"/bin/true": ["/bin/true"]}
    if a.floor_bin:
        cmds["empty program linked to GnuTLS and libgsasl"] = [a.floor_bin]
    r = measure("floors", "start-up floors", cmds, "/dev/null", env, runs,
                warm, logdir)
    if do_cg:
        for c, argv in cmds.items():
            r.instr[c] = callgrind(argv, "/dev/null", env, logdir,
                                   "floor." + os.path.basename(argv[0]))
    floors.append(r)
    size = os.path.getsize(big)
    rates = [loopback_throughput(big, size) for _ in range(3)]
    floors.append(("loopback", size, rates))
    return floors


TARGETS = [
    # key, metric, op, bound, label
    ("S1", "wall", "<=", 0.1, "S1 wall"),
    ("S1", "cpu", "<=", 0.6, "S1 CPU"),
    ("S1", "rss", "<=", 0.7, "S1 peak RSS"),
    ("S2", "wall", "<=", 0.15, "S2 wall"),
    ("S2", "cpu", "<=", 0.7, "S2 CPU"),
    ("S3", "wall", "<=", 0.15, "S3 wall"),
    ("S3", "cpu", "<=", 0.7, "S3 CPU"),
    ("S2-cold", "wall", "<=", 0.15, "S2 wall, caches cold"),
    ("S2-cold", "cpu", "<=", 0.7, "S2 CPU, caches cold"),
    ("S3-cold", "wall", "<=", 0.15, "S3 wall, caches cold"),
    ("S3-cold", "cpu", "<=", 0.7, "S3 CPU, caches cold"),
    ("S7-PLAIN", "cpu", "<=", 0.7, "S7 PLAIN CPU"),
    ("S7-SCRAM", "cpu", "<=", 0.5, "S7 SCRAM-SHA-256 CPU"),
    ("S7-SCRAM-cold", "cpu", "<=", 0.5, "S7 SCRAM-SHA-256 CPU, caches "
     "cold"),
    ("S5", "wall", "<=", 0.3, "S5 wall"),
    ("S6", "wall", "<=", 0.1, "S6 wall"),
]


def write_report(a, results, s1, s4, cg, cg_bytes, s6, qres, floors,
                 elapsed, n_inv, hf, trust_note=None, s8=None,
                 ceilings=None):
    by = {r.key: r for r in results}
    ceilings = ceilings or {}
    L = []
    L.append("# mailsub against msmtp and esmtp: benchmark results")
    L.append("")
    L.append("Written by `%s` on %s in %.0f s%s." % (
        a.command, datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        elapsed, " (**quick mode: tiny sizes, few runs; not for "
        "comparison**)" if a.quick else ""))
    L.append("")
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    # The first line names the version; the rest lists the libraries.
    ver = (subprocess.run([a.mailsub, "--version"], capture_output=True,
                          text=True).stdout.splitlines() or [""])[0]
    mver = subprocess.run([a.msmtp, "--version"], capture_output=True,
                          text=True).stdout.splitlines()
    L.append("- Machine: %s, %d CPUs, Linux %s; load average at the end "
             "%.2f." % (cpu, os.cpu_count(), platform.release(),
                        os.getloadavg()[0]))
    ever = None
    if a.esmtp:
        ever = subprocess.run(["dpkg-query", "-W", "-f",
                               "esmtp ${Version}", "esmtp"],
                              capture_output=True, text=True).stdout.strip()
        lib = subprocess.run(["dpkg-query", "-W", "-f", "${Version}",
                              "libesmtp6"], capture_output=True,
                             text=True).stdout.strip()
        ever = "%s with libESMTP %s, OpenSSL capped at TLS 1.2 for it " \
            "(over TLS 1.3 libESMTP 1.1 hangs after the handshake one " \
            "run in two)" % (ever or "esmtp", lib or "?")
    L.append("- Clients: %s (built by bench/run, -O2, no sanitizers); %s "
             "(Debian package)%s." % (
                 ver, mver[0] if mver else "msmtp",
                 "; %s (Debian package; it streams the message as it "
                 "reads it and keeps nothing; no implicit TLS and no "
                 "SCRAM, so it is absent from S3 and S7-SCRAM)" % ever
                 if ever else "; esmtp not installed"))
    L.append("- Servers, all on 127.0.0.1 and started by the bench: "
             "Postfix's `smtp-sink` for plain SMTP; for TLS and AUTH a "
             "private Postfix `smtpd` (TLS, Dovecot SASL) that hands every "
             "transaction to that smtp-sink as a before-queue proxy filter, "
             "so nothing is queued or fsync'd (bench/lib/front.sh).  "
             "Certificates from tests/pki.sh; %s." % (
                 trust_note or "no TLS front in this run"))
    L.append("- Method: the clients alternate run by run (ABC CBA), each "
             "run started by a small static launcher (bench/lib/spawn.c); "
             "wall time from vfork to wait4, CPU = the child's user + "
             "system time, peak RSS = ru_maxrss (as `/usr/bin/time -v`); "
             "instructions from one run under `valgrind --tool=callgrind` "
             "(user space only).  Medians with (min – max); every ratio is "
             "mailsub/msmtp or mailsub/esmtp from this run.")
    L.append("")

    # Targets
    L.append("## Targets")
    L.append("")
    L.append("| target | bound | measured | met |")
    L.append("|---|---|---|---|")

    def row(label, bound, val, ok):
        L.append("| %s | %s | %s | %s |" % (
            label, bound, val, "-" if ok is None else
            ("yes" if ok else "**no**")))

    for key, metric, op, bound, label in TARGETS:
        r = by.get(key)
        v = r.ratio(metric) if r and not r.skipped else None
        row(label + " (mailsub/msmtp)", "≤ %.2f" % bound, fmt_ratio(v),
            None if v is None else v <= bound)
    if cg:
        ipb = {}
        for c, (t, b) in cg.items():
            if t is not None:
                ipb[c] = (t - (b or 0)) / cg_bytes
        if "mailsub" in ipb and "msmtp" in ipb:
            v = ipb["mailsub"] / ipb["msmtp"]
            row("S4 instructions per byte (mailsub/msmtp)", "≤ 0.10",
                fmt_ratio(v), v <= 0.1)
            row("S4 instructions per byte, mailsub", "≤ 15",
                "%.2f" % ipb["mailsub"], ipb["mailsub"] <= 15)
        if "mailsub" in ipb and "esmtp" in ipb:
            v = ipb["mailsub"] / ipb["esmtp"]
            row("S4 instructions per byte (mailsub/esmtp)", "-",
                fmt_ratio(v), None)
    big = [r for r in s4 if not r.skipped and r.link == "plain"]
    if big:
        worst = max((r.ratio("rss") or 0) for r in big)
        row("S4 peak RSS (mailsub/msmtp), worst case", "≤ 0.50",
            fmt_ratio(worst), worst <= 0.5)
        if s1:
            base = s1.stat("mailsub", "rss")
            top = max(r.stat("mailsub", "rss")[2] for r in big
                      if r.stat("mailsub", "rss"))
            if base:
                grow = top - base[0]
                row("S4 mailsub peak RSS flat from 1 KB to the largest "
                    "size", "growth ≤ 1 MiB", "%+.2f MiB" % (grow / MIB),
                    grow <= MIB)
    if qres and not qres.skipped:
        v = qres.ratio("wall", "msmtp", "mailsub")
        row("Q speed-up: msmtp %d runs / mailsub -q" % n_inv, "≥ 50x",
            "-" if v is None else "%.1fx" % v, None if v is None
            else v >= 50)
    elif qres:
        row("Q speed-up", "≥ 50x", "skipped: " + qres.skipped, None)
    s8 = s8 or {}
    if "S8" in s8:
        x = s8["S8"].stat("mailsub XOAUTH2", "cpu")
        p = s8["S8"].stat("mailsub PLAIN", "cpu")
        v = x[0] / p[0] if x and p and p[0] else None
        row("S8 CPU, mailsub XOAUTH2 with a stored token / mailsub AUTH "
            "PLAIN", "≤ 1.10", fmt_ratio(v), None if v is None
            else v <= 1.10)
    L.append("")
    if "S8-REFRESH" in s8:
        f = s8["S8-REFRESH"]
        d = {m: (f.stat(REFRESHING, m), f.stat(CACHED, m))
             for m in ("cpu", "rss", "wall")}
        if all(x and y for x, y in d.values()):
            L.append("A token refresh (S8-REFRESH, medians) costs mailsub "
                     "%s more CPU, %s more peak RSS and %s more wall time "
                     "than the stored token: loading mailsub-oauth.so with "
                     "libcurl and jansson, one HTTPS request with a full "
                     "TLS handshake, the token file written and fsync'd "
                     "(the fake IdP itself is Python)." % (
                         fmt_time(d["cpu"][0][0] - d["cpu"][1][0]),
                         fmt_rss(d["rss"][0][0] - d["rss"][1][0]),
                         fmt_time(d["wall"][0][0] - d["wall"][1][0])))
            L.append("")

    def ceiling(r):
        rates = ceilings.get((r.size_key, r.link))
        return max(rates) if rates else None

    # Large messages at the speed of the wire.
    if s4:
        L.append("## Targets for large messages")
        L.append("")
        L.append("| target | bound | measured | met |")
        L.append("|---|---|---|---|")
        for r in s4:
            if r.skipped:
                continue
            if r.link == "plain" or r.size_key == "S4-100M":
                v = r.ratio("wall", b="esmtp")
                row("%s wall (mailsub/esmtp)" % r.key, "≤ 0.90",
                    fmt_ratio(v), None if v is None else v <= 0.9)
            if r.link != "plain":
                continue
            v = r.ratio("cpu", b="esmtp")
            row("%s CPU (mailsub/esmtp)" % r.key, "≤ 1.00", fmt_ratio(v),
                None if v is None else v <= 1.0)
            c, st = ceiling(r), r.stat("mailsub", "wall")
            if c and st:
                v = r.bytes / st[0] / c
                row("%s throughput (share of the sink ceiling)" % r.key,
                    "≥ 85%", "%.0f%%" % (100 * v), v >= 0.85)
        rss = [r.stat("mailsub", "rss")[2] for r in s4
               if r.link == "plain" and r.stat("mailsub", "rss")]
        if s1 and s1.stat("mailsub", "rss"):
            rss.append(s1.stat("mailsub", "rss")[2])
        if rss:
            row("mailsub peak RSS, 1 KB to the largest size (plain)",
                "≤ 4 MiB", fmt_rss(max(rss)), max(rss) <= 4 * MIB)
        L.append("")

        L.append("## Throughput of large messages")
        L.append("")
        clients = [c for c in ("mailsub", "msmtp", "esmtp")
                   if any(c in r.samples for r in s4)]
        L.append("| scenario | %s | server ceiling | mailsub share of "
                 "the ceiling | wall mailsub/esmtp |" % " | ".join(clients))
        L.append("|---|%s---|---|---|" % ("---|" * len(clients)))
        for r in s4:
            if r.skipped:
                continue
            cells = []
            for c in clients:
                st = r.stat(c, "wall") if c in r.samples else None
                cells.append("%.0f MB/s" % (r.bytes / st[0] / 1e6)
                             if st else "-")
            c = ceiling(r)
            st = r.stat("mailsub", "wall")
            L.append("| %s | %s | %s | %s | %s |" % (
                r.key, " | ".join(cells),
                "%.0f MB/s" % (c / 1e6) if c else "-",
                "%.0f%%" % (100 * r.bytes / st[0] / c) if c and st else
                "-", fmt_ratio(r.ratio("wall", b="esmtp"))))
        L.append("")
        notes = []
        for (key, link), rates in sorted(ceilings.items()):
            notes.append("%s %s: %s MB/s" % (key, link, ", ".join(
                "%.0f" % (x / 1e6) for x in rates)))
        L.append("MB/s from the median wall time.  The server ceiling is "
                 "what the server takes in from a minimal client sending "
                 "the same message in wire form, the best of %d runs: for "
                 "plain SMTP smtp-sink fed by sendfile(); for STARTTLS the "
                 "TLS front (Postfix smtpd, then smtp-sink) fed by Python's "
                 "ssl in 1 MiB writes.  It is the server's intake rate, the "
                 "floor of every client's wall time; runs of the same "
                 "client spread over about 5%%, so a client's median can "
                 "land above the best of these.  Runs: %s." % (
                     CEILING_RUNS, "; ".join(notes) or "none"))
        L.append("")

    L.append("## Scenarios")
    L.append("")
    for r in results:
        L.append("### %s: %s" % (r.key, r.title))
        L.append("")
        L += scenario_table(r)
        if r.bytes:
            for c in r.samples:
                st = r.stat(c, "wall")
                if st:
                    L.append("- %s: %.0f MB/s (median)" % (
                        c, r.bytes / st[0] / 1e6))
            L.append("")
    if cg:
        L.append("### S4: instructions per byte (callgrind, %s message)"
                 % ("%.0f MiB" % (cg_bytes / MIB) if cg_bytes >= MIB
                    else "%.0f KiB" % (cg_bytes / KIB)))
        L.append("")
        L.append("| client | instructions | minus the 1 KB run | per byte |")
        L.append("|---|---|---|---|")
        for c, (t, b) in cg.items():
            if t is None:
                L.append("| %s | - | - | - |" % c)
                continue
            L.append("| %s | %s | %s | %.2f |" % (
                c, fmt_instr(t), fmt_instr(t - (b or 0)),
                (t - (b or 0)) / cg_bytes))
        L.append("")
        L.append("Per byte = (instructions of this run − those of the 1 KB "
                 "run) / bytes: the cost of the data path without "
                 "start-up.  User space only; the kernel's copies are "
                 "extra for both.")
        L.append("")

    if hf:
        L.append("### S1 cross-check with hyperfine")
        L.append("")
        L.append("hyperfine runs each client through `sh -c` with the "
                 "message redirected (it subtracts the shell's start-up), "
                 "all runs of one client, then the other's.")
        L.append("")
        L.append("| client | wall: mean ± σ | median | user | system |")
        L.append("|---|---|---|---|---|")
        for name, mean, sd, med, usr, sys_ in hf:
            L.append("| %s | %s ± %s | %s | %s | %s |" % (
                name, fmt_time(mean), fmt_time(sd), fmt_time(med),
                fmt_time(usr), fmt_time(sys_)))
        if hf[1][3]:
            L.append("")
            L.append("Median wall ratio mailsub/msmtp: %.3f." %
                     (hf[0][3] / hf[1][3]))
        L.append("")
    if floors:
        L.append("## Floors")
        L.append("")
        fr = floors[0]
        L.append("| program | wall: median (min – max) | CPU: median "
                 "(min – max) | peak RSS | instructions |")
        L.append("|---|---|---|---|---|")
        for c in fr.samples:
            rss = fr.stat(c, "rss")
            L.append("| %s | %s | %s | %s | %s |" % (
                c, trio(fr.stat(c, "wall"), fmt_time),
                trio(fr.stat(c, "cpu"), fmt_time),
                fmt_rss(rss[0] if rss else None), fmt_instr(fr.instr[c])))
        L.append("")
        for f in floors[1:]:
            if f[0] == "loopback":
                _, size, rates = f
                L.append("Raw loopback throughput (Python `socket.sendfile` "
                         "of the %.0f MiB message to a reader that discards, "
                         "3 runs): %s MB/s; at this rate 1 GiB takes %.2f s."
                         % (size / MIB, ", ".join("%.0f" % (x / 1e6)
                                                  for x in rates),
                            GIB / max(rates)))
        L.append("")
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(L))
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
