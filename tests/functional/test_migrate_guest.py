# SPDX-License-Identifier: MIT
"""test_migrate_guest.py: migration of a guest in the middle of its work
(issue 10), with tests/guest/migrate-buf.bin: it rewrites a buffer of a
few MiB in rounds, prints `round N sum ...` after each and `done ...` at
the end on COM1 (migrate-buf.c's header gives the arithmetic).

- The model: the test computes every line the guest prints, in closed
  form (cheap for any buffer size) and, for small buffers, by running the
  guest's loops literally; the two must agree.
- QEMU 7.2 (TCG, runs here and in CI): an uninterrupted run prints
  exactly the model's text on microvm and q35; QEMU migrates it
  mid-computation (unix and tcp sockets; `exec:cat > FILE` then
  `-incoming "exec:cat FILE"`; fd: the way libvirt does, below) and the
  destination finishes it.  This checks the guest and the harness.
- vireo (needs /dev/kvm: the `kvm` fixture skips without): the same
  uninterrupted run; live migration over unix and tcp loopback on
  microvm and q35; save/restore over file: and over fd: (libvirt's way:
  getfd + `migrate fd:migrate`, live or after `stop`, then `-S -incoming
  defer` + `migrate-incoming fd:N` + `cont`), with the same code as
  QEMU's runs.

Every migration is checked the same way: the source's serial output
followed by the destination's is byte for byte the text of an
uninterrupted run (no round lost, none printed twice, the answer the
same), the source stopped before the end, the destination printed at
least one round.  Live ones start with max-bandwidth low and lift it only
after the guest printed two more rounds, so the buffer was rewritten
during the first pass and went twice (ram.normal counts it).
"""
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from functools import lru_cache

import pytest

from conftest import DEFAULT_TIMEOUT
from qmp_client import QMPClient
from test_migration import send_fd

M64 = (1 << 64) - 1
GOLDEN = 0x9e3779b97f4a7c15
MAGIC = b'MIGBUF-PARAMS-1\0'
# struct mb_params after the magic: kib, stride, rounds, pace (u32), seed
PARAMS_FMT = '<IIIIQ'
DEFAULT_SEED = 0x5eed0f00d5eed001

# Long enough to migrate in the middle (the pace makes each round last
# ~100 * 2^20 TSC ticks, ~40 ms at 2.7 GHz), short under TCG: 4 MiB, one
# word in 8 rewritten per round (every page still dirtied).
MIG = dict(kib=4096, stride=8, rounds=40, pace=100)
if os.environ.get('VIREO_NESTED') == '1':
    # scripts/nested-kvm: the guest computes at TCG speed while vireo's
    # migration thread copies at TCG's (far slower) speed: longer rounds,
    # or the source finishes before the migration does
    MIG['pace'] = 1200
# The guest's run, the migration and the restore each get this long.
TIMEOUT = DEFAULT_TIMEOUT * 4
# bytes/s during the first pass: the buffer alone takes seconds
SLOW_BW = 1 << 20
FAST_BW = 1 << 30


# ---------------------------------------------------------------- the model

def mix(z):
    """splitmix64's finaliser (migrate-buf.c)."""
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M64
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M64
    return z ^ (z >> 31)


def xorshift(seed):
    """The guest's xorshift64* stream."""
    x = (seed ^ GOLDEN) or 1
    while True:
        x ^= x >> 12
        x ^= (x << 25) & M64
        x ^= x >> 27
        yield (x * 0x2545f4914f6cdd1d) & M64


def header(kib, stride, rounds, pace, seed):
    return ('migbuf: boot\nmigbuf: %d KiB, stride %d, %d rounds, pace %d, '
            'seed %016x\n' % (kib, stride, rounds, pace, seed))


def text(kib, stride, rounds, pace, seed, sums, done):
    return (header(kib, stride, rounds, pace, seed) +
            ''.join('round %d sum %016x\n' % (r + 1, s)
                    for r, s in enumerate(sums)) +
            'done %016x\n' % done)


@lru_cache(maxsize=8)
def initial_class_sums(kib, stride, seed):
    """For each class c (the words i = c mod stride), the sums over it of
    (2i+1) * buf0[i] and of (2i+1)."""
    n = kib * 128
    h = [0] * stride
    w = [0] * stride
    for i in range(n):
        c = i & (stride - 1)
        h[c] += (2 * i + 1) * mix((seed + i * GOLDEN) & M64)
        w[c] += 2 * i + 1
    return [x & M64 for x in h], [x & M64 for x in w]


