#!/usr/bin/env python3
"""The scapy peer of the pktexpect benchmarks (driven by bench_capture and bench_latency).

It does with scapy's AsyncSniffer what the C benchmark does with pktexpect, so the
two can be compared side by side in the same run:

  capture IFACE TIMEOUT_S
      Counts the UDP frames to port 9 that arrive on IFACE with a counting prn, and
      stops on the end marker (UDP port 9999) through stop_filter, or after
      TIMEOUT_S. Prints "READY" once sniffing, then "COUNT <n> CPU <seconds>".

  latency IFACE SEND_IFACE ROUNDS TIMEOUT_MS
      ROUNDS times: arm an AsyncSniffer whose stop_filter matches one probe frame
      (UDP port 7777, a fresh source port per round), wait for started_callback,
      send the probe on SEND_IFACE from an already open L2 socket, join. Prints one
      line per round: "<round> <arm_us> <send_to_verdict_us>" or "<round> <arm_us> LOST".
"""
import resource
import sys
import threading
import time

# The modules that the sniffer and these layers need (scapy.all would load every
# layer and take seconds to import; the dissection of Ether/IP/UDP is the same).
from scapy.config import conf
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.sendrecv import AsyncSniffer

DPORT_BULK = 9
DPORT_MARKER = 9999
DPORT_PROBE = 7777


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def capture(iface, timeout_s):
    seen = [0]

    def count(pkt):
        if UDP in pkt and pkt[UDP].dport == DPORT_BULK:
            seen[0] += 1

    def is_marker(pkt):
        return UDP in pkt and pkt[UDP].dport == DPORT_MARKER

    started = threading.Event()
    sniffer = AsyncSniffer(iface=iface, store=False, prn=count, stop_filter=is_marker,
                           started_callback=started.set)
    cpu0 = cpu_seconds()
    sniffer.start()
    started.wait(10)
    print("READY", flush=True)
    sniffer.join(timeout_s)
    if sniffer.running:
        sniffer.stop()
    print("COUNT %d CPU %.3f" % (seen[0], cpu_seconds() - cpu0), flush=True)


def latency(iface, send_iface, rounds, timeout_ms):
    out = conf.L2socket(iface=send_iface)
    for i in range(rounds):
        sport = 1024 + i % 60000
        probe = bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") /
                      IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=sport, dport=DPORT_PROBE) /
                      Raw(b"pktexpect-bench-probe!"))

        def is_probe(pkt, sport=sport):
            return UDP in pkt and pkt[UDP].dport == DPORT_PROBE and pkt[UDP].sport == sport

        started = threading.Event()
        t0 = time.perf_counter()
        sniffer = AsyncSniffer(iface=iface, store=False, stop_filter=is_probe, started_callback=started.set)
        sniffer.start()
        started.wait(10)
        t_armed = time.perf_counter()
        out.send(probe)
        sniffer.join(timeout_ms / 1000.0)
        t_verdict = time.perf_counter()
        arm_us = (t_armed - t0) * 1e6
        if sniffer.running:
            sniffer.stop()
            print("%d %.1f LOST" % (i, arm_us), flush=True)
        else:
            print("%d %.1f %.1f" % (i, arm_us, (t_verdict - t_armed) * 1e6), flush=True)
    out.close()


def main(argv):
    if len(argv) == 3 and argv[0] == "capture":
        capture(argv[1], float(argv[2]))
    elif len(argv) == 5 and argv[0] == "latency":
        latency(argv[1], argv[2], int(argv[3]), float(argv[4]))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
