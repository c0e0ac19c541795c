#!/bin/bash
# SPDX-License-Identifier: MIT
# check-layers.sh: the layering rules of docs/architecture.md, enforced
# (house rule 7: by tools, not review).  Each rule is a grep that must find
# nothing; a hit names the file and the rule it breaks.
set -u
cd "$(dirname "$0")/.."
fail=0

# rule HITS MESSAGE: the files listed in HITS break MESSAGE
rule() {
    if [ -n "$1" ]; then
        echo "$1" | sed "s|\$|: $2|"
        fail=1
    fi
}

# The accelerator knows address spaces and callbacks, never a device or
# the machine.
rule "$(grep -rlE '#include "hw/|#include "system/machine.h"' accel)" \
    'accel/ must not include hw/ or system/machine.h (use struct vcpu_env)'
# Devices drive irq lines / MSI senders; only hw/intc/ talks to the
# accelerator's interrupt calls.
rule "$(grep -rlE '\bkvm_(set_irq|signal_msi|irqfd|ioeventfd|msi_route_[a-z]+|set_msi_routes)\(' hw |
    grep -v '^hw/intc/')" \
    'devices raise interrupts through hw/core/irq.h, not KVM'
# Board policy stays behind struct machine_type.
# No machine is recognised by its name outside the boards: every name and
# alias a struct machine_type declares (hw/), as a literal -- except
# "none", a word options use too, which may not be compared with a machine
# type's name -- and no comparison of a machine type name with a literal.
machine_names=$(grep -rhoE '^\s*\.(name|alias) = "[^"]+"' \
    $(grep -rlE 'const struct machine_type [a-z0-9_]+ = \{' hw) |
    sed -E 's/.*"(.*)"/\1/' | grep -vx none | sed 's/\./\\./g' | paste -sd'|')
rule "$(grep -rlE "\"($machine_names)\"|hw/i386/" system accel qapi migration \
    util target-i386 --include='*.c')" \
    'board-specific code belongs behind struct machine_type hooks'
rule "$(grep -rlE '(machine_type|type->(name|alias))\b[^;]*"[^"]*"|"[^"]*"[^;]*(machine_type|type->(name|alias))\b' \
    system accel qapi migration util target-i386 net sev --include='*.c' |
    xargs -r grep -lE 'str(n)?cmp\(|g_str_equal\(')" \
    'a machine is told by its struct machine_type properties, not its name'
# Devices map their registers as owned regions (device_map), so teardown
# and BAR moves are safe while vCPUs run.
rule "$(grep -rlE '\bas_map\(' hw --include='*.c' | grep -v '^hw/i386/')" \
    'devices map with device_map() (owned regions), not as_map()'
# Network backends know no device model: a NIC attaches as their peer
# (net/netdev.h); only the netdev table creates -nic devices by name.
rule "$(grep -rlE '#include "hw/(net|virtio|block|pci|i386)/' net)" \
    'net/ backends must not include device models (hw/net, hw/virtio...)'
exit $fail