def expected(kib, stride, rounds, pace=0, seed=DEFAULT_SEED):
    """Closed form: each word of class c is P_c * buf0[i] + Q_c after the
    rounds that rewrote its class (an affine map per round), so every
    weighted sum is P_c * H_c + Q_c * W_c."""
    h, w = initial_class_sums(kib, stride, seed)
    p, q = [1] * stride, [0] * stride
    gen = xorshift(seed)
    sums = []
    for r in range(1, rounds + 1):
        a, b = next(gen) | 1, next(gen)
        c = (r - 1) % stride
        p[c] = (p[c] * a) & M64
        q[c] = (q[c] * a + b) & M64
        sums.append((p[c] * h[c] + q[c] * w[c]) & M64)
    done = sum(p[c] * h[c] + q[c] * w[c] for c in range(stride)) & M64
    return text(kib, stride, rounds, pace, seed, sums, done)


def simulate(kib, stride, rounds, pace=0, seed=DEFAULT_SEED):
    """migrate-buf.c's loops, literally (small buffers only)."""
    n = kib * 128
    buf = [mix((seed + i * GOLDEN) & M64) for i in range(n)]
    gen = xorshift(seed)
    sums = []
    for r in range(1, rounds + 1):
        a, b = next(gen) | 1, next(gen)
        s = 0
        for i in range((r - 1) & (stride - 1), n, stride):
            buf[i] = (buf[i] * a + b) & M64
            s += buf[i] * (2 * i + 1)
        sums.append(s & M64)
    done = sum(v * (2 * i + 1) for i, v in enumerate(buf)) & M64
    return text(kib, stride, rounds, pace, seed, sums, done)


def patched_image(src, dst, kib, stride, rounds, pace=0, seed=DEFAULT_SEED):
    """A copy of migrate-buf.bin with its parameters set."""
    data = bytearray(src.read_bytes())
    off = data.find(MAGIC)
    assert off >= 0 and data.find(MAGIC, off + 1) < 0, 'no single magic'
    struct.pack_into(PARAMS_FMT, data, off + len(MAGIC), kib, stride, rounds,
                     pace, seed)
    dst.write_bytes(bytes(data))
    return dst


def rounds_in(serial):
    """The last complete `round N` line of a serial text (0: none)."""
    found = re.findall(r'^round (\d+) sum [0-9a-f]{16}$', serial, re.M)
    return int(found[-1]) if found else 0


# ---------------------------------------------------------------- the VMMs

