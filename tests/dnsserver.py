#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""A small DNS responder for the tests (a test double, not a server).

  dnsserver.py --zone FILE [--bind 127.0.0.1] [--port 53] [--portfile F]
               [--log FILE]

Answers UDP queries from a zone file of lines "NAME TYPE DATA...":

  example.org MX 10 example-org.mail.protection.outlook.com
  _submissions._tcp.example.net SRV 0 1 465 mail.example.net
  mail.example.net A 127.0.0.1

A name with records of other types gets an empty NOERROR answer, an
unknown name NXDOMAIN (RFC 1035 4.1.1).  Names in answers are written
uncompressed.  Every question is appended to --log as "NAME TYPE".  Runs
only on a loopback address; the test runs it in a network namespace of its
own, so the machine's resolver is never asked.  Stops on SIGTERM.
"""

import argparse
import os
import signal
import socket
import struct
import sys

TYPES = {"A": 1, "MX": 15, "SRV": 33, "TXT": 16, "CNAME": 5}
NAMES = {v: k for k, v in TYPES.items()}


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            raw = label.encode("ascii")
            out += bytes([len(raw)]) + raw
    return out + b"\0"


def read_name(msg, pos):
    labels = []
    while True:
        n = msg[pos]
        if n == 0:
            return ".".join(labels), pos + 1
        if n & 0xC0:
            raise ValueError("compressed question")
        labels.append(msg[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n


def rdata(rtype, fields):
    if rtype == "A":
        return socket.inet_aton(fields[0])
    if rtype == "MX":
        return struct.pack("!H", int(fields[0])) + encode_name(fields[1])
    if rtype == "SRV":
        return struct.pack("!HHH", int(fields[0]), int(fields[1]),
                           int(fields[2])) + encode_name(fields[3])
    if rtype == "CNAME":
        return encode_name(fields[0])
    if rtype == "TXT":
        t = " ".join(fields).encode()
        return bytes([len(t)]) + t
    raise ValueError("unknown type %s" % rtype)


def load(path):
    zone = {}
    with open(path) as f:
        for line in f:
            line = line.split(";", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            name, rtype = parts[0].rstrip(".").lower(), parts[1].upper()
            zone.setdefault(name, []).append((rtype, rdata(rtype, parts[2:])))
    return zone


def answer(zone, query):
    qid, flags, qd = struct.unpack("!HHH", query[:6])
    if qd != 1:
        return None, None
    name, pos = read_name(query, 12)
    qtype, qclass = struct.unpack("!HH", query[pos:pos + 4])
    question = query[12:pos + 4]
    records = zone.get(name.lower())
    rd = flags & 0x0100
    if records is None:
        hdr = struct.pack("!HHHHHH", qid, 0x8000 | 0x0400 | rd | 0x0080 | 3,
                          1, 0, 0, 0)
        return hdr + question, (name, qtype)
    body = b""
    n = 0
    for rtype, data in records:
        if TYPES[rtype] == qtype:
            body += (encode_name(name) +
                     struct.pack("!HHIH", qtype, 1, 300, len(data)) + data)
            n += 1
    hdr = struct.pack("!HHHHHH", qid, 0x8000 | 0x0400 | rd | 0x0080, 1, n,
                      0, 0)
    return hdr + question + body, (name, qtype)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--zone", required=True)
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--port", type=int, default=53)
    p.add_argument("--portfile")
    p.add_argument("--log")
    a = p.parse_args()
    if not a.bind.startswith("127."):
        p.error("--bind takes a loopback address")
    zone = load(a.zone)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.bind, a.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if a.portfile:
        tmp = a.portfile + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % s.getsockname()[1])
        os.rename(tmp, a.portfile)
    while True:
        query, peer = s.recvfrom(4096)
        try:
            reply, q = answer(zone, query)
        except (ValueError, struct.error, IndexError):
            continue
        if reply is None:
            continue
        if a.log:
            with open(a.log, "a") as f:
                f.write("%s %s\n" % (q[0], NAMES.get(q[1], q[1])))
        s.sendto(reply, peer)


if __name__ == "__main__":
    main()
