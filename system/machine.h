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
struct fdsets;

enum mon_mode { MON_MODE_READLINE = 0, MON_MODE_CONTROL };

struct mon_spec {
    char *chardev_id;
    enum mon_mode mode;
    bool pretty;
};

struct machine_config {
    char *machine_type; /* "microvm" */
    char *machine_opts; /* the rest of -machine after type, keyval text */
    char *accel;        /* "kvm" */
    /* -machine accel=kvm:tcg: a list with a fallback after kvm.  vireo
     * has no TCG; only a machine with no guest (none) may then run
     * without KVM. */
    bool accel_fallback;
    char *cpu_model; /* full -cpu text: "max,+x2apic,-cx16" */
    unsigned smp_cpus, smp_sockets, smp_dies, smp_cores, smp_threads;
    unsigned smp_maxcpus;
    uint64_t ram_size;
    bool ram_size_given; /* -m was on the command line */
    char *bios, *kernel, *initrd, *append, *dtb;
    GPtrArray *chardevs; /* char *: -chardev texts, generated ones too */
    GPtrArray *serials;  /* char *: chardev ids for COM1..COM4 */
    GPtrArray *devices;  /* char *: -device texts */
    GPtrArray *monitors; /* struct mon_spec * */
    GPtrArray *add_fds;  /* char *: -add-fd texts */
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
    char *incoming;       /* -incoming: only "defer" (migration/ owns it) */
    GPtrArray *objects;   /* struct object *: -object, in order */
    GPtrArray *audiodevs; /* char *: ids of -audiodev driver=none */
    bool msg_timestamp;   /* -msg timestamp=on */
    char **argv;          /* the command line as given */
    char *help_request;   /* "machine", "cpu", "device", "device:NAME" */
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
    RUN_STATE_INMIGRATE, /* -incoming: waiting for the migration stream */
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

struct machine {
    const struct machine_config *cfg;
    struct vlog log;
    struct kvm_accel *kvm;
    struct guest_mem *gm;
    struct address_space *pio;
    struct address_space *mmio;
    struct vcpu **vcpus;
    unsigned nr_vcpus;
    GPtrArray *devices;   /* struct device * */
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
    bool autostart;       /* inmigrate: run when the migration completes */
    int exit_status;
    bool quitting;

    /* Firmware image (kept for reset) */
    uint8_t *bios_rom;
    uint64_t bios_size;
    /* boot entry state written by loaders for the BSP at reset */
    void *boot_state; /* struct x86_boot_state *, target-i386/cpu.h */
    const struct machine_type *type;
    struct x86_cpu_model *cpu_model;
    /* ACPI power button / sleep state (hardware-reduced ACPI) */
    GMutex acpi_lock;
    uint8_t acpi_sleep_sts;
    uint32_t ged_events;
    bool acpi_disabled;    /* -machine acpi=off / -no-acpi: no power button */
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

/* Sets up the request eventfd, signal handlers and main context. */
bool machine_runstate_init(struct machine *m, Error **errp);
/* Presses the ACPI power button (system_powerdown). */
void machine_press_power_button(struct machine *m);
/* Paused vCPU state dump for HMP "info registers" (main thread). */
bool machine_dump_cpu(struct machine *m, unsigned index, GString *out,
                      Error **errp);

/* Machine types (-machine TYPE). */
struct machine_type {
    const char *name;
    const char *desc;
    bool is_default;
    /* No RAM, no vCPU, no guest ("none", for QMP probing): KVM is
     * optional and nothing guest-facing (power button) exists. */
    bool no_guest;
    /* Builds RAM, devices, firmware for this type; vCPUs come after. */
    bool (*init)(struct machine *m, Error **errp);
};
extern const struct machine_type *const machine_types[];
const struct machine_type *machine_type_find(const char *name);
char *machine_types_help(void);

#endif