class Vmm:
    """One vireo or QEMU process: the guest's COM1 to a file, QMP on a
    unix socket, stderr to a file; killed by the fixture that made it."""

    def __init__(self, kind, binary, machine, image, workdir, name,
                 incoming=None, paused=False, pass_fds=()):
        self.name = name
        self.serial_path = os.path.join(workdir, name + '.serial')
        self.qmp_path = os.path.join(workdir, name + '.qmp')
        self.stderr_path = os.path.join(workdir, name + '.stderr')
        argv = [str(binary), '-M', machine]
        if kind == 'qemu':
            argv += ['-accel', 'tcg', '-display', 'none']
        else:
            argv += ['-nographic']
        argv += ['-nodefaults', '-m', '16M',
                 '-serial', 'file:%s' % self.serial_path,
                 '-bios', str(image),
                 '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
                 '-qmp', 'unix:%s,server=on,wait=off' % self.qmp_path]
        if incoming:
            argv += ['-incoming', incoming]
        if paused:
            argv.append('-S')
        self.argv = argv
        with open(self.stderr_path, 'wb') as err:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL,
                                         stderr=err, pass_fds=pass_fds,
                                         start_new_session=True)
        self.client = None

    def qmp(self):
        if self.client is None:
            self.client = QMPClient(self.qmp_path, timeout=TIMEOUT)
        return self.client

    def serial(self):
        try:
            with open(self.serial_path, 'rb') as f:
                return f.read().decode(errors='replace')
        except FileNotFoundError:
            return ''

    def stderr(self):
        with open(self.stderr_path, 'rb') as f:
            return f.read().decode(errors='replace')

    def __repr__(self):
        return '%s: %s\n rc %r\n serial ...%r\n stderr %r' % (
            self.name, ' '.join(self.argv), self.proc.poll(),
            self.serial()[-600:], self.stderr()[-2000:])

    def wait_round(self, n, timeout=TIMEOUT):
        """Until the guest printed round n (fails if it exits first)."""
        deadline = time.monotonic() + timeout
        while rounds_in(self.serial()) < n:
            assert self.proc.poll() is None, 'exited early: %r' % self
            assert time.monotonic() < deadline, 'no round %d: %r' % (n, self)
            time.sleep(0.01)

    def finish(self, timeout=TIMEOUT):
        """Waits for the guest's isa-debug-exit; its serial text."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail('still running after %ss: %r' % (timeout, self))
        assert rc == 1, self  # isa-debug-exit with 0
        return self.serial()

    def kill(self):
        if self.client is not None:
            self.client.close()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@pytest.fixture
def workdir():
    """A short directory (unix socket paths are limited to 108 bytes)."""
    d = tempfile.mkdtemp(prefix='migbuf-')
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def launcher(workdir):
    """launcher(kind, binary, machine, image, name, ...) -> Vmm."""
    vmms = []

    def make(*args, **kw):
        v = Vmm(args[0], args[1], args[2], args[3], workdir, *args[4:], **kw)
        vmms.append(v)
        return v
    yield make
    for v in vmms:
        v.kill()


@pytest.fixture
def mig_image(guest, tmp_path):
    return patched_image(guest('migrate-buf'), tmp_path / 'mig.bin', **MIG)


@pytest.fixture(scope='module')
def mig_text():
    return expected(**MIG)


def free_tcp_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_migrate(q, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        info = q.ok('query-migrate')
        if info.get('status') in ('completed', 'failed', 'cancelled'):
            return info
        assert time.monotonic() < deadline, 'migration still %r' % info
        time.sleep(0.02)


def live_migrate(src, uri, start_round=2):
    """Migrates src to uri from round start_round on, throttled until the
    guest printed two more rounds (so it rewrote its buffer while the
    first pass ran); returns query-migrate's answer at the end."""
    q = src.qmp()
    src.wait_round(start_round)
    q.ok('migrate-set-parameters', {'max-bandwidth': SLOW_BW})
    q.ok('migrate', {'uri': uri})
    # QEMU starts dirty logging in its setup phase, and may stay in it a
    # while on a busy host: count the rounds from the first pass on
    deadline = time.monotonic() + TIMEOUT
    while q.ok('query-migrate')['status'] == 'setup':
        assert time.monotonic() < deadline, src
        time.sleep(0.01)
    at = rounds_in(src.serial())
    src.wait_round(at + 2)
    assert q.ok('query-migrate')['status'] == 'active', src
    q.ok('migrate-set-parameters', {'max-bandwidth': FAST_BW})
    try:
        info = wait_migrate(q)
    except OSError as e:  # the source went away: say how
        src.proc.wait(5)
        pytest.fail('source lost during the migration (%s): %r' % (e, src))
    assert info['status'] == 'completed', (info, src)
    assert q.ok('query-status')['status'] == 'postmigrate'
    return info


def check_continuation(src_serial, dst_serial, want, rounds):
    """The destination took over mid-computation where the source
    stopped."""
    assert 'done' not in src_serial, 'the source finished: %r' % src_serial
    stopped = rounds_in(src_serial)
    assert 2 <= stopped < rounds, src_serial
    assert rounds_in(dst_serial) == rounds, dst_serial
    # byte for byte: nothing lost, nothing printed twice, same answer
    assert src_serial + dst_serial == want, (src_serial[-300:],
                                             dst_serial[:300])


def check_resent(info, kib):
    """Every buffer page went in the first pass and again after the
    guest rewrote it."""
    assert info['ram']['normal'] >= 2 * kib // 4, info


# ---------------------------------------------------------------- the model

@pytest.mark.parametrize('kib,stride,rounds', [(4, 1, 3), (8, 4, 9),
                                               (16, 512, 5), (4, 2, 1)])
def test_model_closed_form_matches_loops(kib, stride, rounds):
    seed = 0x0123456789abcdef
    assert expected(kib, stride, rounds, 7, seed) == \
        simulate(kib, stride, rounds, 7, seed)


