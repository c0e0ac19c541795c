/* SPDX-License-Identifier: MIT */
/*
 * fuzz-virtio-net.c: libFuzzer target for virtio-net's transmit header
 * parser (virtio_net_tx_hdr_check, hw/net/virtio-net.c) and the tx path
 * behind it: the input's first 8 bytes pick the negotiated features, the
 * next 12 are the driver's header, the rest a frame split into guest
 * buffers at input-chosen lengths.  An accepted header must satisfy what
 * the checker promises (checksum field inside the frame, GSO only when
 * negotiated and with NEEDS_CSUM); what reaches the backend (a datagram
 * socketpair standing in for a tap with vnet headers) must be the header
 * and the frame, byte for byte.
 */
#include "util/common.h"
#include "hw/net/virtio-net.h"
#include "net/netdev.h"
#include "system/guest-mem.h"
#include "util/bytes.h"
#include "util/log.h"
#include "tests/unit/vring-build.h"

#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_RAM (1 * MiB)
#define FZ_BUF 0x10000ULL

static void check_promises(const uint8_t *h, uint64_t flen, uint64_t feat)
{
    uint8_t gso = h[1] & ~VIRTIO_NET_HDR_GSO_ECN;

    if (virtio_net_tx_hdr_check(h, flen, feat)) {
        return;
    }
    if (flen < VIRTIO_NET_MIN_FRAME || (h[0] & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
        abort();
    }
    if ((h[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
        (!(feat & (1ULL << VIRTIO_NET_F_CSUM)) ||
         le_load(h + 6, 2) + le_load(h + 8, 2) + 2 > flen)) {
        abort();
    }
    if (h[1] != 0 && (!(h[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) ||
                      (gso == VIRTIO_NET_HDR_GSO_TCPV4 &&
                       !(feat & (1ULL << VIRTIO_NET_F_HOST_TSO4))) ||
                      (gso != VIRTIO_NET_HDR_GSO_TCPV4 &&
                       gso != VIRTIO_NET_HDR_GSO_TCPV6))) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
    struct guest_mem *gm;
    struct vlog log;
    struct virtio_net s;
    struct netdev *nd;
    struct vr r[3];
    uint64_t feat = 0;
    uint8_t *out;
    size_t flen, off = 0;
    unsigned nd_desc = 0;
    int sv[2];
    ssize_t got;

    if (size < 20 || size > 8192) {
        return 0;
    }
    memcpy(&feat, data, 8);
    check_promises(data + 8, size - 20, feat);

    gm = gm_new(FZ_RAM, NULL);
    if (!gm || !gm_add_ram(gm, 0, 0, FZ_RAM, "ram", NULL) ||
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv) < 0) {
        abort();
    }
    vlog_init(&log);
    nd = netdev_tap_new_fd("f", sv[0], true, NETDEV_OFFLOAD_CSUM);
    memset(&s, 0, sizeof(s));
    virtio_net_set_defaults(&s);
    virtio_net_setup(&s, nd, mac, gm, &log, NULL);
    for (unsigned i = 0; i < 3; i++) {
        vr_init(&r[i], gm, 0x1000 + 0x2000 * i, 16);
    }
    vr_driver_start(
        &s.vdev, (feat | (1ULL << VIRTIO_F_VERSION_1)) & s.vdev.host_features,
        r, 3);
    /* the header, then the frame in pieces of input-chosen lengths */
    if (!gm_write(gm, FZ_BUF, data + 8, size - 8)) {
        abort();
    }
    flen = size - 8;
    while (off < flen) {
        /* at most 16 descriptors: the last takes the rest */
        size_t piece = nd_desc == 15
                           ? flen - off
                           : MIN(flen - off, (size_t)(data[off % 8] % 64 + 1));

        vr_desc(&r[1], nd_desc, FZ_BUF + off, (uint32_t)piece,
                off + piece < flen ? VIRTQ_DESC_F_NEXT : 0,
                (uint16_t)(nd_desc + 1));
        off += piece;
        nd_desc++;
    }
    vr_add(&r[1], 0);
    vr_publish(&r[1]);
    virtio_queue_notify(&s.vdev, 1);
    out = g_malloc(size + 64);
    got = recv(sv[1], out, size + 64, MSG_DONTWAIT);
    if (got >= 0) {
        /* only accepted headers go out, then the frame unchanged */
        if (virtio_net_tx_hdr_check(data + 8, size - 20,
                                    s.vdev.guest_features) ||
            (size_t)got != size - 8 ||
            memcmp(out + 12, data + 20, size - 20) != 0) {
            abort();
        }
    }
    g_free(out);
    virtio_net_teardown(&s);
    netdev_free(nd);
    close(sv[1]);
    vlog_close(&log);
    gm_free(gm);
    return 0;
}
