/* SPDX-License-Identifier: MIT */
/*
 * test-rtc.c: the mc146818 CMOS RTC through its ports: host date in BCD
 * and binary, 12/24 hour modes, -rtc base= (utc, localtime, a date), the
 * guest setting the clock, update-in-progress, the NVRAM memory-size bytes
 * and the vmstate round trip.
 */
#include "util/common.h"
#include "hw/rtc/mc146818.h"
#include "migration/vmstate.h"
#include "dev-harness.h"

#include <time.h>

extern const struct device_class mc146818_rtc_class;

struct fx {
    struct machine *m;
    struct machine_config cfg;
    struct device *dev;
};

static void fx_init(struct fx *f, uint64_t ram, unsigned cpus, const char *base)
{
    memset(f, 0, sizeof(*f));
    f->m = th_machine_new();
    f->cfg.ram_size = ram;
    f->cfg.smp_cpus = cpus;
    f->cfg.rtc_base = (char *)base;
    f->m->cfg = &f->cfg;
    f->dev = th_device_new(f->m, &mc146818_rtc_class, NULL, NULL);
    g_assert_nonnull(f->dev);
}

static void fx_clear(struct fx *f)
{
    th_device_free(f->dev);
    th_machine_free(f->m);
}

static uint8_t rd(struct fx *f, uint8_t reg)
{
    th_out(f->m, 0x70, reg, 1);
    return (uint8_t)th_in(f->m, 0x71, 1);
}

static void wr(struct fx *f, uint8_t reg, uint8_t v)
{
    th_out(f->m, 0x70, reg, 1);
    th_out(f->m, 0x71, v, 1);
}

/* The guest writes a whole BCD date and time (B must already have SET). */
static void wr_bcd_time(struct fx *f, uint8_t century, uint8_t year,
                        uint8_t month, uint8_t mday, uint8_t h, uint8_t m,
                        uint8_t sec)
{
    wr(f, RTC_CENTURY, century);
    wr(f, RTC_YEAR, year);
    wr(f, RTC_MONTH, month);
    wr(f, RTC_DAY_OF_MONTH, mday);
    wr(f, RTC_HOURS, h);
    wr(f, RTC_MINUTES, m);
    wr(f, RTC_SECONDS, sec);
}

static unsigned bcd(uint8_t v)
{
    return (v >> 4) * 10 + (v & 15);
}

/* Guest time (seconds since the epoch, UTC fields) read in BCD 24h. */
static time_t read_clock(struct fx *f)
{
    struct tm tm = {0};

    tm.tm_sec = (int)bcd(rd(f, RTC_SECONDS));
    tm.tm_min = (int)bcd(rd(f, RTC_MINUTES));
    tm.tm_hour = (int)bcd(rd(f, RTC_HOURS));
    tm.tm_mday = (int)bcd(rd(f, RTC_DAY_OF_MONTH));
    tm.tm_mon = (int)bcd(rd(f, RTC_MONTH)) - 1;
    tm.tm_year =
        (int)(bcd(rd(f, RTC_CENTURY)) * 100 + bcd(rd(f, RTC_YEAR))) - 1900;
    return timegm(&tm);
}

static void test_host_date(void)
{
    struct fx f;
    time_t now, got;
    struct tm tm;

    fx_init(&f, 128 * MiB, 1, NULL);
    now = time(NULL);
    got = read_clock(&f);
    g_assert_cmpint(llabs((long long)(got - now)), <=, 2);
    /* status registers after reset */
    g_assert_cmphex(rd(&f, RTC_REG_A) & 0x7f, ==, 0x26);
    g_assert_cmphex(rd(&f, RTC_REG_B), ==, RTC_B_24H);
    g_assert_cmphex(rd(&f, RTC_REG_D), ==, RTC_D_VRT);
    /* day of week: 1 = Sunday */
    gmtime_r(&now, &tm);
    g_assert_cmpuint(bcd(rd(&f, RTC_DAY_OF_WEEK)), ==,
                     (unsigned)tm.tm_wday + 1);
    fx_clear(&f);
}

