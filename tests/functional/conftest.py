# SPDX-License-Identifier: MIT
"""conftest.py: shared fixtures and helpers for vireo's functional tests.

The tests drive the real vireo binary (env VIREO_BINARY, set by meson test)
against the firmware images of tests/guest (env VIREO_GUEST_DIR).  Serial
output is captured from stdio (-serial stdio) or from a file, every run has
a timeout, and QEMU (env VIREO_QEMU, default qemu-system-x86_64 on PATH)
serves as the reference where the same guest can run under both.
"""
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from qmp_client import VM

HERE = Path(__file__).resolve().parent
SRC_ROOT = HERE.parent.parent

# Options every run gets: no default devices, no display, 16 MiB of RAM
# (-nographic, as in the QEMU command line the benchmarks use).
BASE_ARGS = ['-nodefaults', '-nographic', '-m', '16M']
DEBUG_EXIT = ['-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04']
# QEMU needs the machine named; vireo's default machine is microvm.
QEMU_MACHINE = ['-M', 'microvm,accel=kvm']

# The banner of tests/guest/hello.S
BANNER_TEXT = 'vireo: hello from the guest'

# Generous: guests run under KVM's instruction emulator on the test machine.
DEFAULT_TIMEOUT = float(os.environ.get('VIREO_TEST_TIMEOUT', '30'))


def _find_binary():
    env = os.environ.get('VIREO_BINARY')
    if env:
        return Path(env)
    for cand in ('build', 'build-guest'):
        p = SRC_ROOT / cand / 'vireo'
        if p.exists():
            return p
    return None


def _find_guest_dir():
    env = os.environ.get('VIREO_GUEST_DIR')
    if env:
        return Path(env)
    for cand in ('build', 'build-guest'):
        p = SRC_ROOT / cand / 'tests' / 'guest'
        if p.is_dir():
            return p
    return None


class Result:
    """Outcome of one finished run."""

    def __init__(self, argv, returncode, stdout, stderr, serial, elapsed):
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.serial = serial
        self.elapsed = elapsed

    def __repr__(self):
        return ('Result(rc=%r, %.2fs)\n argv: %s\n stdout: %r\n stderr: %r\n'
                ' serial: %r' % (self.returncode, self.elapsed,
                                 ' '.join(map(str, self.argv)),
                                 self.stdout[-2000:], self.stderr[-2000:],
                                 self.serial[-2000:]))


def run(argv, timeout=DEFAULT_TIMEOUT, serial_file=None, env=None):
    """Run argv to completion (killed after timeout: the test fails).

    Returns a Result; serial is the serial file's content if serial_file
    is given, otherwise stdout.
    """
    start = time.monotonic()
    proc = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail('timed out after %ss: %s\nstdout: %r\nstderr: %r'
                    % (timeout, ' '.join(map(str, argv)), out[-2000:],
                       err[-2000:]))
    elapsed = time.monotonic() - start
    out = out.decode(errors='replace')
    err = err.decode(errors='replace')
    serial = out
    if serial_file is not None:
        try:
            serial = Path(serial_file).read_text(errors='replace')
        except FileNotFoundError:
            serial = ''
    return Result(argv, proc.returncode, out, err, serial, elapsed)


