#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Parser for the scenario files of tests/scenarios/ (format: README there).

Used by tests/smtpserver.py (which plays the dialogue over a socket) and by
tests/integration/scenarios.sh through the small command line below:

  scn.py shell FILE        print the header directives as shell assignments
  scn.py check FILE...     parse the files, report errors (exit 1 on any)
  scn.py wire FILE         print FILE in SMTP wire form (CRLF, dot-stuffed)
  scn.py default-message   print the built-in default message
  scn.py queue-check QUEUEFILE INPUT
                           the queue file's message part must end with the
                           wire form of INPUT (mailsub adds headers on top)
  scn.py result-check RESULT.json INPUT
                           smtpserver.py played the whole script, and every
                           message it received has INPUT's body (dot-stuffed
                           CRLF for DATA, CRLF for BDAT)

Standard library only (Debian's /usr/bin/python3).
"""

import codecs
import os
import re
import shlex
import sys

# Step kinds of the dialogue.
SEND = "S"              # arg: bytes (line + CRLF); coalesce: bool
EXPECT = "C"            # arg: compiled pattern; text: the pattern
DATA = "D"
DROP = "drop"
DELAY = "delay"         # arg: milliseconds
STALL = "stall"
RAW = "raw"             # arg: bytes
STARTTLS = "starttls"
LONG_LINE = "long-line"  # arg: length
CLOSE_NOTIFY = "close-notify"
END = "end"

WHERE_VALUES = ("new", "failed", "none")
LEVEL_VALUES = ("unit", "socket")
# Bounds, so that a typo in a scenario cannot make the server hang or eat
# memory.
DELAY_MAX_MS = 120000
LONG_LINE_MAX = 64 * 1024 * 1024

DEFAULT_FROM = "sender@example.org"
DEFAULT_RCPT = "rcpt@example.org"
# The "small built-in message" of the README, for the socket level (the
# unit level has its own; the server never looks at the content).
DEFAULT_MESSAGE = (
    b"From: Sender <sender@example.org>\n"
    b"To: rcpt@example.org\n"
    b"Subject: scenario test\n"
    b"Date: Mon, 01 Jan 2024 00:00:00 +0000\n"
    b"Message-ID: <scenario-test@example.org>\n"
    b"\n"
    b"Hello from the scenario tests.\n"
    b".\n"
    b"..a line that starts with a dot\n"
    b"The end.\n")


class ScenarioError(Exception):
    def __init__(self, path, lineno, msg):
        super().__init__("%s:%d: %s" % (path, lineno, msg))


class Step:
    __slots__ = ("kind", "arg", "text", "coalesce", "lineno")

    def __init__(self, kind, lineno, arg=None, text=None, coalesce=False):
        self.kind = kind
        self.arg = arg
        self.text = text
        self.coalesce = coalesce
        self.lineno = lineno

    def __repr__(self):
        return "Step(%s, line %d, %r)" % (self.kind, self.lineno,
                                          self.text if self.text is not None
                                          else self.arg)


class Scenario:
    def __init__(self, path):
        self.path = path
        self.name = os.path.splitext(os.path.basename(path))[0]
        self.exit = None
        self.stderr = None
        self.where = None
        self.config = []            # [(key, value)] in file order
        self.sender = DEFAULT_FROM
        self.rcpts = []
        self.message = None         # file name under messages/
        self.args = []
        self.level = None
        self.cert = None            # socket level: pki.sh certificate name
        self.steps = []

    def config_value(self, key, default=None):
        """The last value of KEY (case-insensitive, as iniparser)."""
        v = default
        for k, val in self.config:
            if k.lower() == key.lower():
                v = val
        return v

    def effective_rcpts(self):
        """Recipients for argv: the default one unless rcpt lines exist or
        args hold -t (then only the explicit ones)."""
        if self.rcpts:
            return list(self.rcpts)
        if "-t" in self.args:
            return []
        return [DEFAULT_RCPT]

    def message_path(self):
        if self.message is None:
            return None
        return os.path.join(os.path.dirname(self.path), "messages",
                            self.message)


def glob_to_regex(pattern):
    """C: patterns: '*' matches any run of characters, all else exact."""
    parts = [re.escape(p) for p in pattern.split("*")]
    return re.compile("".join(["(?s)"] + [parts[0]] +
                              [".*" + p for p in parts[1:]]) + r"\Z")


def unescape(text, path, lineno):
    """Python escapes (\\r \\n \\x00 \\\\) to bytes."""
    try:
        return codecs.escape_decode(text.encode("latin-1"))[0]
    except (ValueError, UnicodeEncodeError) as e:
        raise ScenarioError(path, lineno, "bad escape in !raw: %s" % e)


def _int(text, path, lineno, what, lo, hi):
    try:
        v = int(text.strip(), 10)
    except ValueError:
        raise ScenarioError(path, lineno, "%s: not a number: %r" %
                            (what, text))
    if v < lo or v > hi:
        raise ScenarioError(path, lineno, "%s: %d not in %d..%d" %
                            (what, v, lo, hi))
    return v


def _rest(line, n):
    """The text after an n-character directive and one separating space."""
    rest = line[n:]
    if rest.startswith(" "):
        rest = rest[1:]
    return rest


def parse(path):
    """Parse one .scn file into a Scenario; ScenarioError on bad input."""
    sc = Scenario(path)
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(path, 0, "not UTF-8")
    for lineno, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if line.strip() == "" or line.lstrip().startswith("#"):
            continue
        # Dialogue directives: text after them is kept exactly.
        if line.startswith("S:"):
            sc.steps.append(Step(SEND, lineno,
                                 arg=(_rest(line, 2) + "\r\n").encode(),
                                 text=_rest(line, 2)))
            continue
        if line.startswith("S+:") or line.startswith("S+"):
            n = 3 if line.startswith("S+:") else 2
            sc.steps.append(Step(SEND, lineno,
                                 arg=(_rest(line, n) + "\r\n").encode(),
                                 text=_rest(line, n), coalesce=True))
            continue
        if line.startswith("C:"):
            pat = _rest(line, 2)
            sc.steps.append(Step(EXPECT, lineno, arg=glob_to_regex(pat),
                                 text=pat))
            continue
        if line.strip() == "D:":
            sc.steps.append(Step(DATA, lineno))
            continue
        words = line.strip().split(None, 1)
        word = words[0]
        rest = words[1] if len(words) > 1 else ""
        if word.startswith("!"):
            d = word[1:]
            if d == "drop":
                sc.steps.append(Step(DROP, lineno))
            elif d == "delay":
                sc.steps.append(Step(DELAY, lineno, arg=_int(
                    rest, path, lineno, "!delay", 0, DELAY_MAX_MS)))
            elif d == "stall":
                sc.steps.append(Step(STALL, lineno))
            elif d == "raw":
                # Keep the text exactly (leading spaces may matter).
                r = line.lstrip()[len("!raw"):]
                if r.startswith(" "):
                    r = r[1:]
                b = unescape(r, path, lineno)
                if not b:
                    raise ScenarioError(path, lineno, "!raw: no bytes")
                sc.steps.append(Step(RAW, lineno, arg=b, text=r))
            elif d == "starttls":
                sc.steps.append(Step(STARTTLS, lineno))
            elif d == "long-line":
                sc.steps.append(Step(LONG_LINE, lineno, arg=_int(
                    rest, path, lineno, "!long-line", 1, LONG_LINE_MAX)))
            elif d == "close-notify":
                sc.steps.append(Step(CLOSE_NOTIFY, lineno))
            else:
                raise ScenarioError(path, lineno,
                                    "unknown directive %r" % word)
            if d not in ("delay", "raw", "long-line") and rest:
                raise ScenarioError(path, lineno,
                                    "%s takes no argument" % word)
            continue
        if word == "end":
            if rest:
                raise ScenarioError(path, lineno, "end takes no argument")
            sc.steps.append(Step(END, lineno))
            continue
        # Header directives.
        if word == "exit":
            sc.exit = _int(rest, path, lineno, "exit", 0, 255)
        elif word == "stderr":
            try:
                re.compile(rest)
            except re.error as e:
                raise ScenarioError(path, lineno, "stderr: bad regex: %s"
                                    % e)
            sc.stderr = rest
        elif word == "where":
            if rest not in WHERE_VALUES:
                raise ScenarioError(path, lineno, "where: %r not one of %s"
                                    % (rest, "|".join(WHERE_VALUES)))
            sc.where = rest
        elif word == "config":
            if "=" not in rest:
                raise ScenarioError(path, lineno, "config: KEY = VALUE")
            k, v = rest.split("=", 1)
            k, v = k.strip(), v.strip()
            if not k:
                raise ScenarioError(path, lineno, "config: empty key")
            sc.config.append((k, v))
        elif word == "from":
            sc.sender = rest.strip()
        elif word == "rcpt":
            if not rest.strip():
                raise ScenarioError(path, lineno, "rcpt: no address")
            sc.rcpts.append(rest.strip())
        elif word == "message":
            m = rest.strip()
            if not m or "/" in m or m.startswith("."):
                raise ScenarioError(path, lineno, "message: bad file name")
            sc.message = m
        elif word == "args":
            try:
                sc.args = shlex.split(rest)
            except ValueError as e:
                raise ScenarioError(path, lineno, "args: %s" % e)
        elif word == "level":
            if rest.strip() not in LEVEL_VALUES:
                raise ScenarioError(path, lineno, "level: %r not one of %s"
                                    % (rest, "|".join(LEVEL_VALUES)))
            sc.level = rest.strip()
        elif word == "cert":
            # Socket level only: which tests/pki.sh certificate the server
            # presents (server, wrongname, expired, notyet, selfsigned,
            # other-server, inter-server).
            if not re.match(r"^[a-z][a-z0-9-]*\Z", rest.strip()):
                raise ScenarioError(path, lineno, "cert: bad name")
            sc.cert = rest.strip()
        else:
            raise ScenarioError(path, lineno, "unknown directive %r" % word)
    if sc.exit is None:
        raise ScenarioError(path, 0, "no exit directive")
    if sc.where is None:
        raise ScenarioError(path, 0, "no where directive")
    if sc.message is not None and not os.path.isfile(sc.message_path()):
        raise ScenarioError(path, 0, "message file %s missing" %
                            sc.message_path())
    if sc.steps and sc.steps[-1].kind == SEND and sc.steps[-1].coalesce:
        raise ScenarioError(path, sc.steps[-1].lineno,
                            "S+ must be followed by S: or !raw")
    return sc


def wire_form(data):
    """Message bytes as they go on the wire, without the final dot
    (mailsub(1), DESCRIPTION): LF and CRLF end a line, every line ends in CRLF, a lone
    CR becomes a space, a line starting with '.' gets one more (RFC 5321
    4.5.2), and a last line without a newline is terminated."""
    out = []
    for line in re.split(b"\r?\n", data):
        out.append(line)
    if out and out[-1] == b"":
        out.pop()
    res = bytearray()
    for line in out:
        line = line.replace(b"\r", b" ")
        if line.startswith(b"."):
            line = b"." + line
        res += line + b"\r\n"
    return bytes(res)


def unstuffed_crlf(data):
    """INPUT as BDAT carries it: CRLF lines, no transparency dots."""
    return b"".join(line.replace(b"\r", b" ") + b"\r\n"
                    for line in _lines(data))


def _lines(data):
    out = re.split(b"\r?\n", data)
    if out and out[-1] == b"":
        out.pop()
    return out


def body_of(wire):
    """The part after the header section (None without an empty line)."""
    if wire.startswith(b"\r\n"):
        return wire[2:]
    i = wire.find(b"\r\n\r\n")
    return None if i < 0 else wire[i + 4:]


def result_check(result_path, input_path):
    """None, or why the server's result is not a success: a failed or
    unfinished script, or a received body that differs from INPUT's."""
    import json
    with open(result_path) as f:
        r = json.load(f)
    if r["status"] != "ok":
        return "%s (scenario line %s)" % (r["reason"], r["line"])
    if r["steps_played"] != r["steps_total"]:
        return "played %d of %d steps" % (r["steps_played"],
                                          r["steps_total"])
    with open(input_path, "rb") as f:
        raw = f.read()
    for i, m in enumerate(r.get("messages", []), 1):
        if not m.get("wire_file"):
            return "message %d: not recorded (no wire file)" % i
        with open(m["wire_file"], "rb") as f:
            got = f.read()
        if m.get("body") == "BDAT":
            want = unstuffed_crlf(raw)
        else:
            want = wire_form(raw)
        wb, gb = body_of(want), body_of(got)
        if wb is None:
            continue
        if gb != wb:
            return ("message %d: the body received (%s bytes) is not the "
                    "input's body (%d bytes) in %s form" %
                    (i, "no" if gb is None else len(gb), len(wb),
                     "BDAT" if m.get("body") == "BDAT" else "wire"))
    return None


def queue_message(path):
    """The message part of a queue file (after the first empty line)."""
    with open(path, "rb") as f:
        content = f.read()
    if not content.startswith(b"mailsub-queue "):
        raise ValueError("%s: not a queue file (no mailsub-queue line)"
                         % path)
    i = content.find(b"\n\n")
    j = content.find(b"\r\n\r\n")
    if i < 0 and j < 0:
        raise ValueError("%s: no blank line after the queue header" % path)
    if j >= 0 and (i < 0 or j < i):
        return content[j + 4:]
    return content[i + 2:]


def queue_header(path):
    """The header lines of a queue file as a list of (key, value)."""
    with open(path, "rb") as f:
        content = f.read()
    head = content.split(b"\n\n", 1)[0].decode("utf-8", "replace")
    res = []
    for line in head.split("\n")[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            res.append((k.strip(), v.strip()))
    return res


def _sh(v):
    return shlex.quote(v)


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 64
    cmd = argv[1]
    if cmd == "check":
        bad = 0
        for p in argv[2:]:
            try:
                parse(p)
            except (ScenarioError, OSError) as e:
                print(e, file=sys.stderr)
                bad += 1
        return 1 if bad else 0
    if cmd == "shell" and len(argv) == 3:
        try:
            sc = parse(argv[2])
        except (ScenarioError, OSError) as e:
            print(e, file=sys.stderr)
            return 1
        out = ["SCN_NAME=%s" % _sh(sc.name),
               "SCN_EXIT=%d" % sc.exit,
               "SCN_STDERR=%s" % _sh(sc.stderr or ""),
               "SCN_HAS_STDERR=%d" % (sc.stderr is not None),
               "SCN_WHERE=%s" % _sh(sc.where),
               "SCN_FROM=%s" % _sh(sc.sender),
               "SCN_RCPTS=%s" % _sh(" ".join(_sh(r) for r in
                                             sc.effective_rcpts())),
               "SCN_ARGS=%s" % _sh(" ".join(_sh(a) for a in sc.args)),
               "SCN_ARGS_HAVE_F=%d" % any(
                   a in ("-f", "-r") or
                   (a.startswith(("-f", "-r")) and len(a) > 2 and
                    not a.startswith("--"))
                   for a in sc.args),
               "SCN_MESSAGE=%s" % _sh(sc.message_path() or ""),
               "SCN_LEVEL=%s" % _sh(sc.level or ""),
               "SCN_CERT=%s" % _sh(sc.cert or ""),
               "SCN_STEPS=%d" % len(sc.steps),
               "SCN_TLS=%s" % _sh(sc.config_value("tls", "off")),
               "SCN_CONFIG=%s" % _sh("".join("%s = %s\n" % kv
                                             for kv in sc.config))]
        print("\n".join(out))
        return 0
    if cmd == "wire" and len(argv) == 3:
        with open(argv[2], "rb") as f:
            sys.stdout.buffer.write(wire_form(f.read()))
        return 0
    if cmd == "default-message":
        sys.stdout.buffer.write(DEFAULT_MESSAGE)
        return 0
    if cmd == "queue-check" and len(argv) == 4:
        try:
            msg = queue_message(argv[2])
        except (ValueError, OSError) as e:
            print(e)
            return 1
        with open(argv[3], "rb") as f:
            want = wire_form(f.read())
        if msg.endswith(want):
            return 0
        print("stored message does not end with the input in wire form "
              "(stored %d bytes, input %d bytes in wire form)" %
              (len(msg), len(want)))
        return 1
    if cmd == "result-check" and len(argv) == 4:
        try:
            why = result_check(argv[2], argv[3])
        except (ValueError, OSError, KeyError) as e:
            why = str(e)
        if why:
            print(why)
            return 1
        return 0
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
