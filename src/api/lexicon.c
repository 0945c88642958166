/* The public lexicon API (vox.h) over the text room's lexicon (text/lexicon.h): a
 * vox_lexicon is a vx_lex, a vox_lexicon_watch a vx_lex_watch. */
#include "vox.h"
#include "text/lexicon.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dummy_err[8];
#define ERRBUF()                                                                                   \
    if (!err) {                                                                                    \
        err = dummy_err;                                                                           \
        errlen = sizeof dummy_err;                                                                 \
    }

int vox_lexicon_open(const char *path, vox_lexicon **out, char *err, size_t errlen) {
    ERRBUF();
    if (!path || !out) {
        snprintf(err, errlen, "lexicon path missing");
        return VOX_ERR_ARG;
    }
    vx_lex *l;
    int rc = vx_lex_open(path, &l, err, errlen);
    *out = rc ? NULL : (vox_lexicon *)l;
    return rc;
}

int vox_lexicon_compile(const char *src_path, const char *image_path, char *err, size_t errlen) {
    ERRBUF();
    if (!src_path || !image_path) {
        snprintf(err, errlen, "lexicon path missing");
        return VOX_ERR_ARG;
    }
    FILE *f = fopen(src_path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open lexicon source '%s'", src_path);
        return VOX_ERR_NOT_FOUND;
    }
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    int rc = 0;
    while (buf) {
        if (n == cap) {
            if (cap > VX_LEX_MAX_SOURCE) break;
            char *q = realloc(buf, cap * 2);
            if (!q) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = q;
            cap *= 2;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0) break;
    }
    fclose(f);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return VOX_ERR_NOMEM;
    }
    unsigned char *img;
    size_t len;
    rc = vx_lex_compile(buf, n, &img, &len, err, errlen);
    free(buf);
    if (rc) return rc;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", image_path, (int)getpid());
    f = fopen(tmp, "wb");
    if (!f || fwrite(img, 1, len, f) != len || fclose(f) || rename(tmp, image_path)) {
        if (f) unlink(tmp);
        free(img);
        snprintf(err, errlen, "cannot write lexicon image '%s'", image_path);
        return VOX_ERR_IO;
    }
    free(img);
    return 0;
}

size_t vox_lexicon_size(const vox_lexicon *l) { return vx_lex_count((const vx_lex *)l); }
void vox_lexicon_free(vox_lexicon *l) { vx_lex_release((vx_lex *)l); }

int vox_lexicon_watch_open(const char *path, unsigned check_ms, vox_lexicon_watch **out, char *err,
                           size_t errlen) {
    ERRBUF();
    if (!path || !out) {
        snprintf(err, errlen, "lexicon path missing");
        return VOX_ERR_ARG;
    }
    vx_lex_watch *w;
    int rc = vx_lex_watch_open(path, check_ms, &w, err, errlen);
    *out = rc ? NULL : (vox_lexicon_watch *)w;
    return rc;
}

vox_lexicon *vox_lexicon_watch_get(vox_lexicon_watch *w) {
    return (vox_lexicon *)vx_lex_watch_get((vx_lex_watch *)w);
}

void vox_lexicon_watch_free(vox_lexicon_watch *w) { vx_lex_watch_free((vx_lex_watch *)w); }