static void test_binary_12h(void)
{
    struct fx f;
    uint8_t h24, h12;

    fx_init(&f, 128 * MiB, 1, "2006-06-17T16:01:21");
    g_assert_cmphex(rd(&f, RTC_YEAR), ==, 0x06);
    g_assert_cmphex(rd(&f, RTC_CENTURY), ==, 0x20);
    g_assert_cmphex(rd(&f, RTC_MONTH), ==, 0x06);
    g_assert_cmphex(rd(&f, RTC_DAY_OF_MONTH), ==, 0x17);
    h24 = rd(&f, RTC_HOURS);
    g_assert_cmphex(h24, ==, 0x16);
    /* binary */
    wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_DM_BINARY);
    g_assert_cmpuint(rd(&f, RTC_HOURS), ==, 16);
    g_assert_cmpuint(rd(&f, RTC_DAY_OF_MONTH), ==, 17);
    /* 12 hour, BCD: 4 PM */
    wr(&f, RTC_REG_B, 0);
    h12 = rd(&f, RTC_HOURS);
    g_assert_cmphex(h12, ==, 0x80 | 0x04);
    fx_clear(&f);
}

static void test_bad_base(void)
{
    struct fx f;
    Error *err = NULL;

    memset(&f, 0, sizeof(f));
    f.m = th_machine_new();
    f.cfg.rtc_base = "yesterday";
    f.m->cfg = &f.cfg;
    g_assert_null(th_device_new(f.m, &mc146818_rtc_class, NULL, &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(error_get_pretty(err), "yesterday"));
    error_free(err);
    th_machine_free(f.m);
}

static void test_localtime(void)
{
    struct fx f;
    const char *old = g_getenv("TZ");
    g_autofree char *saved = g_strdup(old);
    time_t now;
    struct tm tm;

    g_setenv("TZ", "EST5", TRUE);
    tzset();
    fx_init(&f, 128 * MiB, 1, "localtime");
    now = time(NULL);
    localtime_r(&now, &tm);
    /* the hour read is the zone's, 5 hours behind UTC */
    g_assert_cmpuint(bcd(rd(&f, RTC_HOURS)), ==, (unsigned)tm.tm_hour);
    g_assert_cmpint(llabs((long long)(read_clock(&f) - (now - 5 * 3600))), <=,
                    2);
    fx_clear(&f);
    if (saved) {
        g_setenv("TZ", saved, TRUE);
    } else {
        g_unsetenv("TZ");
    }
    tzset();
}

static void test_guest_sets_time(void)
{
    struct fx f;
    struct tm tm = {0};
    time_t want;

    fx_init(&f, 128 * MiB, 1, NULL);
    wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_SET);
    wr_bcd_time(&f, 0x19, 0x99, 0x12, 0x31, 0x23, 0x59, 0x30);
    /* frozen while SET */
    g_assert_cmphex(rd(&f, RTC_SECONDS), ==, 0x30);
    wr(&f, RTC_REG_B, RTC_B_24H);
    tm.tm_year = 99;
    tm.tm_mon = 11;
    tm.tm_mday = 31;
    tm.tm_hour = 23;
    tm.tm_min = 59;
    tm.tm_sec = 30;
    want = timegm(&tm);
    g_assert_cmpint(llabs((long long)(read_clock(&f) - want)), <=, 2);
    /* a reset keeps the clock */
    th_reset(f.dev);
    g_assert_cmpint(llabs((long long)(read_clock(&f) - want)), <=, 2);
    fx_clear(&f);
}

static int64_t fake_now(void *opaque)
{
    return *(int64_t *)opaque;
}

/* UIP is set in the last 244 us before each second boundary, and only then
 * (a fake clock makes this exact instead of racing the host's). */
static void test_uip(void)
{
    struct fx f;
    int64_t now = (int64_t)1700000000 * 1000000;

    fx_init(&f, 128 * MiB, 1, NULL);
    mc146818_set_clock(f.dev, fake_now, &now);
    /* Re-anchor the guest clock on a whole fake second: setting the time
     * (SET on, then off) takes the registers as the time from now on. */
    wr(&f, RTC_REG_B, rd(&f, RTC_REG_B) | RTC_B_SET);
    wr(&f, RTC_REG_B, rd(&f, RTC_REG_B) & ~RTC_B_SET);
    now += 500000;
    g_assert_cmphex(rd(&f, RTC_REG_A) & RTC_A_UIP, ==, 0);
    now = (int64_t)1700000000 * 1000000 + 999800;
    g_assert_cmphex(rd(&f, RTC_REG_A) & RTC_A_UIP, ==, RTC_A_UIP);
    now = (int64_t)1700000000 * 1000000 + 1000000 - 245;
    g_assert_cmphex(rd(&f, RTC_REG_A) & RTC_A_UIP, ==, 0);
    now = (int64_t)1700000001 * 1000000;
    g_assert_cmphex(rd(&f, RTC_REG_A) & RTC_A_UIP, ==, 0);
    /* with SET on, the clock does not update: UIP never shows */
    wr(&f, RTC_REG_B, rd(&f, RTC_REG_B) | RTC_B_SET);
    now = (int64_t)1700000001 * 1000000 + 999900;
    g_assert_cmphex(rd(&f, RTC_REG_A) & RTC_A_UIP, ==, 0);
    fx_clear(&f);
}

