/* SPDX-License-Identifier: MIT */
/*
 * machine.h: the configuration the command line produces (struct
 * machine_config, filled by system/vl.c) and the running machine (struct
 * machine) that every layer hangs its state off (house rule: no mutable
 * globals).
 *
 * Threads: the main thread runs the GLib main loop (chardev input, QMP,
 * signals, requests); each vCPU has its own thread.  vCPU threads never
 * act on machine-wide events themselves: they post a request with
 * machine_request() and the main loop carries it out (pause all, reset
 * devices and CPUs, resume), so reset and shutdown have one code path.
 */
#ifndef SYSTEM_MACHINE_H
#define SYSTEM_MACHINE_H

#include "util/common.h"
#include "util/error.h"
#include "util/log.h"

struct kvm_accel;
struct guest_mem;
struct address_space;
struct vcpu;
struct device;
struct chardev;
struct irq_line;
struct msi_sender_ops;
struct vcpu_env;
struct sev_config;
struct fdsets;
struct dirtyrate;

enum mon_mode { MON_MODE_READLINE = 0, MON_MODE_CONTROL };

struct mon_spec {
    char *chardev_id;
    enum mon_mode mode;
    bool pretty;
};

struct machine_config {
    char *machine_type; /* -machine TYPE (name or alias) */
    char *machine_opts; /* the rest of -machine after type, keyval text */
    char *accel;        /* "kvm" */
    /* -machine accel=kvm:tcg: a list with a fallback after kvm.  vireo
     * has no TCG; only a machine with no guest (none) may then run
     * without KVM. */
    bool accel_fallback;
    /* -accel kvm,dirty-ring-size=N: KVM dirty ring entries per vCPU (0:
     * the dirty bitmap); -1 when not given (the ring where KVM offers
     * KVM_CAP_DIRTY_LOG_RING_ACQ_REL, accel/kvm/dirty.c) */
    int64_t dirty_ring_size;
    char *cpu_model; /* full -cpu text: "max,+x2apic,-cx16" */
    unsigned smp_cpus, smp_sockets, smp_dies, smp_cores, smp_threads;
    unsigned smp_maxcpus;
    uint64_t ram_size;
    bool ram_size_given; /* -m was on the command line */
    char *bios, *kernel, *initrd, *append, *dtb;
    GPtrArray *chardevs;  /* char *: -chardev texts, generated ones too */
    GPtrArray *serials;   /* char *: chardev ids for COM1..COM4 */
    GPtrArray *devices;   /* struct device_opts *: -device, checked */
    GPtrArray *drives;    /* struct drive_opts *: -drive (hw/block/drive.h) */
    GPtrArray *blockdevs; /* struct blockdev_node *: -blockdev */
    GPtrArray *netdevs;   /* struct netdev_opts *: -netdev (net/netdev.h) */
    GPtrArray *nics;      /* struct nic_opts *: -nic */
    GPtrArray *monitors;  /* struct mon_spec * */
    GPtrArray *add_fds;   /* char *: -add-fd texts */
    bool nographic, display_none, nodefaults, no_user_config;
    bool start_paused, no_reboot, no_shutdown, daemonize;
    char *name;
    bool has_uuid;
    uint8_t uuid[16];
    char *pidfile;
    char *logfile;
    unsigned log_mask;
    bool sandbox;
    char *rtc_base;       /* "utc" | "localtime" | date */
    GPtrArray *objects;   /* struct object *: -object, in order */
    GPtrArray *audiodevs; /* char *: ids of -audiodev driver=none */
    bool msg_timestamp;   /* -msg timestamp=on */
    char **argv;          /* the command line as given */
    char *help_request;   /* "machine", "cpu", "device", "device:NAME" */
    /* sev/: the sev-guest|sev-snp-guest -object's configuration (owned by
     * that object in `objects`), and whether -machine
     * confidential-guest-support (or memory-encryption) names it. */
    struct sev_config *sev;
    bool sev_enabled;
    bool measure_launch; /* -measure-launch (a vireo addition) */
    char *dump_vmstate;  /* --dump-vmstate FILE: write and exit */
    char *incoming;      /* -incoming URI|defer */
};

void machine_config_init(struct machine_config *cfg);
void machine_config_clear(struct machine_config *cfg);

enum run_state {
    RUN_STATE_PRELAUNCH = 0,
    RUN_STATE_RUNNING,
    RUN_STATE_PAUSED,
    RUN_STATE_SHUTDOWN,
    RUN_STATE_INTERNAL_ERROR,
    RUN_STATE_GUEST_PANICKED,
    RUN_STATE_INMIGRATE,   /* -incoming: waiting for / loading a state */
    RUN_STATE_POSTMIGRATE, /* the state was sent: stopped for good */
    /* last: migration.c looks a name up over PRELAUNCH..POSTMIGRATE */
};
const char *run_state_name(enum run_state s);