class Running:
    """A VMM process left running; serial comes from stdout (-serial stdio)
    or from a file.  Always stopped by the fixture that made it."""

    def __init__(self, argv, serial_file=None, **popen_kw):
        self.argv = [str(a) for a in argv]
        self.serial_file = serial_file
        kw = dict(stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE, start_new_session=True)
        kw.update(popen_kw)
        self.proc = subprocess.Popen(self.argv, **kw)
        self._out = b''
        if self.proc.stdout is not None:
            os.set_blocking(self.proc.stdout.fileno(), False)

    def serial(self):
        if self.serial_file is not None:
            try:
                return Path(self.serial_file).read_text(errors='replace')
            except FileNotFoundError:
                return ''
        if self.proc.stdout is not None:
            try:
                chunk = self.proc.stdout.read()
            except (BlockingIOError, ValueError):
                chunk = None
            if chunk:
                self._out += chunk
        return self._out.decode(errors='replace')

    def wait_for(self, text, timeout=DEFAULT_TIMEOUT, count=1):
        """Wait until text appears count times on serial; False on
        timeout or if the process exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.serial().count(text) >= count:
                return True
            if self.proc.poll() is not None:
                return self.serial().count(text) >= count
            time.sleep(0.02)
        return False

    def alive(self):
        return self.proc.poll() is None

    def terminate(self, sig=signal.SIGTERM, timeout=10):
        """Send sig, return the exit status (None if it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                return None
        return self.proc.returncode

    def stderr(self):
        if self.proc.stderr is None or self.proc.poll() is None:
            return ''
        return self.proc.stderr.read().decode(errors='replace')

    def cleanup(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            if f is not None:
                f.close()


@pytest.fixture(scope='session')
def vireo():
    path = _find_binary()
    if path is None or not path.exists():
        pytest.fail('vireo binary not found: set VIREO_BINARY (meson test does)')
    return path


@pytest.fixture(scope='session')
def guest_dir():
    path = _find_guest_dir()
    if path is None or not path.is_dir():
        pytest.fail('guest images not found: set VIREO_GUEST_DIR (meson test does)')
    return path


@pytest.fixture(scope='session')
def guest(guest_dir):
    """guest('hello') -> path of hello.bin (fails if it was not built)."""
    def get(name):
        p = guest_dir / (name + '.bin')
        if not p.exists():
            pytest.fail('guest image %s not built' % p)
        return p
    return get


# Fixtures that skip without /dev/kvm.  Tests using one are marked `kvm`,
# so that `-m kvm` selects what a host without KVM skipped: that is what
# scripts/nested-kvm runs inside a QEMU VM with nested KVM.
KVM_FIXTURES = {'kvm', 'vireo_bin'}
# Tests booting Debian's kernel (the `linux` fixture) are also marked
# `linux`: minutes each inside scripts/nested-kvm, run there by a meson test
# of their own (tests/functional/meson.build).
LINUX_FIXTURES = {'linux'}


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'kvm: needs /dev/kvm (uses the kvm or vireo_bin fixture)')
    config.addinivalue_line(
        'markers', "linux: boots Debian's kernel (uses the linux fixture)")


# Under scripts/nested-kvm (VIREO_NESTED=1) the guest runs under QEMU TCG's
# emulation of SVM, which gets these wrong (measured there, each case
# passing on hardware KVM): they are skipped there, naming why.
NESTED_SKIP = {
    'test_triple_fault_resets':
        'nested (TCG SVM): after the SHUTDOWN exit and reset, the first '
        'fetch at 0xfffffff0 faults in NPT forever (kvm_exit npf with the '
        'reserved bit, not one exit to vireo)',
}


NESTED_SKIP['test_triple_reference'] = NESTED_SKIP['test_triple_fault_resets']

# AMD's KVM (kvm_amd) INITs the vCPU at a SHUTDOWN exit before userspace
# sees it ("VMCB is undefined after a SHUTDOWN intercept", svm.c), so the
# registers at a triple fault are gone: -d cpu_reset shows the reset
# state under QEMU and vireo alike.  Intel's keeps them.
AMD_KVM = os.path.isdir('/sys/module/kvm_amd')
AMD_SHUTDOWN_WHY = ('AMD KVM re-INITs the vCPU at the SHUTDOWN exit: no '
                    'registers from the triple fault to dump')
AMD_SKIP = {'test_longmode_dump_reference', 'test_longmode_dump_same_as_qemu',
            'test_protected_mode_dump_same_as_qemu'}


def pytest_collection_modifyitems(config, items):
    nested = os.environ.get('VIREO_NESTED') == '1'
    for item in items:
        fixtures = set(getattr(item, 'fixturenames', ()))
        if KVM_FIXTURES & fixtures:
            item.add_marker(pytest.mark.kvm)
        if LINUX_FIXTURES & fixtures:
            item.add_marker(pytest.mark.linux)
        name = getattr(item, 'originalname', None) or item.name
        why = NESTED_SKIP.get(name)
        if nested and why:
            item.add_marker(pytest.mark.skip(reason=why))
        elif AMD_KVM and name in AMD_SKIP:
            item.add_marker(pytest.mark.skip(reason=AMD_SHUTDOWN_WHY))


@pytest.fixture(scope='session')
def kvm():
    if not os.access('/dev/kvm', os.R_OK | os.W_OK):
        pytest.skip('/dev/kvm not accessible')


def _none_vms(binary, qemu=False):
    """Factory of "-machine none" VMs (qmp_client.VM with bios=None),
    stopped when the generator is closed."""
    vms = []

    def make(**kw):
        kw.setdefault('paused', False)
        vm = VM(binary, None, qemu=qemu, **kw)
        vms.append(vm)
        return vm
    yield make
    for vm in vms:
        vm.stop()


@pytest.fixture
def none_vm(vireo):
    """none_vm(extra=(), paused=False, ...) -> a qmp_client.VM running
    vireo's "-machine none,accel=kvm:tcg" (QMP only, like libvirt's probe).
    It needs no /dev/kvm: without KVM the none machine runs with no
    accelerator (docs/qemu-compat.md)."""
    yield from _none_vms(vireo)


@pytest.fixture
def qemu_none_vm(qemu):
    """The same machine under QEMU (it falls back to TCG), to compare
    reply shapes."""
    yield from _none_vms(qemu, qemu=True)


@pytest.fixture(scope='session')
def qemu():
    path = os.environ.get('VIREO_QEMU') or shutil.which('qemu-system-x86_64')
    if not path:
        pytest.skip('qemu-system-x86_64 not installed (reference runs only)')
    return path


@pytest.fixture
def vm_args(vireo, kvm):
    """vm_args(bios, *extra, serial='stdio') -> argv for a vireo run."""
    def make(bios, *extra, serial='stdio', debug_exit=True):
        argv = [vireo] + BASE_ARGS
        if serial is not None:
            argv += ['-serial', serial]
        if debug_exit:
            argv += DEBUG_EXIT
        argv += ['-bios', bios] + list(extra)
        return argv
    return make


@pytest.fixture
def qemu_args(qemu, kvm):
    """Same as vm_args, for the QEMU reference."""
    def make(bios, *extra, serial='stdio', debug_exit=True):
        argv = [qemu] + QEMU_MACHINE + BASE_ARGS
        if serial is not None:
            argv += ['-serial', serial]
        if debug_exit:
            argv += DEBUG_EXIT
        argv += ['-bios', bios] + list(extra)
        return argv
    return make


@pytest.fixture
def spawn():
    """spawn(argv, serial_file=None, **popen_kw) -> Running; killed at the
    end of the test whatever happens."""
    procs = []

    def start(argv, serial_file=None, **kw):
        r = Running(argv, serial_file=serial_file, **kw)
        procs.append(r)
        return r
    yield start
    for r in procs:
        r.cleanup()


def serial_lines(text):
    """Serial text as a list of lines without CR (QEMU's stdio adds none,
    a pty adds CRs)."""
    return [l.rstrip('\r') for l in text.replace('\r\n', '\n').split('\n') if l.strip()]
