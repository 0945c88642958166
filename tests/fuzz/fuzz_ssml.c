/* libFuzzer: arbitrary bytes through the SSML front end (expat, blocks, marks, say-as),
 * both voice modes. Invariants: pieces cover the text, blocks and marks lie inside it
 * and every piece maps inside the document. */
#include "text/ssml.h"
#include "vox.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 1 << 14) return 0;
    size_t bad;
    if (vox_utf8_check((const char *)data, size, &bad) != VOX_OK) return 0;
    char *doc = malloc(size + 1);
    memcpy(doc, data, size);
    doc[size] = 0;
    for (int ipa = 0; ipa < 2; ipa++) {
        vx_ssml x;
        char err[256];
        if (vx_ssml_parse(doc, size, ipa, ipa ? "en-us" : "de", &x, err, sizeof err)) continue;
        size_t o = 0;
        for (size_t i = 0; i < x.text.np; i++) {
            if (x.text.p[i].out_off != o || x.text.p[i].in_off + x.text.p[i].in_len > size) abort();
            o += x.text.p[i].out_len;
        }
        if (o != x.text.len) abort();
        for (size_t i = 0; i < x.nb; i++)
            if (x.b[i].lo > x.b[i].hi || x.b[i].hi > x.text.len || (i && x.b[i].lo < x.b[i - 1].hi))
                abort();
        for (size_t i = 0; i < x.nm; i++)
            if (x.m[i].pos > x.text.len || x.m[i].src > size || x.m[i].block > x.nb) abort();
        vx_ssml_free(&x);
    }
    free(doc);
    return 0;
}