/* Requests posted from any thread, carried out by the main loop. */
enum machine_req {
    REQ_NONE = 0,
    REQ_SHUTDOWN = 1u << 0,       /* guest asked to power off */
    REQ_RESET = 1u << 1,          /* guest or host asked for reset */
    REQ_QUIT = 1u << 2,           /* host asked to quit (signal, monitor) */
    REQ_INTERNAL_ERROR = 1u << 3, /* a vCPU hit a fatal exit */
    REQ_DEBUG_EXIT = 1u << 4,     /* isa-debug-exit: exit_status is set */
    REQ_POWERDOWN = 1u << 5,      /* press the ACPI power button */
};

enum shutdown_cause {
    SHUTDOWN_CAUSE_NONE = 0,
    SHUTDOWN_CAUSE_HOST_ERROR,
    SHUTDOWN_CAUSE_HOST_QMP_QUIT,
    SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET,
    SHUTDOWN_CAUSE_HOST_SIGNAL,
    SHUTDOWN_CAUSE_HOST_UI,
    SHUTDOWN_CAUSE_GUEST_SHUTDOWN,
    SHUTDOWN_CAUSE_GUEST_RESET,
    SHUTDOWN_CAUSE_GUEST_PANIC,
    SHUTDOWN_CAUSE_SUBSYSTEM_RESET,
};

/* Observer of run-state changes and events (QMP events hook in here). */
struct machine_listener {
    void (*event)(void *opaque, const char *name, const char *data_json);
    void *opaque;
};

/* How a bus master signals MSIs (ops in hw/core/irq.h). */
struct msi_sender {
    const struct msi_sender_ops *ops;
    void *opaque;
};

struct machine {
    const struct machine_config *cfg;
    struct vlog log;
    struct kvm_accel *kvm;
    struct guest_mem *gm;
    struct address_space *pio;
    struct address_space *mmio;
    struct vcpu **vcpus;
    unsigned nr_vcpus;
    GPtrArray *devices; /* struct device * */
    GPtrArray *drives;  /* struct drive *: open backends (hw/block/drive.h) */
    struct device *balloon; /* the balloon device (one at most, as QEMU) */
    GPtrArray *netdevs;     /* struct netdev *: open backends (net/netdev.h) */
    unsigned nic_macs;      /* default MACs handed out (machine_default_mac) */
    /* Interrupt inputs the board wired (hw/intc/): GSI lines for ISA-style
     * devices (machine_gsi_line()) and the MSI path for bus masters.
     * Owned by the device that installed them (the IOAPIC or kvm-irqchip);
     * devices take them at realize (hw/core/irq.h). */
    struct irq_line *gsi;
    unsigned nr_gsi;
    struct msi_sender msi;
    GPtrArray *chardevs;  /* struct chardev * */
    GPtrArray *listeners; /* struct machine_listener * */
    GMainContext *ctx;
    GMainLoop *loop;

    GMutex req_lock;
    unsigned requests; /* enum machine_req bits, under req_lock */
    enum shutdown_cause req_cause;
    int req_event_fd; /* wakes the main loop */
    int signal_fd;    /* SIGTERM/SIGINT/SIGHUP, via signalfd */

    enum run_state state; /* main thread only */
    int exit_status;
    bool quitting;

    /* Firmware: its writable mapping and the file's content, put back at
     * reset (hw/i386/x86-boot.c) */
    uint8_t *bios_rom;
    uint64_t bios_size;
    uint8_t *bios_image;
    /* boot entry state written by loaders for the BSP at reset */
    void *boot_state; /* struct x86_boot, hw/i386/x86-boot.h */
    const struct machine_type *type;
    struct x86_cpu_model *cpu_model;
    /* What the vCPU layer sees of the machine (accel/kvm/vcpu.h). */
    struct vcpu_env *vcpu_env;
    /* SEV/SEV-ES/SNP launch context (sev/sev.h), NULL for a plain guest */
    struct sev_guest *sev;
    int sev_fd;
    /* migrate / -incoming (migration/migration.h), created on first use */
    struct migration_state *migration;
    /* calc-dirty-rate (migration/dirtyrate.h), created on first use */
    struct dirtyrate *dirtyrate;
    struct fdsets *fdsets; /* -add-fd, for "/dev/fdset/N" file names */
    /* QMP fd passing (main thread): the chardev of the monitor whose input
     * is being dispatched (set by qapi/qmp-server.c), so getfd can take
     * the fd that came with its command, and the fds getfd named. */
    struct chardev *qmp_cur_chr;
    GHashTable *qmp_named_fds; /* char * name -> GINT_TO_POINTER(fd) */
};

/* Builds everything from cfg: KVM, RAM, devices, vCPUs, firmware/kernel. */
struct machine *machine_new(const struct machine_config *cfg, Error **errp);
void machine_free(struct machine *m);
/* Runs the main loop until the machine quits; returns the exit status. */
int machine_run(struct machine *m);

