/* SPDX-License-Identifier: MIT */
/*
 * mc146818.c: the CMOS RTC (see mc146818.h).  The clock is the host's
 * CLOCK_REALTIME plus an offset: the offset comes from -rtc base= (utc,
 * localtime or a date) and changes when the guest sets the time (SET bit
 * in register B).  Time registers are computed at each read, in BCD or
 * binary and 12 or 24 hour mode as register B says.  The update-in-
 * progress flag (register A bit 7) is set for the last 244 us of every
 * second, as the chip does before its update cycle.
 *
 * Interrupts on ISA IRQ 8: register C's flags are computed from the
 * guest clock between two evaluations (a register access or the timer):
 * PF when a periodic tick boundary (32768 Hz >> (RS - 1), register A) was
 * crossed, UF at each second boundary (the end of the update cycle), AF
 * when the new second matches the alarm (0xc0-0xff in an alarm byte is
 * "don't care").  IRQF and the IRQ line follow (flags & enables); reading
 * C returns and clears them.  A main-loop timer fires at the next boundary
 * an enabled interrupt needs; GLib's poll has millisecond resolution, so
 * periodic rates above 1 kHz are coalesced (PF is a flag: late ticks are
 * merged, as a chip's are when the OS is slow to read C).
 *
 * Lock model: dev->lock (taken by system/memory.c around accesses, and by
 * the timer's dispatch on the main thread).  Raising IRQ 8 takes the
 * interrupt controller's lock inside it.
 */
#include "util/common.h"
#include "hw/rtc/mc146818.h"
#include "hw/core/device.h"
#include "hw/core/irq.h"
#include "migration/vmstate.h"
#include "system/guest-mem.h"
#include "system/machine.h"
#include "system/memory.h"

#include <time.h>

#define RTC_C_IRQF 0x80
#define RTC_C_PF 0x40
#define RTC_C_AF 0x20
#define RTC_C_UF 0x10
#define RTC_A_RS 0x0f
#define RTC_A_DV 0x70
#define RTC_A_DV_NORMAL 0x20 /* 32.768 kHz time base, running */
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS_ALARM 0x05

struct rtc_source {
    GSource src;
    struct rtc *s;
};

struct rtc {
    struct device dev; /* first */
    struct machine *m;
    bool localtime;
    uint8_t index;
    uint8_t cmos[128];
    int64_t offset_us; /* guest clock = host realtime + offset */
    /* Host clock (tests substitute a fake one); NULL: g_get_real_time. */
    int64_t (*now_fn)(void *opaque);
    void *now_opaque;
    /* While SET is on the time registers hold what the guest wrote. */
    /* Interrupts (not migrated: recomputed from cmos[] and the clock) */
    int64_t last_check_us; /* guest time of the last flag evaluation */
    bool irq_level;
    struct irq_line *irq; /* GSI RTC_ISA_IRQ */
    GSource *timer;       /* NULL without a main context (unit tests) */
    int64_t deadline_us;  /* host realtime of the next event, or -1 */
};

static bool is_time_reg(unsigned r)
{
    return r <= RTC_YEAR || r == RTC_CENTURY;
}

