/* SPDX-License-Identifier: MIT */
/*
 * dev-replay.c: runs a program of port accesses ("w PORT VAL" / "r PORT",
 * hex, one per line on stdin) against the 16550A core (ports 0x3f8-0x3ff)
 * or the i8042 core (0x60, 0x64) and prints each read value.  The same
 * program sent to QEMU through qtest gives the reference answers: see
 * dev_vs_qemu.py.
 */
#include "util/common.h"
#include "hw/char/serial.h"
#include "hw/input/i8042.h"

int main(int argc, char **argv)
{
    struct serial_state uart;
    struct i8042_state kbc;
    char op;
    unsigned port, val;

    serial_core_init(&uart, NULL, NULL);
    i8042_core_init(&kbc, NULL, NULL, NULL);
    while (scanf(" %c %x", &op, &port) == 2) {
        bool is_uart = port >= 0x3f8 && port <= 0x3ff;
        unsigned kreg = port == 0x64 ? I8042_CMD : I8042_DATA;

        if (!is_uart && port != 0x60 && port != 0x64) {
            fprintf(stderr, "dev-replay: port 0x%x is not modelled\n", port);
            return 2;
        }
        if (op == 'w') {
            if (scanf(" %x", &val) != 1) {
                return 2;
            }
            if (is_uart) {
                serial_core_write(&uart, port - 0x3f8, val);
            } else {
                i8042_core_write(&kbc, kreg, val);
            }
        } else {
            printf("%02x\n", is_uart ? serial_core_read(&uart, port - 0x3f8)
                                     : i8042_core_read(&kbc, kreg));
        }
    }
    return 0;
}