static void test_nvram(void)
{
    struct fx f;

    fx_init(&f, 5 * GiB, 4, NULL);
    g_assert_cmpuint(rd(&f, 0x15) | rd(&f, 0x16) << 8, ==, 640);
    g_assert_cmpuint(rd(&f, 0x17) | rd(&f, 0x18) << 8, ==, 0xffff);
    g_assert_cmpuint(rd(&f, 0x30) | rd(&f, 0x31) << 8, ==, 0xffff);
    g_assert_cmphex(rd(&f, 0x34) | rd(&f, 0x35) << 8, ==,
                    (3 * GiB - 16 * MiB) / (64 * KiB));
    g_assert_cmphex(rd(&f, 0x5b) | rd(&f, 0x5c) << 8 | rd(&f, 0x5d) << 16, ==,
                    2 * GiB / (64 * KiB));
    g_assert_cmpuint(rd(&f, 0x5f), ==, 3);
    fx_clear(&f);

    fx_init(&f, 32 * MiB, 1, NULL);
    g_assert_cmpuint(rd(&f, 0x17) | rd(&f, 0x18) << 8, ==, 31 * 1024);
    g_assert_cmpuint(rd(&f, 0x34) | rd(&f, 0x35) << 8, ==, 256);
    g_assert_cmpuint(rd(&f, 0x5b), ==, 0);
    /* NVRAM is plain storage for the guest */
    wr(&f, 0x40, 0xa5);
    g_assert_cmphex(rd(&f, 0x40), ==, 0xa5);
    /* index bit 7 is the NMI mask, not part of the index */
    th_out(f.m, 0x70, 0x80 | 0x40, 1);
    g_assert_cmphex(th_in(f.m, 0x71, 1), ==, 0xa5);
    fx_clear(&f);
}

static void test_vmstate(void)
{
    struct fx a, b;
    GByteArray *buf = g_byte_array_new();
    size_t pos = 0;

    fx_init(&a, 64 * MiB, 1, "2010-01-01");
    fx_init(&b, 64 * MiB, 1, NULL);
    wr(&a, 0x41, 0x5a);
    g_assert_true(vmstate_save(a.dev->cls->vmsd, a.dev, buf, NULL));
    g_assert_true(
        vmstate_load(b.dev->cls->vmsd, b.dev, buf->data, buf->len, &pos, NULL));
    g_assert_cmphex(rd(&b, 0x41), ==, 0x5a);
    g_assert_cmphex(rd(&b, RTC_YEAR), ==, 0x10);
    g_byte_array_unref(buf);
    fx_clear(&a);
    fx_clear(&b);
}

/* A fixture on a fake clock anchored on a whole second. */
static void fx_fake(struct fx *f, int64_t *now)
{
    fx_init(f, 64 * MiB, 1, NULL);
    *now = (int64_t)1700000000 * 1000000;
    mc146818_set_clock(f->dev, fake_now, now);
    wr(f, RTC_REG_B, rd(f, RTC_REG_B) | RTC_B_SET);
    wr(f, RTC_REG_B, rd(f, RTC_REG_B) & ~RTC_B_SET);
    g_assert_cmphex(rd(f, RTC_REG_C), ==, 0);
}

static void advance(struct fx *f, int64_t *now, int64_t us)
{
    *now += us;
    mc146818_run_timers(f->dev);
}

