/* libFuzzer: arbitrary bytes as a lexicon source (compiler: errors, never crashes; a
 * compiled image must validate and find its own keys) and as an image (loader and
 * lookups stay inside the buffer). Then the normalizer runs with the lexicon. */
#include "text/lexicon.h"
#include "text/norm.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 1 << 16) return 0;
    char err[256];
    unsigned char *img = NULL;
    size_t n = 0;
    vx_lex *l = NULL;
    if (vx_lex_compile((const char *)data, size, &img, &n, err, sizeof err) == 0) {
        if (vx_lex_validate(img, n, err, sizeof err)) abort();
        if (vx_lex_from_memory(img, n, &l, err, sizeof err)) abort();
        vx_norm o;
        vx_norm_opts no = {"en-us", 1, l, 1};
        if (vx_normalize_opts(&no, (const char *)data, size, &o, err, sizeof err) == 0)
            vx_norm_free(&o);
        vx_lex_release(l);
        free(img);
    }
    /* the same bytes as an image: copy into an exact-size buffer so ASan sees overreads */
    unsigned char *raw = malloc(size ? size : 1);
    memcpy(raw, data, size);
    vx_lex_validate(raw, size, err, sizeof err);
    if (vx_lex_from_memory(raw, size, &l, err, sizeof err) == 0) {
        vx_lex_hit h;
        static const char *keys[] = {"a", "tomato", "new york", "zz", "US"};
        for (size_t i = 0; i < 5; i++) vx_lex_find(l, keys[i], strlen(keys[i]), &h);
        if (size > 80) vx_lex_find(l, (const char *)data + 64, 16, &h);
        vx_lex_release(l);
    }
    free(raw);
    return 0;
}
