/* SPDX-License-Identifier: MIT */
/*
 * bare-kvm.c: the lower bound for vireo's benchmarks.  Runs a -bios image
 * with only the KVM ioctls that need: create a VM, a TSS address (Intel
 * real mode), RAM at 0 (with the legacy hole at 0xa0000..1 MiB), the
 * image read-only at the top of 4 GiB plus its last <=128 KiB aliased
 * below 1 MiB, one vCPU left in its reset state, and a KVM_RUN loop.
 * Port I/O: 0x3f8 prints to stdout, LSR (0x3fd) always reads 0x60, 0x80
 * is counted, 0xf4 exits with status (v << 1) | 1 (isa-debug-exit), 0x600
 * with ACPI S5 exits 0.  No irqchip, no CPUID, no devices.
 *
 * -i adds the in-kernel irqchip and PIT (as QEMU creates them), to measure
 * what they cost at start-up and teardown; -s instead adds the split
 * irqchip vireo creates (KVM_CAP_SPLIT_IRQCHIP: in-kernel LAPIC only).
 *
 * usage: bare-kvm [-m MiB] [-i|-s] [-v] BIOS
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define GiB4 0x100000000ULL
#define LOW_HOLE_START 0xa0000ULL
#define LOW_HOLE_END 0x100000ULL
#define MAX_BIOS (16ULL << 20)

static void die(const char *what)
{
    fprintf(stderr, "bare-kvm: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void set_slot(int vm, uint32_t slot, uint32_t flags, uint64_t gpa,
                     uint64_t size, void *host)
{
    struct kvm_userspace_memory_region r = {
        .slot = slot,
        .flags = flags,
        .guest_phys_addr = gpa,
        .memory_size = size,
        .userspace_addr = (uint64_t)(uintptr_t)host,
    };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
        die("KVM_SET_USER_MEMORY_REGION");
    }
}

int main(int argc, char **argv)
{
    uint64_t ram_size = 16ULL << 20;
    int verbose = 0, irqchip = 0, split = 0, opt;

    while ((opt = getopt(argc, argv, "m:isv")) != -1) {
        switch (opt) {
        case 'm':
            ram_size = strtoull(optarg, NULL, 0) << 20;
            break;
        case 'i':
            irqchip = 1;
            break;
        case 's':
            split = 1;
            break;
        case 'v':
            verbose = 1;
            break;
        default:
            fprintf(stderr, "usage: bare-kvm [-m MiB] [-i|-s] [-v] BIOS\n");
            return 2;
        }
    }
    if (optind != argc - 1 || ram_size <= LOW_HOLE_END ||
        ram_size > 0xc0000000ULL) {
        fprintf(stderr,
                "usage: bare-kvm [-m MiB (2..3072)] [-i|-s] [-v] BIOS\n");
        return 2;
    }

    int fd = open(argv[optind], O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        die(argv[optind]);
    }
    uint64_t bios_size = (uint64_t)st.st_size;
    if (bios_size == 0 || bios_size % 65536 || bios_size > MAX_BIOS) {
        fprintf(
            stderr,
            "bare-kvm: %s: size must be a multiple of 64 KiB up to 16 MiB\n",
            argv[optind]);
        return 2;
    }
    void *bios = mmap(NULL, bios_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (bios == MAP_FAILED) {
        die("mmap bios");
    }
    close(fd);

    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) {
        die("/dev/kvm");
    }
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0) {
        die("KVM_CREATE_VM");
    }
    if (ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0) {
        die("KVM_SET_TSS_ADDR");
    }
    if (irqchip) {
        struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
        if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0) {
            die("KVM_CREATE_IRQCHIP");
        }
        if (ioctl(vm, KVM_CREATE_PIT2, &pit) < 0) {
            die("KVM_CREATE_PIT2");
        }
    }
    if (split) {
        struct kvm_enable_cap cap = {.cap = KVM_CAP_SPLIT_IRQCHIP,
                                     .args = {24}};
        if (ioctl(vm, KVM_ENABLE_CAP, &cap) < 0) {
            die("KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP)");
        }
    }

    uint8_t *ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ram == MAP_FAILED) {
        die("mmap ram");
    }
    uint64_t alias = bios_size < 0x20000 ? bios_size : 0x20000;
    set_slot(vm, 0, 0, 0, LOW_HOLE_START, ram);
    set_slot(vm, 1, 0, LOW_HOLE_END, ram_size - LOW_HOLE_END,
             ram + LOW_HOLE_END);
    set_slot(vm, 2, KVM_MEM_READONLY, GiB4 - bios_size, bios_size, bios);
    set_slot(vm, 3, KVM_MEM_READONLY, LOW_HOLE_END - alias, alias,
             (uint8_t *)bios + bios_size - alias);

    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0) {
        die("KVM_CREATE_VCPU");
    }
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < 0) {
        die("KVM_GET_VCPU_MMAP_SIZE");
    }
    struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE,
                               MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED) {
        die("mmap kvm_run");
    }

    unsigned long port80 = 0, exits = 0;
    for (;;) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            die("KVM_RUN");
        }
        exits++;
        switch (run->exit_reason) {
        case KVM_EXIT_IO: {
            uint8_t *data = (uint8_t *)run + run->io.data_offset;
            for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
                if (run->io.direction == KVM_EXIT_IO_OUT) {
                    switch (run->io.port) {
                    case 0x3f8:
                        if (write(1, data, 1) < 0) {
                            die("write");
                        }
                        break;
                    case 0x80:
                        port80++;
                        break;
                    case 0xf4:
                        if (verbose) {
                            fprintf(
                                stderr,
                                "bare-kvm: %lu exits, %lu port 0x80 writes\n",
                                exits, port80);
                        }
                        return (data[0] << 1) | 1;
                    case 0x600:
                        if (data[0] == ((5 << 2) | 0x20)) {
                            return 0;
                        }
                        break;
                    }
                } else {
                    memset(data, run->io.port == 0x3fd ? 0x60 : 0xff,
                           run->io.size);
                }
            }
            break;
        }
        case KVM_EXIT_MMIO:
            if (!run->mmio.is_write) {
                memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
            }
            break;
        case KVM_EXIT_HLT:
            fprintf(stderr, "bare-kvm: guest halted\n");
            return 0;
        case KVM_EXIT_SHUTDOWN:
            fprintf(stderr, "bare-kvm: guest shutdown (triple fault)\n");
            return 0;
        default:
            fprintf(stderr, "bare-kvm: unhandled exit reason %u\n",
                    run->exit_reason);
            return 2;
        }
    }
}