static void test_periodic(void)
{
    struct fx f;
    int64_t now, t0;

    fx_fake(&f, &now);
    t0 = now;
    /* Reset's register A selects 1024 Hz; nothing is enabled yet. */
    g_assert_cmphex(rd(&f, RTC_REG_A) & 0x0f, ==, 6);
    g_assert_cmpint(mc146818_deadline(f.dev), ==, -1);
    wr(&f, RTC_REG_B, rd(&f, RTC_REG_B) | RTC_B_PIE);
    /* The next 1/1024 s boundary, rounded up to a microsecond. */
    g_assert_cmpint(mc146818_deadline(f.dev), ==, t0 + 977);
    advance(&f, &now, 500);
    g_assert_false(mc146818_irq_level(f.dev));
    g_assert_false(th_gsi_level(f.m, RTC_ISA_IRQ));
    advance(&f, &now, 500);
    g_assert_true(mc146818_irq_level(f.dev));
    /* the board's GSI 8 is what the device drives */
    g_assert_true(th_gsi_level(f.m, RTC_ISA_IRQ));
    g_assert_cmpuint(th_gsi_edges(f.m, RTC_ISA_IRQ), ==, 1);
    g_assert_cmpint(mc146818_deadline(f.dev), ==, t0 + 1954);
    g_assert_cmphex(rd(&f, RTC_REG_C), ==, 0xc0); /* IRQF | PF */
    g_assert_false(mc146818_irq_level(f.dev));
    g_assert_false(th_gsi_level(f.m, RTC_ISA_IRQ));
    g_assert_cmphex(rd(&f, RTC_REG_C), ==, 0);
    /* Rate 15 (2 Hz); rate 0 stops it. */
    wr(&f, RTC_REG_A, 0x2f);
    g_assert_cmpint(mc146818_deadline(f.dev), ==, t0 + 500000);
    wr(&f, RTC_REG_A, 0x20);
    g_assert_cmpint(mc146818_deadline(f.dev), ==, -1);
    advance(&f, &now, 2000000);
    g_assert_cmphex(rd(&f, RTC_REG_C) & 0x40, ==, 0);
    /* PF is set whether or not PIE is (the chip's behaviour); only the
     * line depends on the enable. */
    wr(&f, RTC_REG_B, rd(&f, RTC_REG_B) & ~RTC_B_PIE);
    wr(&f, RTC_REG_A, 0x26);
    advance(&f, &now, 2000);
    g_assert_false(mc146818_irq_level(f.dev));
    g_assert_cmphex(rd(&f, RTC_REG_C) & 0xc0, ==, 0x40);
    fx_clear(&f);
}

static void test_update_ended(void)
{
    struct fx f;
    int64_t now, t0;

    fx_fake(&f, &now);
    t0 = now;
    wr(&f, RTC_REG_A, 0x20); /* no periodic flag in the way */
    wr(&f, RTC_REG_B, rd(&f, RTC_REG_B) | RTC_B_UIE);
    g_assert_cmpint(mc146818_deadline(f.dev), ==, t0 + 1000000);
    advance(&f, &now, 999999);
    g_assert_false(mc146818_irq_level(f.dev));
    advance(&f, &now, 1);
    g_assert_true(mc146818_irq_level(f.dev));
    g_assert_cmphex(rd(&f, RTC_REG_C), ==, 0x90); /* IRQF | UF */
    /* SET stops the clock: no update, no timer. */
    wr(&f, RTC_REG_B, rd(&f, RTC_REG_B) | RTC_B_SET);
    g_assert_cmpint(mc146818_deadline(f.dev), ==, -1);
    advance(&f, &now, 3000000);
    g_assert_cmphex(rd(&f, RTC_REG_C), ==, 0);
    fx_clear(&f);
}

static void test_alarm(void)
{
    struct fx f;
    int64_t now;
    uint8_t sec;

    fx_fake(&f, &now);
    wr(&f, RTC_REG_A, 0x20); /* no periodic flag in the way */
    /* Alarm two seconds from now (BCD), only AIE enabled. */
    sec = rd(&f, RTC_SECONDS);
    sec = (uint8_t)(((bcd(sec) + 2) % 60 / 10) << 4 | (bcd(sec) + 2) % 10);
    wr(&f, 0x01, sec);
    wr(&f, 0x03, rd(&f, RTC_MINUTES));
    wr(&f, 0x05, rd(&f, RTC_HOURS));
    wr(&f, RTC_REG_B, rd(&f, RTC_REG_B) | RTC_B_AIE);
    advance(&f, &now, 1000000);
    /* UF is set but not enabled: no interrupt. */
    g_assert_false(mc146818_irq_level(f.dev));
    advance(&f, &now, 1000000);
    if (bcd(rd(&f, RTC_SECONDS)) < 2) {
        /* the minute rolled over: the alarm's minute no longer matches */
        g_assert_false(mc146818_irq_level(f.dev));
    } else {
        g_assert_true(mc146818_irq_level(f.dev));
        g_assert_cmphex(rd(&f, RTC_REG_C), ==, 0xb0); /* IRQF | AF | UF */
    }
    /* Don't-care bytes: an alarm every second. */
    wr(&f, 0x01, 0xc0);
    wr(&f, 0x03, 0xff);
    wr(&f, 0x05, 0xc5);
    (void)rd(&f, RTC_REG_C);
    advance(&f, &now, 1000000);
    g_assert_cmphex(rd(&f, RTC_REG_C), ==, 0xb0);
    advance(&f, &now, 1000000);
    g_assert_cmphex(rd(&f, RTC_REG_C), ==, 0xb0);
    fx_clear(&f);
}