def test_model_parameters_matter():
    """Each parameter changes the text (the closed form is not constant)."""
    base = expected(8, 2, 4)
    assert expected(8, 2, 5) != base
    assert expected(8, 4, 4) != base
    assert expected(12, 2, 4) != base
    assert expected(8, 2, 4, seed=1) != base
    assert len(set(re.findall(r'sum ([0-9a-f]+)', base))) == 4


# ---------------------------------------------------------------- QEMU (TCG)

def qemu_run(qemu, machine, image, timeout=TIMEOUT):
    argv = [qemu, '-M', machine, '-accel', 'tcg', '-nodefaults', '-display',
            'none', '-m', '16M', '-serial', 'stdio', '-bios', str(image),
            '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04']
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout)
    return r.returncode, r.stdout.decode(errors='replace'), \
        r.stderr.decode(errors='replace')


@pytest.mark.parametrize('machine', ['microvm', 'q35'])
@pytest.mark.parametrize('kib,stride,rounds', [(4096, 1, 4), (4096, 8, 24),
                                               (12288, 512, 3)])
def test_qemu_uninterrupted(qemu, guest, tmp_path, machine, kib, stride,
                            rounds):
    img = patched_image(guest('migrate-buf'), tmp_path / 'g.bin', kib,
                        stride, rounds)
    rc, out, err = qemu_run(qemu, machine, img)
    assert out == expected(kib, stride, rounds), (out, err)
    assert rc == 1, (rc, err)


@pytest.mark.parametrize('params', [dict(kib=2), dict(kib=12289),
                                    dict(stride=3), dict(stride=1024),
                                    dict(rounds=0)])
def test_qemu_bad_parameters(qemu, guest, tmp_path, params):
    p = dict(kib=4, stride=1, rounds=1)
    p.update(params)
    img = patched_image(guest('migrate-buf'), tmp_path / 'g.bin', **p)
    rc, out, err = qemu_run(qemu, 'microvm', img)
    assert out == 'migbuf: boot\nmigbuf: bad parameters\n', (out, err)
    assert rc == 5, (rc, err)


def migrate_live(kind, binary, launcher, workdir, machine, proto, image,
                 want):
    """Two processes, the guest migrated live from one to the other."""
    uri = ('unix:%s' % os.path.join(workdir, 'mig.sock') if proto == 'unix'
           else 'tcp:127.0.0.1:%d' % free_tcp_port())
    dst = launcher(kind, binary, machine, image, 'dst', incoming=uri)
    # QMP answers from the main loop, after -incoming started listening
    assert dst.qmp().ok('query-status')['status'] == 'inmigrate', dst
    src = launcher(kind, binary, machine, image, 'src')
    check_resent(live_migrate(src, uri), MIG['kib'])
    src_serial = src.serial()
    check_continuation(src_serial, dst.finish(), want, MIG['rounds'])


def fd_save_restore(kind, binary, launcher, workdir, image, want,
                    stop_first):
    """virsh save: getfd fdname=migrate on a file that already holds
    libvirt's header, migrate fd:migrate (live into the file, or after a
    stop as libvirt's save does); virsh restore: -S -incoming defer,
    migrate-incoming fd:N on an inherited fd positioned after the header,
    then cont."""
    path = os.path.join(workdir, 'save.img')
    head = b'LibvirtQemudSave' + b'\0' * 48
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, head)
    src = launcher(kind, binary, 'microvm', image, 'src')
    q = src.qmp()
    try:
        assert send_fd(q, fd, 'getfd', {'fdname': 'migrate'}, 'l1') == \
            {'return': {}, 'id': 'l1'}
    finally:
        os.close(fd)
    if stop_first:
        src.wait_round(3)
        q.ok('stop')
        q.ok('migrate', {'uri': 'fd:migrate'})
        assert wait_migrate(q)['status'] == 'completed', src
        assert q.ok('query-status')['status'] == 'postmigrate'
    else:
        check_resent(live_migrate(src, 'fd:migrate'), MIG['kib'])
    src_serial = src.serial()
    src.kill()

    fd = os.open(path, os.O_RDONLY)
    try:
        assert os.read(fd, len(head)) == head
        dst = launcher(kind, binary, 'microvm', image, 'dst',
                       incoming='defer', paused=True, pass_fds=(fd,))
    finally:
        os.close(fd)  # the child has its own
    qd = dst.qmp()
    assert qd.ok('query-status')['status'] == 'inmigrate'
    qd.ok('migrate-incoming', {'uri': 'fd:%d' % fd})
    deadline = time.monotonic() + TIMEOUT
    while qd.ok('query-migrate').get('status') != 'completed':
        assert time.monotonic() < deadline and dst.proc.poll() is None, dst
        time.sleep(0.02)
    assert qd.ok('query-status')['status'] == 'paused'  # -S
    assert dst.serial() == ''  # nothing ran yet
    qd.ok('cont')
    check_continuation(src_serial, dst.finish(), want, MIG['rounds'])


