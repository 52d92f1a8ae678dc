#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Run a command with stdin, stdout and stderr on a pseudo-terminal, as a
person typing at a terminal would (tests/integration/options.sh: the
terminal-only lone-dot rule of mailsub(1), OPTIONS).

  ptyrun.py [--eof] [--timeout S] [--output FILE] INPUT -- ARGV...

Types INPUT's lines one by one, then, with --eof, a Ctrl-D at the start of
a line (end of input for the reader).  Waits for the command (bounded; it
is killed after --timeout seconds), writes what it printed to --output,
and exits with its exit status (124 when it had to be killed).
"""

import argparse
import os
import pty
import select
import signal
import sys
import time

sys.dont_write_bytecode = True


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--eof", action="store_true")
    p.add_argument("--timeout", type=float, default=20.0)
    p.add_argument("--output")
    p.add_argument("input")
    p.add_argument("argv", nargs="+")
    a = p.parse_args()
    lines = open(a.input, "rb").read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()

    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execv(a.argv[0], a.argv)
        finally:
            os._exit(127)

    out = bytearray()
    status = None
    pending = [line + b"\n" for line in lines]
    if a.eof:
        pending.append(b"\x04")
    deadline = time.monotonic() + a.timeout
    while status is None:
        if pending:
            try:
                os.write(fd, pending.pop(0))
            except OSError:
                pending = []
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            out += data
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(st)
        elif time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            status = 124
    os.close(fd)
    if a.output:
        with open(a.output, "wb") as f:
            f.write(bytes(out))
    return status if status >= 0 else 128 - status


if __name__ == "__main__":
    sys.exit(main())
