/* libFuzzer: arbitrary bytes as a packed-weight cache file (engine/pack_cache.h). The
 * reader must map only a whole, intact file of the size asked (and remove any other), and
 * the aux records must read and write inside the header block, whatever the file holds.
 * The first byte picks the layout: a well-formed header (magic, key, size) before the
 * fuzzer's bytes, so the checksum and aux paths are reached, or the raw bytes. */
#include "engine/pack_cache.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static char dir[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > (1 << 16)) return 0;
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/vox_fuzz_pack_XXXXXX");
        if (!mkdtemp(dir)) abort();
    }
    vx_pack_key key = {{0x0123456789abcdefull, 0xfedcba9876543210ull}};
    char path[160];
    snprintf(path, sizeof path, "%s/%016llx%016llx.vxpack", dir, (unsigned long long)key.h[0],
             (unsigned long long)key.h[1]);
    int framed = data[0] & 1; /* framed, even size: a valid file; odd: a wrong checksum */
    data++, size--;
    size_t body = framed ? size : 0;
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (framed) {
        /* magic, key, bytes = the fuzzer's data after the block, checksum of it (or, for
         * odd sizes, a wrong one), then the fuzzer's bytes fill the rest of the block */
        unsigned char hdr[VX_PACK_CACHE_HDR] = {0};
        size_t in_hdr = size < VX_PACK_CACHE_HDR - 40 ? size : VX_PACK_CACHE_HDR - 40;
        memcpy(hdr + 40, data, in_hdr);
        body = size - in_hdr;
        uint64_t w[4] = {key.h[0], key.h[1], body,
                         vx_pack_checksum(data + in_hdr, body) ^ (uint64_t)(size & 1)};
        memcpy(hdr, "VOXPACK1", 8);
        memcpy(hdr + 8, w, sizeof w);
        fwrite(hdr, 1, sizeof hdr, f);
        fwrite(data + in_hdr, 1, body, f);
    } else {
        fwrite(data, 1, size, f);
    }
    fclose(f);
    float g = 0;
    double d = 1.5;
    vx_pack_cache_aux_get(dir, &key, "piper/steady_gain", &g, sizeof g);
    vx_pack_cache_aux_put(dir, &key, "t/x", &d, sizeof d);
    vx_pack_cache_aux_get(dir, &key, "t/x", &d, sizeof d);
    void *m = vx_pack_cache_get(dir, &key, body ? body : 64);
    if (m) {
        /* only a file whose header and checksum match is ever mapped */
        uint64_t h[5] = {0};
        FILE *r = fopen(path, "rb");
        if (!r || fread(h, 8, 5, r) != 5 || memcmp(h, "VOXPACK1", 8) || h[1] != key.h[0] ||
            h[2] != key.h[1] || h[3] != body || h[4] != vx_pack_checksum(m, body))
            abort();
        fclose(r);
        volatile unsigned char sink = 0;
        for (size_t i = 0; i < body; i += 512) sink ^= ((const unsigned char *)m)[i];
        (void)sink;
        munmap(m, body);
    }
    unlink(path);
    return 0;
}