static uint8_t to_bcd(unsigned v)
{
    return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static unsigned from_bcd(uint8_t v)
{
    return (v >> 4) * 10 + (v & 15);
}

static uint8_t enc(struct rtc *s, unsigned v)
{
    return (s->cmos[RTC_REG_B] & RTC_B_DM_BINARY) ? (uint8_t)v : to_bcd(v);
}

static unsigned dec(struct rtc *s, uint8_t v)
{
    return (s->cmos[RTC_REG_B] & RTC_B_DM_BINARY) ? v : from_bcd(v);
}

static int64_t host_now_us(struct rtc *s)
{
    return s->now_fn ? s->now_fn(s->now_opaque) : g_get_real_time();
}

void mc146818_set_clock(struct device *dev, int64_t (*now_us)(void *opaque),
                        void *opaque)
{
    struct rtc *s = (struct rtc *)dev;

    s->now_fn = now_us;
    s->now_opaque = opaque;
}

/*
 * UTC calendar arithmetic of our own: glibc's gmtime_r and timegm read
 * the time zone file on first use (an open and five more syscalls at
 * start-up, and not allowed on a vCPU thread).  Proleptic Gregorian
 * calendar, days counted from 1970-01-01 in 400-year eras of 146097 days;
 * the year starts in March so that the leap day ends it.
 */
static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int64_t days_from_civil(int64_t y, int64_t mon, int64_t mday)
{
    int64_t era, yoe, doy, mp;

    /* normalise the month (timegm accepts any) */
    y += floor_div(mon - 1, 12);
    mon -= 12 * floor_div(mon - 1, 12);
    y -= mon <= 2;
    era = floor_div(y, 400);
    yoe = y - era * 400;
    mp = mon > 2 ? mon - 3 : mon + 9;
    doy = (153 * mp + 2) / 5 + mday - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static void utc_tm(time_t t, struct tm *tm)
{
    int64_t days = floor_div(t, 86400), secs = t - days * 86400;
    int64_t z = days + 719468, era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t mon = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (mon <= 2);

    memset(tm, 0, sizeof(*tm));
    tm->tm_sec = (int)(secs % 60);
    tm->tm_min = (int)(secs / 60 % 60);
    tm->tm_hour = (int)(secs / 3600);
    tm->tm_mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    tm->tm_mon = (int)mon - 1;
    tm->tm_year = (int)(y - 1900);
    tm->tm_wday = (int)(days - 7 * floor_div(days + 4, 7) + 4); /* Thu */
    tm->tm_yday = (int)(days - days_from_civil(y, 1, 1));
}

static time_t utc_time(const struct tm *tm)
{
    return (time_t)(days_from_civil((int64_t)tm->tm_year + 1900,
                                    (int64_t)tm->tm_mon + 1, tm->tm_mday) *
                        86400 +
                    (int64_t)tm->tm_hour * 3600 + (int64_t)tm->tm_min * 60 +
                    tm->tm_sec);
}

/* Broken-down guest time for t (seconds since the epoch). */
static void guest_tm(struct rtc *s, time_t t, struct tm *tm)
{
    if (s->localtime) {
        localtime_r(&t, tm);
    } else {
        utc_tm(t, tm);
    }
}

static void fill_time_regs(struct rtc *s)
{
    int64_t now = host_now_us(s) + s->offset_us;
    struct tm tm;
    unsigned hour;
    uint8_t h;

    guest_tm(s, (time_t)floor_div(now, 1000000), &tm); /* < 1970 too */
    s->cmos[RTC_SECONDS] = enc(s, (unsigned)tm.tm_sec);
    s->cmos[RTC_MINUTES] = enc(s, (unsigned)tm.tm_min);
    hour = (unsigned)tm.tm_hour;
    if (s->cmos[RTC_REG_B] & RTC_B_24H) {
        h = enc(s, hour);
    } else {
        h = enc(s, hour % 12 ? hour % 12 : 12);
        if (hour >= 12) {
            h |= 0x80;
        }
    }
    s->cmos[RTC_HOURS] = h;
    s->cmos[RTC_DAY_OF_WEEK] = enc(s, (unsigned)tm.tm_wday + 1);
    s->cmos[RTC_DAY_OF_MONTH] = enc(s, (unsigned)tm.tm_mday);
    s->cmos[RTC_MONTH] = enc(s, (unsigned)tm.tm_mon + 1);
    s->cmos[RTC_YEAR] = enc(s, (unsigned)(tm.tm_year + 1900) % 100);
    s->cmos[RTC_CENTURY] = enc(s, (unsigned)(tm.tm_year + 1900) / 100);
}

/* The guest cleared SET: its time registers become the clock. */
static void latch_guest_time(struct rtc *s)
{
    struct tm tm = {0};
    uint8_t h = s->cmos[RTC_HOURS];
    unsigned hour;
    time_t t;

    tm.tm_sec = (int)dec(s, s->cmos[RTC_SECONDS]);
    tm.tm_min = (int)dec(s, s->cmos[RTC_MINUTES]);
    if (s->cmos[RTC_REG_B] & RTC_B_24H) {
        hour = dec(s, h);
    } else {
        hour = dec(s, h & 0x7f) % 12 + ((h & 0x80) ? 12 : 0);
    }
    tm.tm_hour = (int)hour;
    tm.tm_mday = (int)dec(s, s->cmos[RTC_DAY_OF_MONTH]);
    tm.tm_mon = (int)dec(s, s->cmos[RTC_MONTH]) - 1;
    tm.tm_year =
        (int)(dec(s, s->cmos[RTC_CENTURY]) * 100 + dec(s, s->cmos[RTC_YEAR])) -
        1900;
    tm.tm_isdst = -1;
    t = s->localtime ? mktime(&tm) : utc_time(&tm);
    if (t == (time_t)-1) {
        vlog_guest_error(&s->m->log, "rtc: guest set an invalid date");
        return;
    }
    s->offset_us = (int64_t)t * 1000000 - host_now_us(s);
}

/* ---- interrupts ---------------------------------------------------- */

static int64_t guest_now_us(struct rtc *s)
{
    return host_now_us(s) + s->offset_us;
}

/* Index of the 32768 Hz cycle at guest time us (no overflow for any
 * date: the seconds are scaled separately). */
static int64_t cycles32k(int64_t us)
{
    int64_t sec = us / 1000000, rem = us % 1000000;

    if (rem < 0) {
        sec--;
        rem += 1000000;
    }
    return sec * 32768 + rem * 32768 / 1000000;
}

/* log2 of the periodic interrupt's length in 32768 Hz cycles, or -1. */
static int period_shift(struct rtc *s)
{
    unsigned rs = s->cmos[RTC_REG_A] & RTC_A_RS;

    if (rs == 0) {
        return -1;
    }
    if (rs < 3) {
        rs += 7; /* 1 and 2 select 256 and 128 Hz, as 8 and 9 do */
    }
    return (int)rs - 1;
}

static bool clock_running(struct rtc *s)
{
    return !(s->cmos[RTC_REG_B] & RTC_B_SET) &&
           (s->cmos[RTC_REG_A] & RTC_A_DV) == RTC_A_DV_NORMAL;
}

static bool alarm_byte_matches(struct rtc *s, unsigned reg, unsigned now_reg)
{
    uint8_t a = s->cmos[reg];

    return (a & 0xc0) == 0xc0 || a == s->cmos[now_reg];
}

static void update_irq(struct rtc *s)
{
    uint8_t c = s->cmos[RTC_REG_C] & (RTC_C_PF | RTC_C_AF | RTC_C_UF);
    bool level;

    if (c & s->cmos[RTC_REG_B] & (RTC_B_PIE | RTC_B_AIE | RTC_B_UIE)) {
        c |= RTC_C_IRQF;
    }
    s->cmos[RTC_REG_C] = c;
    level = c & RTC_C_IRQF;
    if (level != s->irq_level) {
        s->irq_level = level;
        irq_set(s->irq, level);
    }
}

/* Sets the flags for what happened since the last evaluation. */
static void check_flags(struct rtc *s)
{
    int64_t now = guest_now_us(s), last = s->last_check_us;
    int shift = period_shift(s);

    s->last_check_us = now;
    if (now <= last) {
        return;
    }
    if (shift >= 0 && (cycles32k(now) >> shift) > (cycles32k(last) >> shift)) {
        s->cmos[RTC_REG_C] |= RTC_C_PF;
    }
    if (clock_running(s) && now / 1000000 > last / 1000000) {
        s->cmos[RTC_REG_C] |= RTC_C_UF;
        fill_time_regs(s);
        if (alarm_byte_matches(s, RTC_SECONDS_ALARM, RTC_SECONDS) &&
            alarm_byte_matches(s, RTC_MINUTES_ALARM, RTC_MINUTES) &&
            alarm_byte_matches(s, RTC_HOURS_ALARM, RTC_HOURS)) {
            s->cmos[RTC_REG_C] |= RTC_C_AF;
        }
    }
    update_irq(s);
}

/* Schedules the timer for the next boundary an enabled interrupt needs. */
static void arm(struct rtc *s)
{
    uint8_t b = s->cmos[RTC_REG_B];
    int64_t now = guest_now_us(s), next = -1;
    int shift = period_shift(s);

    if ((b & RTC_B_PIE) && shift >= 0) {
        int64_t cyc = ((cycles32k(now) >> shift) + 1) << shift;
        int64_t sec = cyc / 32768;
        next = sec * 1000000 + ((cyc % 32768) * 1000000 + 32767) / 32768;
    }
    if ((b & (RTC_B_UIE | RTC_B_AIE)) && clock_running(s)) {
        int64_t sec = (now / 1000000 + 1) * 1000000;
        next = next < 0 ? sec : MIN(next, sec);
    }
    s->deadline_us = next < 0 ? -1 : next - s->offset_us;
    if (s->timer) {
        g_source_set_ready_time(
            s->timer, next < 0 ? -1
                               : g_get_monotonic_time() +
                                     MAX(s->deadline_us - host_now_us(s), 0));
    }
}

void mc146818_run_timers(struct device *dev)
{
    struct rtc *s = (struct rtc *)dev;

    check_flags(s);
    arm(s);
}

int64_t mc146818_deadline(struct device *dev)
{
    return ((struct rtc *)dev)->deadline_us;
}

bool mc146818_irq_level(struct device *dev)
{
    return ((struct rtc *)dev)->irq_level;
}

static gboolean rtc_timer_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
    struct rtc *s = ((struct rtc_source *)src)->s;

    g_mutex_lock(&s->dev.lock);
    mc146818_run_timers(&s->dev);
    g_mutex_unlock(&s->dev.lock);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs rtc_timer_funcs = {
    .dispatch = rtc_timer_dispatch,
};

static uint64_t rtc_read(void *opaque, uint64_t off, unsigned size)
{
    struct rtc *s = opaque;
    unsigned r = s->index;
    uint8_t v;

    if (off == 0) {
        return 0xff; /* the index register is write-only */
    }
    if (is_time_reg(r) && !(s->cmos[RTC_REG_B] & RTC_B_SET)) {
        fill_time_regs(s);
    }
    if (r == RTC_REG_C) {
        check_flags(s);
    }
    v = s->cmos[r];
    switch (r) {
    case RTC_REG_A:
        v &= (uint8_t)~RTC_A_UIP;
        if (!(s->cmos[RTC_REG_B] & RTC_B_SET) &&
            (host_now_us(s) + s->offset_us) % 1000000 >= 1000000 - 244) {
            v |= RTC_A_UIP;
        }
        break;
    case RTC_REG_C:
        v = s->cmos[RTC_REG_C];
        s->cmos[RTC_REG_C] = 0; /* read clears the flags */
        update_irq(s);
        break;
    default:
        break;
    }
    return v;
}

static void rtc_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    struct rtc *s = opaque;
    uint8_t v = (uint8_t)val;
    unsigned r = s->index;

    if (off == 0) {
        s->index = v & 0x7f; /* bit 7: NMI mask, nothing to mask here */
        return;
    }
    /* Flags up to now follow the old configuration. */
    check_flags(s);
    switch (r) {
    case RTC_REG_A:
        s->cmos[r] = (uint8_t)((s->cmos[r] & RTC_A_UIP) | (v & 0x7f));
        break;
    case RTC_REG_B:
        if ((v & RTC_B_SET) && !(s->cmos[RTC_REG_B] & RTC_B_SET)) {
            fill_time_regs(s); /* freeze the current time for editing */
        }
        if (!(v & RTC_B_SET) && (s->cmos[RTC_REG_B] & RTC_B_SET)) {
            s->cmos[RTC_REG_B] = v | RTC_B_SET; /* decode with old mode */
            latch_guest_time(s);
        }
        s->cmos[RTC_REG_B] = v;
        update_irq(s);
        break;
    case RTC_REG_C:
    case RTC_REG_D:
        break; /* read-only */
    default:
        if (is_time_reg(r) && !(s->cmos[RTC_REG_B] & RTC_B_SET)) {
            /* Writing a time register without SET: the chip accepts it;
             * take the whole clock from the registers at once. */
            fill_time_regs(s);
            s->cmos[r] = v;
            latch_guest_time(s);
            break;
        }
        s->cmos[r] = v;
        break;
    }
    s->last_check_us = guest_now_us(s); /* a new clock starts from here */
    arm(s);
}

static const struct io_ops rtc_ops = {
    .read = rtc_read,
    .write = rtc_write,
    .min_size = 1,
    .max_size = 1,
};

static void put16(struct rtc *s, unsigned r, uint64_t v, uint64_t max)
{
    v = MIN(v, max);
    s->cmos[r] = (uint8_t)v;
    s->cmos[r + 1] = (uint8_t)(v >> 8);
}

/* Memory sizes as the BIOS conventions lay them out. */
static void fill_nvram(struct rtc *s)
{
    const struct machine_config *cfg = s->m->cfg;
    uint64_t below = cfg ? MIN(cfg->ram_size, 0xc0000000ULL) : 0;
    uint64_t above = cfg ? cfg->ram_size - below : 0;
    uint64_t ext;
    unsigned cpus = cfg && cfg->smp_cpus ? cfg->smp_cpus : 1;

    if (s->m->gm) {
        below = gm_ram_below_4g(s->m->gm);
        above = gm_ram_above_4g(s->m->gm);
    }
    put16(s, CMOS_BASE_MEM_LO, 640, 640);
    ext = below > 1 * MiB ? (below - 1 * MiB) / KiB : 0;
    put16(s, CMOS_EXT_MEM_LO, ext, 0xffff);
    put16(s, CMOS_EXT_MEM2_LO, ext, 0xffff);
    ext = below > 16 * MiB ? (below - 16 * MiB) / (64 * KiB) : 0;
    put16(s, CMOS_MEM_16M_LO, ext, 0xffff);
    ext = MIN(above / (64 * KiB), 0xffffffULL);
    s->cmos[CMOS_MEM_4G_LO] = (uint8_t)ext;
    s->cmos[CMOS_MEM_4G_LO + 1] = (uint8_t)(ext >> 8);
    s->cmos[CMOS_MEM_4G_LO + 2] = (uint8_t)(ext >> 16);
    s->cmos[CMOS_NR_CPUS_M1] = (uint8_t)(cpus - 1);
}

static void rtc_reset(struct device *dev)
{
    struct rtc *s = (struct rtc *)dev;

    /* The clock and the NVRAM survive a reset; the control bits do not. */
    s->cmos[RTC_REG_A] = 0x26; /* 32.768 kHz base, 1024 Hz rate */
    s->cmos[RTC_REG_B] = RTC_B_24H;
    s->cmos[RTC_REG_C] = 0;
    s->cmos[RTC_REG_D] = RTC_D_VRT;
    s->last_check_us = guest_now_us(s);
    update_irq(s);
    arm(s);
}

/* -rtc base=utc|localtime|YYYY-MM-DD[THH:MM:SS] */
static bool parse_base(struct rtc *s, const char *base, Error **errp)
{
    struct tm tm = {0};
    const char *end;
    time_t t;

    if (!base || !strcmp(base, "utc")) {
        return true;
    }
    if (!strcmp(base, "localtime")) {
        s->localtime = true;
        /* glibc reads the zone on first use: do it now, in the main
         * thread, before the vCPU threads' seccomp filter */
        tzset();
        return true;
    }
    end = strptime(base, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end || *end) {
        memset(&tm, 0, sizeof(tm));
        end = strptime(base, "%Y-%m-%d", &tm);
    }
    if (!end || *end) {
        error_setg(errp,
                   "-rtc base=%s: expected utc, localtime or a date "
                   "YYYY-MM-DD[THH:MM:SS]",
                   base);
        return false;
    }
    t = utc_time(&tm);
    s->offset_us = (int64_t)t * 1000000 - host_now_us(s);
    return true;
}

static bool rtc_realize(struct device *dev, struct machine *m, Error **errp)
{
    struct rtc *s = (struct rtc *)dev;

    s->m = m;
    s->irq = machine_gsi_line(m, RTC_ISA_IRQ, errp);
    if (!s->irq) {
        error_prepend(errp, "mc146818rtc: ");
        return false;
    }
    if (!parse_base(s, m->cfg ? m->cfg->rtc_base : NULL, errp)) {
        return false;
    }
    fill_nvram(s);
    s->deadline_us = -1;
    if (m->ctx) {
        s->timer = g_source_new(&rtc_timer_funcs, sizeof(struct rtc_source));
        ((struct rtc_source *)s->timer)->s = s;
        g_source_set_name(s->timer, "mc146818rtc");
        g_source_attach(s->timer, m->ctx);
    }
    rtc_reset(dev);
    return device_map(dev, m->pio, RTC_ISA_BASE, 2, &rtc_ops, "mc146818rtc",
                      errp);
}

static void rtc_unrealize(struct device *dev)
{
    struct rtc *s = (struct rtc *)dev;

    if (s->timer) {
        g_source_destroy(s->timer);
        g_source_unref(s->timer);
        s->timer = NULL;
    }
}

static bool rtc_post_load(void *opaque, Error **errp)
{
    struct rtc *s = opaque;

    if (s->index > 0x7f) {
        error_setg(errp, "mc146818rtc: index 0x%x out of range", s->index);
        return false;
    }
    /* Flags in C are as saved; IRQF, the line and the timer follow. */
    s->last_check_us = guest_now_us(s);
    update_irq(s);
    arm(s);
    return true;
}

static const struct vmstate_field rtc_fields[] = {
    VMS_U8(struct rtc, index),
    VMS_U8_ARRAY(struct rtc, cmos, 128),
    VMS_U64(struct rtc, offset_us),
    VMS_END,
};

static const struct vmstate_desc rtc_vmsd = {
    .name = "mc146818rtc",
    .version = 1,
    .fields = rtc_fields,
    .post_load = rtc_post_load,
};

static const struct prop rtc_props[] = {
    PROP_END,
};

const struct device_class mc146818_rtc_class = {
    .name = "mc146818rtc",
    .desc = "CMOS real-time clock and NVRAM (ports 0x70-0x71)",
    .size = sizeof(struct rtc),
    .props = rtc_props,
    .user_creatable = false, /* the machine creates it */
    .realize = rtc_realize,
    .reset = rtc_reset,
    .unrealize = rtc_unrealize,
    .vmsd = &rtc_vmsd,
};