@pytest.mark.parametrize('machine,proto', [('microvm', 'unix'),
                                           ('q35', 'unix'),
                                           ('microvm', 'tcp')])
def test_qemu_live(qemu, launcher, workdir, mig_image, mig_text, machine,
                   proto):
    migrate_live('qemu', qemu, launcher, workdir, machine, proto, mig_image,
                 mig_text)


def test_qemu_exec_save_restore(qemu, launcher, workdir, mig_image,
                                mig_text):
    """QEMU's save to a file (7.2 has no file: URI): migrate to exec:cat,
    restore with -incoming exec:cat, the way libvirt did before fd:."""
    path = os.path.join(workdir, 'state')
    src = launcher('qemu', qemu, 'microvm', mig_image, 'src')
    check_resent(live_migrate(src, 'exec:cat > %s' % path), MIG['kib'])
    src_serial = src.serial()
    src.kill()
    assert os.path.getsize(path) > MIG['kib'] * 1024
    dst = launcher('qemu', qemu, 'microvm', mig_image, 'dst',
                   incoming='exec:cat %s' % path)
    check_continuation(src_serial, dst.finish(), mig_text, MIG['rounds'])


@pytest.mark.parametrize('stop_first', [False, True])
def test_qemu_fd_save_restore_libvirt_way(qemu, launcher, workdir, mig_image,
                                          mig_text, stop_first):
    fd_save_restore('qemu', qemu, launcher, workdir, mig_image, mig_text,
                    stop_first)


# ---------------------------------------------------------------- vireo (KVM)

@pytest.mark.parametrize('machine', ['microvm', 'q35'])
def test_vireo_uninterrupted(kvm, vireo, launcher, guest, tmp_path, machine):
    img = patched_image(guest('migrate-buf'), tmp_path / 'g.bin', 4096, 1, 6)
    v = launcher('vireo', vireo, machine, img, 'run')
    assert v.finish() == expected(4096, 1, 6), v


@pytest.mark.parametrize('machine', ['microvm', 'q35'])
@pytest.mark.parametrize('proto', ['unix', 'tcp'])
def test_vireo_live(kvm, vireo, launcher, workdir, mig_image, mig_text,
                    machine, proto):
    migrate_live('vireo', vireo, launcher, workdir, machine, proto,
                 mig_image, mig_text)


def test_vireo_file_save_restore(kvm, vireo, launcher, workdir, mig_image,
                                 mig_text):
    """migrate file: stops the guest and writes the snapshot; it restores
    (-incoming file:) any number of times, each time to the same end."""
    path = os.path.join(workdir, 'state')
    src = launcher('vireo', vireo, 'microvm', mig_image, 'src')
    q = src.qmp()
    src.wait_round(3)
    q.ok('migrate', {'uri': 'file:%s' % path})
    assert q.ok('query-migrate')['status'] == 'completed'
    assert q.ok('query-status')['status'] == 'postmigrate'
    src_serial = src.serial()
    src.kill()
    for i in range(2):
        dst = launcher('vireo', vireo, 'microvm', mig_image, 'dst%d' % i,
                       incoming='file:%s' % path)
        check_continuation(src_serial, dst.finish(), mig_text, MIG['rounds'])


@pytest.mark.parametrize('stop_first', [False, True])
def test_vireo_fd_save_restore_libvirt_way(kvm, vireo, launcher, workdir,
                                           mig_image, mig_text, stop_first):
    fd_save_restore('vireo', vireo, launcher, workdir, mig_image, mig_text,
                    stop_first)