static void test_irq_vmstate(void)
{
    struct fx a, b;
    int64_t now;
    GByteArray *buf = g_byte_array_new();
    size_t pos = 0;

    fx_fake(&a, &now);
    fx_init(&b, 64 * MiB, 1, NULL);
    mc146818_set_clock(b.dev, fake_now, &now);
    wr(&a, RTC_REG_A, 0x20);
    wr(&a, RTC_REG_B, rd(&a, RTC_REG_B) | RTC_B_UIE);
    advance(&a, &now, 1000000);
    g_assert_true(mc146818_irq_level(a.dev));
    g_assert_true(vmstate_save(a.dev->cls->vmsd, a.dev, buf, NULL));
    g_assert_false(mc146818_irq_level(b.dev));
    g_assert_true(
        vmstate_load(b.dev->cls->vmsd, b.dev, buf->data, buf->len, &pos, NULL));
    /* The pending flag raises the line on the destination, and the timer
     * is armed for the next update. */
    g_assert_true(mc146818_irq_level(b.dev));
    g_assert_cmpint(mc146818_deadline(b.dev), >, now);
    g_assert_cmphex(rd(&b, RTC_REG_C), ==, 0x90);
    g_byte_array_unref(buf);
    fx_clear(&a);
    fx_clear(&b);
}

/* The device's own UTC calendar (not glibc's, which reads the zone file)
 * against gmtime_r and timegm: the registers at instants from 1900 to 2400
 * (leap days, century years, the epoch's edges), then the guest setting
 * each of those dates. */
static void test_utc_calendar(void)
{
    struct fx f;
    int64_t now;

    fx_init(&f, 128 * MiB, 1, NULL);
    mc146818_set_clock(f.dev, fake_now, &now);
    for (int64_t t = -2208988800LL; t < 13569465600LL; t += 86400 * 29 + 3607) {
        const int64_t probes[] = {t, t - t % 86400, t + 86399 - t % 86400};

        for (size_t i = 0; i < G_N_ELEMENTS(probes); i++) {
            time_t tt = (time_t)probes[i];
            struct tm tm;

            now = probes[i] * 1000000 + 1000; /* clear of UIP */
            gmtime_r(&tt, &tm);
            g_assert_cmpuint(bcd(rd(&f, RTC_SECONDS)), ==, tm.tm_sec);
            g_assert_cmpuint(bcd(rd(&f, RTC_MINUTES)), ==, tm.tm_min);
            g_assert_cmpuint(bcd(rd(&f, RTC_HOURS)), ==, tm.tm_hour);
            g_assert_cmpuint(bcd(rd(&f, RTC_DAY_OF_WEEK)), ==, tm.tm_wday + 1);
            g_assert_cmpuint(bcd(rd(&f, RTC_DAY_OF_MONTH)), ==, tm.tm_mday);
            g_assert_cmpuint(bcd(rd(&f, RTC_MONTH)), ==, tm.tm_mon + 1);
            g_assert_cmpint(bcd(rd(&f, RTC_CENTURY)) * 100 +
                                bcd(rd(&f, RTC_YEAR)),
                            ==, tm.tm_year + 1900);
            g_assert_cmpint(read_clock(&f), ==, tt);
        }
    }
    /* the guest sets 2100-03-01 00:00:05 (2100 is not a leap year) */
    now = 0;
    wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_SET);
    wr_bcd_time(&f, 0x21, 0x00, 0x03, 0x01, 0x00, 0x00, 0x05);
    wr(&f, RTC_REG_B, RTC_B_24H);
    g_assert_cmpint(read_clock(&f), ==, 4107542405LL);
    fx_clear(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtc/host-date", test_host_date);
    g_test_add_func("/rtc/binary-12h", test_binary_12h);
    g_test_add_func("/rtc/bad-base", test_bad_base);
    g_test_add_func("/rtc/localtime", test_localtime);
    g_test_add_func("/rtc/utc-calendar", test_utc_calendar);
    g_test_add_func("/rtc/guest-sets-time", test_guest_sets_time);
    g_test_add_func("/rtc/uip", test_uip);
    g_test_add_func("/rtc/nvram", test_nvram);
    g_test_add_func("/rtc/vmstate", test_vmstate);
    g_test_add_func("/rtc/periodic", test_periodic);
    g_test_add_func("/rtc/update-ended", test_update_ended);
    g_test_add_func("/rtc/alarm", test_alarm);
    g_test_add_func("/rtc/irq-vmstate", test_irq_vmstate);
    return g_test_run();
}
