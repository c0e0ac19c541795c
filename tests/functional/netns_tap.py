# SPDX-License-Identifier: MIT
"""netns_tap.py: the host side of the virtio guest's net check on a tap.

Run inside a fresh network namespace (`unshare -n python3 netns_tap.py
--ifname IF -- VMM ARGV...`, as root): creates the tap IF, brings it up,
starts the VMM (which opens IF with `-netdev tap,ifname=IF,script=no`),
waits for the guest's frame on IF (AF_PACKET), answers with one frame to
the guest's MAC, waits for the VMM to exit and prints a JSON report on
stdout: returncode, the VMM's stdout (serial) and stderr, the frame, and
errors.  Nothing outside the namespace is touched."""
import argparse
import json
import os
import select
import socket
import subprocess
import sys
import time

ETH_P_ALL = 0x0003


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ifname', required=True)
    ap.add_argument('--guest-mac', required=True)
    ap.add_argument('--host-mac', required=True)
    ap.add_argument('--ethertype', type=lambda x: int(x, 0), required=True)
    ap.add_argument('--text', required=True)
    ap.add_argument('--timeout', type=float, default=60)
    ap.add_argument('argv', nargs=argparse.REMAINDER)
    a = ap.parse_args()
    argv = a.argv[1:] if a.argv[:1] == ['--'] else a.argv
    report = {'returncode': None, 'serial': '', 'stderr': '', 'frame': None,
              'errors': []}
    subprocess.run(['ip', 'tuntap', 'add', 'dev', a.ifname, 'mode', 'tap'],
                   check=True)
    subprocess.run(['ip', 'link', 'set', a.ifname, 'up'], check=True)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_ALL))
    s.bind((a.ifname, 0))
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + a.timeout
    guest_mac = bytes.fromhex(a.guest_mac.replace(':', ''))
    try:
        # only frames the guest sent: the kernel's own (IPv6 neighbour
        # discovery on the tap) are outgoing from its side too
        while time.monotonic() < deadline and proc.poll() is None:
            r, _, _ = select.select([s], [], [], 0.2)
            if not r:
                continue
            data, addr = s.recvfrom(65536)
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            if (data[6:12] == guest_mac and
                    int.from_bytes(data[12:14], 'big') == a.ethertype):
                report['frame'] = data.hex()
                frame = (guest_mac + bytes.fromhex(a.host_mac) +
                         a.ethertype.to_bytes(2, 'big') + a.text.encode())
                frame += bytes(max(0, 60 - len(frame)))
                s.send(frame)
                break
        if report['frame'] is None:
            report['errors'].append('no frame from the guest on ' + a.ifname)
        out, err = proc.communicate(timeout=max(1, deadline -
                                                time.monotonic()))
        report['returncode'] = proc.returncode
        report['serial'] = out.decode(errors='replace')
        report['stderr'] = err.decode(errors='replace')
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        report['errors'].append('VMM timed out')
        report['serial'] = out.decode(errors='replace')
        report['stderr'] = err.decode(errors='replace')
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    json.dump(report, sys.stdout)
    return 0


if __name__ == '__main__':
    sys.exit(main())
