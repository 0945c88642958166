/* libFuzzer: arbitrary bytes through text normalization in every language module.
 * Invariants: valid UTF-8 in gives valid UTF-8 out, the pieces cover the output
 * contiguously, and every output range maps inside the input. */
#include "text/norm.h"
#include "vox.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *langs[] = {"en-us", "en-gb", "de", "fr", "es"};
    if (size > 4096) return 0;
    size_t bad;
    if (vox_utf8_check((const char *)data, size, &bad) != VOX_OK) return 0;
    for (size_t l = 0; l < sizeof langs / sizeof langs[0]; l++) {
        vx_norm n;
        char err[128];
        if (vx_normalize(langs[l], (const char *)data, size, &n, err, sizeof err)) abort();
        if (vox_utf8_check(n.text, n.len, &bad) != VOX_OK) abort();
        size_t o = 0;
        for (size_t i = 0; i < n.np; i++) {
            if (n.p[i].out_off != o) abort();
            if (n.p[i].in_off + n.p[i].in_len > size) abort();
            o += n.p[i].out_len;
        }
        if (o != n.len) abort();
        for (size_t i = 0; i < n.len; i += 7) {
            size_t lo, hi;
            vx_norm_map(&n, i, i + 7 < n.len ? i + 7 : n.len, &lo, &hi);
            if (lo > hi || hi > size) abort();
        }
        vx_norm_free(&n);
    }
    return 0;
}