/* Any thread.  cause is recorded for the SHUTDOWN event. */
void machine_request(struct machine *m, enum machine_req req,
                     enum shutdown_cause cause);
/* isa-debug-exit: exit with this status after stopping the vCPUs. */
void machine_request_exit(struct machine *m, int status);

/* Main thread only. */
/* Moves to state s; devices hear a move into or out of running. */
void machine_set_state(struct machine *m, enum run_state s);
void machine_pause(struct machine *m);  /* "stop" */
void machine_resume(struct machine *m); /* "cont" */
bool machine_reset(struct machine *m, Error **errp);
/* system_reset: machine_reset(), the RESET event with cause, and a machine
 * that was not running moves to prelaunch (QEMU's rule), all before it
 * returns. */
bool machine_system_reset(struct machine *m, enum shutdown_cause cause,
                          Error **errp);
void machine_emit_event(struct machine *m, const char *name,
                        const char *data_json);
void machine_add_listener(struct machine *m, const struct machine_listener *l);

struct chardev *machine_find_chardev(struct machine *m, const char *id);
/* The first device of class `cls_name`, or NULL. */
struct device *machine_find_device(struct machine *m, const char *cls_name);

/* Sets up the request eventfd, signal handlers and main context. */
bool machine_runstate_init(struct machine *m, Error **errp);
/* Presses the board's power button (system_powerdown); false if it has
 * none. */
bool machine_press_power_button(struct machine *m);
/* Paused vCPU state dump for HMP "info registers" (main thread). */
bool machine_dump_cpu(struct machine *m, unsigned index, GString *out,
                      Error **errp);

/*
 * Machine types (-machine TYPE): everything board-specific is behind these
 * hooks, so nothing outside hw/<arch>/ tests which machine it is.
 * machine_new() calls, in order: init_memory (RAM layout, firmware ROM),
 * init_interrupts (what m->gsi and m->msi lead to), init_devices (the
 * board's own devices), then creates the -device devices, then init_boot
 * (kernel loading, ACPI and other firmware tables, the BSP's entry state),
 * then the vCPUs.  Optional hooks may be NULL.
 */
struct x86_boot_state;

struct machine_type {
    const char *name;  /* -machine NAME, query-machines "name" */
    const char *alias; /* another accepted name (QEMU's "alias"), or NULL */
    const char *desc;
    bool is_default;
    /* No RAM, no vCPU, no guest ("none", for QMP probing): KVM is
     * optional and nothing guest-facing (power button) exists. */
    bool no_guest;
    /* No default serial port (QEMU's no_serial): the command line then
     * gives no "-serial stdio" of its own. */
    bool no_serial;
    unsigned max_cpus;          /* -smp maxcpus limit */
    const char *default_ram_id; /* query-machines "default-ram-id" */
    /* -machine keys the board understands beyond accel= and
     * kernel-irqchip= (which machine_new consumes); NULL-terminated. */
    const char *const *options;
    /* Where KVM's identity map and TSS go (KVM_SYS_PAGES_SIZE bytes). */
    uint64_t kvm_sys_pages;

    /* Cheap checks of the configuration (boot files' type and size)
     * before /dev/kvm is opened, so they are named on any host. */
    bool (*check_config)(const struct machine_config *cfg, Error **errp);
    bool (*init_memory)(struct machine *m, Error **errp);
    bool (*init_interrupts)(struct machine *m, Error **errp);
    bool (*init_devices)(struct machine *m, Error **errp);
    bool (*init_boot)(struct machine *m, Error **errp);
    /* System reset, after every device's reset with the vCPUs paused:
     * restore what the board loaded into guest memory. */
    bool (*reset)(struct machine *m, Error **errp);
    /* The BSP's entry state (a directly booted kernel), or NULL for the
     * architectural reset vector. */
    const struct x86_boot_state *(*boot_cpu_state)(struct machine *m);
    /* system_powerdown: the board's power button (ACPI event). */
    void (*power_button)(struct machine *m);
    /* -drive if=virtio: the -device the board creates for it (NULL:
     * the board has no virtio bus). */
    const char *virtio_blk_driver;
    /* -nic without model=: the NIC the board creates (NULL: none). */
    const char *default_nic;
    /* virtio-mmio slot `index` (in creation order): its window and GSI;
     * NULL or false (errp set): the board has no such slot. */
    bool (*virtio_mmio_slot)(struct machine *m, unsigned index, uint64_t *base,
                             unsigned *gsi, Error **errp);
    /* Frees what the init hooks kept outside devices. */
    void (*free)(struct machine *m);
};
extern const struct machine_type *const machine_types[];
/* By name or alias; NULL if unknown. */
const struct machine_type *machine_type_find(const char *name);
const struct machine_type *machine_type_default(void);
char *machine_types_help(void);
/* The -machine keys of cfg are ones its machine type takes (what
 * machine_new checks first; needs no KVM). */
bool machine_check_opts(const struct machine_config *cfg, Error **errp);

#endif
