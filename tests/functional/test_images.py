# SPDX-License-Identifier: MIT
"""test_images.py: the guest firmware images are well formed: 64 KiB
(a multiple of 64 KiB is QEMU's rule for -bios), a near jump at the
reset vector (offset size-16) that lands inside the image, our header at
offset 0.  Needs neither vireo nor /dev/kvm."""
import struct

import pytest

GUESTS = ['hello', 'ok', 'port80', 'debugexit', 'hlt', 'pio', 'mmio',
          'triple', 'longmode', 'kbdreset', 'pcicfg']


@pytest.mark.parametrize('name', GUESTS)
def test_image_layout(guest, name):
    data = guest(name).read_bytes()
    assert len(data) == 64 * 1024
    assert data.startswith(b'vireo test guest\0')
    reset = data[-16:]
    assert reset[0] == 0xe9, 'reset vector is not a near jmp: %r' % reset
    disp = struct.unpack('<h', reset[1:3])[0]
    target = (0xfff0 + 3 + disp) & 0xffff
    # 16-bit code lives in the upper half of the image, below the vector.
    assert 0x8000 <= target < 0xfff0
    assert data[target] != 0, 'reset vector jumps into zero padding'
