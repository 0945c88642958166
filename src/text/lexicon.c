/* Pronunciation lexicon: source parser, image compiler, loader, lookup (see lexicon.h).
 * Why our own format: a sorted array of fixed-size records plus one string blob maps
 * in constant time and is searched in place with no per-process parsing or heap; no
 * Debian library offers a read-only shared word -> pronunciation map of this kind
 * (gdbm/lmdb would add a dependency for a 100-line search). */
#include "text/lexicon.h"
#include "text/unicode.h"
#include "vox.h"
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the lexicon image is little-endian; add byte swapping for this host"
#endif

#define MAGIC    "VOXLEX1\n"
#define HDR_SIZE 64
#define ENT_SIZE 20
#define NO_ORIG  0xFFFFFFFFu

typedef struct hdr {
    char magic[8];
    uint32_t version, n, max_words, entry_size;
    uint64_t index_off, strings_off, strings_len, src_size, src_mtime_ns;
} hdr;

typedef struct ent {
    uint32_t key_off, val_off, orig_off;
    uint16_t key_len, val_len;
    uint8_t kind, nwords;
    uint16_t pad;
} ent;

_Static_assert(sizeof(hdr) == HDR_SIZE, "header layout");
_Static_assert(sizeof(ent) == ENT_SIZE, "entry layout");

struct vx_lex {
    atomic_int refs;
    const unsigned char *img;
    size_t len;
    int mapped;           /* munmap at the end */
    unsigned char *owned; /* free at the end */
    hdr h;
    const unsigned char *index;
    const char *strings;
};

/* ------------------------------------------------------------------ folding */

void vx_lex_fold(char *s, size_t n) {
    unsigned char *p = (unsigned char *)s;
    for (size_t i = 0; i < n; i++) {
        if (p[i] >= 'A' && p[i] <= 'Z')
            p[i] += 32;
        else if (p[i] == 0xC3 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9E &&
                 p[i + 1] != 0x97) {
            p[i + 1] += 0x20;
            i++; /* À..Þ -> à..þ */
        } else if (p[i] == 0xD0 && i + 1 < n && p[i + 1] >= 0x90 && p[i + 1] <= 0x9F) {
            p[i + 1] += 0x20;
            i++; /* А..П -> а..п */
        } else if (p[i] == 0xD0 && i + 1 < n && p[i + 1] >= 0xA0 && p[i + 1] <= 0xAF) {
            p[i] = 0xD1;
            p[i + 1] -= 0x20;
            i++; /* Р..Я -> р..я */
        } else if (p[i] == 0xD0 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x8F) {
            p[i] = 0xD1;
            p[i + 1] += 0x10;
            i++; /* Ѐ..Џ -> ѐ..џ */
        }
    }
}

/* ---------------------------------------------------------------- compiler */

typedef struct work {
    ent *e;
    size_t n, cap;
    char *s; /* string blob */
    size_t sn, scap;
    uint32_t *line; /* source line of each entry (for "last wins") */
} work;

static int blob_add(work *w, const char *p, size_t k, uint32_t *off) {
    if (w->sn + k > UINT32_MAX - 1) return -1;
    if (w->sn + k > w->scap) {
        size_t nc = w->scap ? w->scap : 1 << 16;
        while (nc < w->sn + k) nc *= 2;
        char *q = realloc(w->s, nc);
        if (!q) return -1;
        w->s = q;
        w->scap = nc;
    }
    memcpy(w->s + w->sn, p, k);
    *off = (uint32_t)w->sn;
    w->sn += k;
    return 0;
}

static int ent_add(work *w, ent e, uint32_t line) {
    if (w->n == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 1024;
        ent *q = realloc(w->e, nc * sizeof *q);
        uint32_t *l = realloc(w->line, nc * sizeof *l);
        if (q) w->e = q;
        if (l) w->line = l;
        if (!q || !l) return -1;
        w->cap = nc;
    }
    w->line[w->n] = line;
    w->e[w->n++] = e;
    return 0;
}

static const char *g_blob; /* qsort has no context argument in C11 */

static int cmp_keys(const char *blob, const ent *a, const ent *b) {
    size_t m = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(blob + a->key_off, blob + b->key_off, m);
    if (c) return c;
    if (a->key_len != b->key_len) return a->key_len < b->key_len ? -1 : 1;
    /* exact-case entries first among equal folded keys */
    int ea = a->orig_off != NO_ORIG, eb = b->orig_off != NO_ORIG;
    return eb - ea;
}

typedef struct sortrec {
    ent e;
    uint32_t line;
} sortrec;

static int cmp_rec(const void *x, const void *y) {
    const sortrec *a = x, *b = y;
    int c = cmp_keys(g_blob, &a->e, &b->e);
    if (c) return c;
    if (a->e.orig_off != NO_ORIG && b->e.orig_off != NO_ORIG) {
        c = memcmp(g_blob + a->e.orig_off, g_blob + b->e.orig_off, a->e.key_len);
        if (c) return c;
    }
    return a->line < b->line ? -1 : a->line > b->line;
}

static int same_key(const sortrec *a, const sortrec *b) {
    if (cmp_keys(g_blob, &a->e, &b->e)) return 0;
    if (a->e.orig_off == NO_ORIG) return 1;
    return !memcmp(g_blob + a->e.orig_off, g_blob + b->e.orig_off, a->e.key_len);
}

#define FAIL(code, ...)                                                                            \
    do {                                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                                        \
        rc = (code);                                                                               \
        goto out;                                                                                  \
    } while (0)

/* Key: trim, collapse space runs, count words. Writes into buf (cap VX_LEX_MAX_KEY). */
static int clean_key(const char *p, size_t n, char *buf, size_t *bn, unsigned *words) {
    size_t k = 0;
    unsigned w = 0;
    int in_space = 1;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (ch == ' ') {
            in_space = 1;
            continue;
        }
        if (in_space) {
            if (w && k < VX_LEX_MAX_KEY) buf[k++] = ' ';
            w++;
            in_space = 0;
        }
        if (k >= VX_LEX_MAX_KEY) return -1;
        buf[k++] = ch;
    }
    *bn = k;
    *words = w;
    return 0;
}

int vx_lex_compile(const char *src, size_t len, unsigned char **img, size_t *img_len, char *err,
                   size_t errlen) {
    work w = {0};
    sortrec *recs = NULL;
    int rc = 0;
    *img = NULL;
    *img_len = 0;
    if (len > VX_LEX_MAX_SOURCE)
        FAIL(VOX_ERR_TOO_LONG, "lexicon source is %zu bytes; the limit is %u", len,
             VX_LEX_MAX_SOURCE);
    size_t bad;
    if (vox_utf8_check(src, len, &bad)) {
        uint32_t line = 1;
        for (size_t i = 0; i < bad; i++) line += src[i] == '\n';
        FAIL(VOX_ERR_UTF8, "lexicon line %u: invalid UTF-8", line);
    }
    unsigned max_words = 1;
    uint32_t line = 0;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(src + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - src) : len, le = end;
        line++;
        const char *l = src + pos;
        pos = end + 1;
        if (le > 0 && src[le - 1] == '\r') le--;
        size_t n = le - (size_t)(l - src);
        size_t a = 0, blank = 0;
        while (blank < n && (l[blank] == ' ' || l[blank] == '\t')) blank++;
        if (blank == n) continue;         /* an empty or white line */
        while (a < n && l[a] == ' ') a++; /* leading spaces; a leading tab = empty key */
        if (l[a] == '#') continue;
        const char *tab = memchr(l, '\t', n);
        if (!tab)
            FAIL(VOX_ERR_CONFIG, "lexicon line %u: expected word<TAB>/IPA/ or word<TAB>respelling",
                 line);
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)l[i] < 0x20 && l[i] != '\t')
                FAIL(VOX_ERR_CONFIG, "lexicon line %u: control character", line);
        const char *k = l + a;
        size_t kn = (size_t)(tab - k);
        int exact = 0;
        if (kn && k[0] == '!') {
            exact = 1;
            k++;
            kn--;
        }
        char key[VX_LEX_MAX_KEY + 1];
        size_t keyn;
        unsigned words;
        if (clean_key(k, kn, key, &keyn, &words))
            FAIL(VOX_ERR_CONFIG, "lexicon line %u: key longer than %d bytes", line, VX_LEX_MAX_KEY);
        if (!keyn) FAIL(VOX_ERR_CONFIG, "lexicon line %u: empty key", line);
        if (words > VX_LEX_MAX_WORDS)
            FAIL(VOX_ERR_CONFIG, "lexicon line %u: more than %d words in the key", line,
                 VX_LEX_MAX_WORDS);
        if (memchr(key, '\t', keyn))
            FAIL(VOX_ERR_CONFIG, "lexicon line %u: more than one tab", line);
        const char *v = tab + 1;
        size_t vn = n - (size_t)(v - l);
        while (vn && (v[0] == ' ' || v[0] == '\t')) {
            v++;
            vn--;
        }
        while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t')) vn--;
        int kind = VX_LEX_RESPELL;
        if (vn && v[0] == '/') {
            if (vn < 3 || v[vn - 1] != '/')
                FAIL(VOX_ERR_CONFIG, "lexicon line %u: IPA must be written /.../", line);
            v++;
            vn -= 2;
            kind = VX_LEX_IPA;
        }
        if (!vn) FAIL(VOX_ERR_CONFIG, "lexicon line %u: empty pronunciation", line);
        if (vn > VX_LEX_MAX_VALUE)
            FAIL(VOX_ERR_CONFIG, "lexicon line %u: pronunciation longer than %d bytes", line,
                 VX_LEX_MAX_VALUE);
        if (memchr(v, '[', vn) || memchr(v, ']', vn) || memchr(v, '\t', vn))
            FAIL(VOX_ERR_CONFIG,
                 "lexicon line %u: '[', ']' and tabs are not allowed in a pronunciation", line);
        if (w.n >= VX_LEX_MAX_ENTRIES)
            FAIL(VOX_ERR_TOO_LONG, "lexicon line %u: more than %u entries", line,
                 VX_LEX_MAX_ENTRIES);
        ent e = {0};
        e.key_len = (uint16_t)keyn;
        e.val_len = (uint16_t)vn;
        e.kind = (uint8_t)kind;
        e.nwords = (uint8_t)words;
        e.orig_off = NO_ORIG;
        if (exact && blob_add(&w, key, keyn, &e.orig_off))
            FAIL(VOX_ERR_NOMEM, "lexicon: out of memory");
        vx_lex_fold(key, keyn);
        if (blob_add(&w, key, keyn, &e.key_off) || blob_add(&w, v, vn, &e.val_off) ||
            ent_add(&w, e, line))
            FAIL(VOX_ERR_NOMEM, "lexicon: out of memory");
        if (words > max_words) max_words = words;
        if (!nl) break;
    }
    /* sort, then keep the last line of each key */
    recs = malloc((w.n ? w.n : 1) * sizeof *recs);
    if (!recs) FAIL(VOX_ERR_NOMEM, "lexicon: out of memory");
    for (size_t i = 0; i < w.n; i++) {
        recs[i].e = w.e[i];
        recs[i].line = w.line[i];
    }
    g_blob = w.s;
    qsort(recs, w.n, sizeof *recs, cmp_rec);
    size_t m = 0;
    for (size_t i = 0; i < w.n; i++) {
        if (m && same_key(&recs[m - 1], &recs[i]))
            recs[m - 1] = recs[i];
        else
            recs[m++] = recs[i];
    }
    g_blob = NULL;
    size_t total = HDR_SIZE + m * ENT_SIZE + w.sn;
    unsigned char *out = calloc(1, total ? total : 1);
    if (!out) FAIL(VOX_ERR_NOMEM, "lexicon: out of memory");
    hdr h = {0};
    memcpy(h.magic, MAGIC, 8);
    h.version = 1;
    h.n = (uint32_t)m;
    h.max_words = max_words;
    h.entry_size = ENT_SIZE;
    h.index_off = HDR_SIZE;
    h.strings_off = HDR_SIZE + m * ENT_SIZE;
    h.strings_len = w.sn;
    memcpy(out, &h, sizeof h);
    for (size_t i = 0; i < m; i++) memcpy(out + HDR_SIZE + i * ENT_SIZE, &recs[i].e, ENT_SIZE);
    if (w.sn) memcpy(out + h.strings_off, w.s, w.sn);
    *img = out;
    *img_len = total;
out:
    free(recs);
    free(w.e);
    free(w.line);
    free(w.s);
    return rc;
}

/* ------------------------------------------------------------------ loader */

static void get_ent(const unsigned char *index, size_t i, ent *e) {
    memcpy(e, index + i * ENT_SIZE, ENT_SIZE);
}

/* The header alone: sizes add up to the file. */
static int hdr_check(const unsigned char *img, size_t len, hdr *out, char *err, size_t errlen) {
    hdr h;
    if (len < HDR_SIZE) {
        snprintf(err, errlen, "lexicon image too short");
        return VOX_ERR_CONFIG;
    }
    memcpy(&h, img, sizeof h);
    if (memcmp(h.magic, MAGIC, 8) || h.version != 1 || h.entry_size != ENT_SIZE) {
        snprintf(err, errlen, "not a vox lexicon image (or another version)");
        return VOX_ERR_CONFIG;
    }
    if (h.n > VX_LEX_MAX_ENTRIES || h.max_words < 1 || h.max_words > VX_LEX_MAX_WORDS ||
        h.index_off != HDR_SIZE || h.strings_off != HDR_SIZE + (uint64_t)h.n * ENT_SIZE ||
        h.strings_len > len || h.strings_off > len - h.strings_len ||
        h.strings_off + h.strings_len != len || h.strings_len > UINT32_MAX) {
        snprintf(err, errlen, "lexicon image: bad header sizes");
        return VOX_ERR_CONFIG;
    }
    *out = h;
    return 0;
}

/* One entry inside the strings and within the limits. */
static int ent_ok(const hdr *h, const ent *e) {
    return e->key_len >= 1 && e->key_len <= VX_LEX_MAX_KEY && e->val_len >= 1 &&
           e->val_len <= VX_LEX_MAX_VALUE && (e->kind == VX_LEX_IPA || e->kind == VX_LEX_RESPELL) &&
           e->nwords >= 1 && e->nwords <= h->max_words &&
           (uint64_t)e->key_off + e->key_len <= h->strings_len &&
           (uint64_t)e->val_off + e->val_len <= h->strings_len &&
           (e->orig_off == NO_ORIG || (uint64_t)e->orig_off + e->key_len <= h->strings_len);
}

int vx_lex_validate(const unsigned char *img, size_t len, char *err, size_t errlen) {
    hdr h;
    int rc = hdr_check(img, len, &h, err, errlen);
    if (rc) return rc;
    const unsigned char *index = img + HDR_SIZE;
    const char *s = (const char *)img + h.strings_off;
    ent prev = {0}, e;
    for (size_t i = 0; i < h.n; i++) {
        get_ent(index, i, &e);
        if (!ent_ok(&h, &e)) {
            snprintf(err, errlen, "lexicon image: entry %zu out of bounds", i);
            return VOX_ERR_CONFIG;
        }
        if (i && cmp_keys(s, &prev, &e) > 0) {
            snprintf(err, errlen, "lexicon image: entry %zu out of order", i);
            return VOX_ERR_CONFIG;
        }
        prev = e;
    }
    return 0;
}

/* Mapping checks the header only, so it takes constant time whatever the size; every
 * entry a lookup reads is bounds-checked there (ent_ok), so a damaged image can give
 * wrong answers (refused entries read as absent) but never reads outside the map.
 * vx_lex_validate checks everything up front (the compiler's tests, the fuzzer). */
static int lex_wrap(const unsigned char *img, size_t len, vx_lex **out, char *err, size_t errlen) {
    hdr h;
    int rc = hdr_check(img, len, &h, err, errlen);
    if (rc) return rc;
    vx_lex *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return VOX_ERR_NOMEM;
    }
    atomic_init(&l->refs, 1);
    l->img = img;
    l->len = len;
    memcpy(&l->h, img, sizeof l->h);
    l->index = img + HDR_SIZE;
    l->strings = (const char *)img + l->h.strings_off;
    *out = l;
    return 0;
}

int vx_lex_from_memory(const unsigned char *img, size_t len, vx_lex **out, char *err,
                       size_t errlen) {
    *out = NULL;
    return lex_wrap(img, len, out, err, errlen);
}

static int map_file(const char *path, const unsigned char **img, size_t *len, struct stat *st,
                    char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open lexicon '%s': %s", path, strerror(errno));
        return VOX_ERR_NOT_FOUND;
    }
    if (fstat(fd, st) || !S_ISREG(st->st_mode)) {
        close(fd);
        snprintf(err, errlen, "lexicon '%s' is not a regular file", path);
        return VOX_ERR_IO;
    }
    *len = (size_t)st->st_size;
    if (*len == 0) {
        close(fd);
        *img = NULL;
        return 0;
    }
    void *p = mmap(NULL, *len, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        snprintf(err, errlen, "cannot map lexicon '%s': %s", path, strerror(errno));
        return VOX_ERR_IO;
    }
    *img = p;
    return 0;
}

static uint64_t mtime_ns(const struct stat *st) {
    return (uint64_t)st->st_mtim.tv_sec * 1000000000ull + (uint64_t)st->st_mtim.tv_nsec;
}

/* Write an image atomically (temp file + rename). */
static int write_image(const char *path, const unsigned char *img, size_t len) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp) return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t k = write(fd, img + off, len - off);
        if (k <= 0) {
            close(fd);
            unlink(tmp);
            return -1;
        }
        off += (size_t)k;
    }
    if (close(fd) || rename(tmp, path)) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Read a whole source file (it may be rewritten while we read: read(), never mmap). */
static int read_source(const char *path, char **buf, size_t *len, struct stat *st, char *err,
                       size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open lexicon '%s': %s", path, strerror(errno));
        return VOX_ERR_NOT_FOUND;
    }
    if (fstat(fd, st) || !S_ISREG(st->st_mode)) {
        close(fd);
        snprintf(err, errlen, "lexicon '%s' is not a regular file", path);
        return VOX_ERR_IO;
    }
    if ((uint64_t)st->st_size > VX_LEX_MAX_SOURCE) {
        close(fd);
        snprintf(err, errlen, "lexicon source '%s' is larger than %u bytes", path,
                 VX_LEX_MAX_SOURCE);
        return VOX_ERR_TOO_LONG;
    }
    size_t cap = (size_t)st->st_size + 1, n = 0;
    char *b = malloc(cap);
    if (!b) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return VOX_ERR_NOMEM;
    }
    for (;;) {
        if (n == cap) {
            if (cap > VX_LEX_MAX_SOURCE) {
                free(b);
                close(fd);
                snprintf(err, errlen, "lexicon source '%s' grew past %u bytes", path,
                         VX_LEX_MAX_SOURCE);
                return VOX_ERR_TOO_LONG;
            }
            char *q = realloc(b, cap * 2);
            if (!q) {
                free(b);
                close(fd);
                snprintf(err, errlen, "out of memory");
                return VOX_ERR_NOMEM;
            }
            b = q;
            cap *= 2;
        }
        ssize_t k = read(fd, b + n, cap - n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            free(b);
            close(fd);
            snprintf(err, errlen, "cannot read lexicon '%s': %s", path, strerror(errno));
            return VOX_ERR_IO;
        }
        if (k == 0) break;
        n += (size_t)k;
    }
    close(fd);
    *buf = b;
    *len = n;
    return 0;
}

int vx_lex_open(const char *path, vx_lex **out, char *err, size_t errlen) {
    *out = NULL;
    char *src, magic[8] = {0};
    size_t len;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc;
    if (fd >= 0) {
        if (read(fd, magic, 8) != 8) memset(magic, 0, 8);
        close(fd);
    }
    if (!memcmp(magic, MAGIC, 8)) {
        /* a compiled image: map it (images are replaced by rename, never rewritten) */
        const unsigned char *img;
        rc = map_file(path, &img, &len, &st, err, errlen);
        if (rc) return rc;
        rc = lex_wrap(img, len, out, err, errlen);
        if (rc) {
            if (len) munmap((void *)img, len);
        } else
            (*out)->mapped = 1;
        return rc;
    }
    rc = read_source(path, &src, &len, &st, err, errlen);
    if (rc) return rc;
    /* a source file: reuse PATH.vxlex when it was compiled from this very source */
    char cache[4096];
    int have_cache = snprintf(cache, sizeof cache, "%s.vxlex", path) < (int)sizeof cache;
    if (have_cache) {
        const unsigned char *ci;
        size_t cl;
        struct stat cst;
        char e2[256];
        if (!map_file(cache, &ci, &cl, &cst, e2, sizeof e2)) {
            hdr h;
            if (cl >= HDR_SIZE) memcpy(&h, ci, sizeof h);
            if (cl >= HDR_SIZE && h.src_size == (uint64_t)len && h.src_mtime_ns == mtime_ns(&st) &&
                !lex_wrap(ci, cl, out, e2, sizeof e2)) {
                (*out)->mapped = 1;
                free(src);
                return 0;
            }
            if (cl) munmap((void *)ci, cl);
        }
    }
    unsigned char *ni;
    size_t nl;
    rc = vx_lex_compile(src, len, &ni, &nl, err, errlen);
    free(src);
    if (rc) return rc;
    hdr h;
    memcpy(&h, ni, sizeof h);
    h.src_size = (uint64_t)len;
    h.src_mtime_ns = mtime_ns(&st);
    memcpy(ni, &h, sizeof h);
    if (have_cache && !write_image(cache, ni, nl)) {
        const unsigned char *ci;
        size_t cl;
        struct stat cst;
        char e2[256];
        if (!map_file(cache, &ci, &cl, &cst, e2, sizeof e2)) {
            if (!lex_wrap(ci, cl, out, e2, sizeof e2)) {
                (*out)->mapped = 1;
                free(ni);
                return 0;
            }
            if (cl) munmap((void *)ci, cl);
        }
    }
    /* not writable (or raced): use the compiled image from memory */
    rc = lex_wrap(ni, nl, out, err, errlen);
    if (rc) {
        free(ni);
        return rc;
    }
    (*out)->owned = ni;
    return 0;
}

vx_lex *vx_lex_ref(vx_lex *l) {
    if (l) atomic_fetch_add(&l->refs, 1);
    return l;
}

void vx_lex_release(vx_lex *l) {
    if (!l || atomic_fetch_sub(&l->refs, 1) != 1) return;
    if (l->mapped && l->len) munmap((void *)l->img, l->len);
    free(l->owned);
    free(l);
}

size_t vx_lex_count(const vx_lex *l) { return l ? l->h.n : 0; }
unsigned vx_lex_max_words(const vx_lex *l) { return l ? l->h.max_words : 0; }

/* ------------------------------------------------------------------ lookup */

int vx_lex_find(const vx_lex *l, const char *key, size_t n, vx_lex_hit *hit) {
    if (!l || !n || n > VX_LEX_MAX_KEY) return 0;
    char f[VX_LEX_MAX_KEY];
    memcpy(f, key, n);
    vx_lex_fold(f, n);
    size_t a = 0, b = l->h.n;
    ent e;
    while (a < b) { /* lower bound of the folded key */
        size_t m = a + (b - a) / 2;
        get_ent(l->index, m, &e);
        if (!ent_ok(&l->h, &e)) return 0;
        size_t k = e.key_len < n ? e.key_len : n;
        int c = memcmp(l->strings + e.key_off, f, k);
        if (c < 0 || (c == 0 && e.key_len < n))
            a = m + 1;
        else
            b = m;
    }
    for (size_t i = a; i < l->h.n; i++) {
        get_ent(l->index, i, &e);
        if (!ent_ok(&l->h, &e)) return 0;
        if (e.key_len != n || memcmp(l->strings + e.key_off, f, n)) break;
        if (e.orig_off != NO_ORIG && memcmp(l->strings + e.orig_off, key, n)) continue;
        hit->value = l->strings + e.val_off;
        hit->value_len = e.val_len;
        hit->kind = e.kind;
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------- hot reload */

#include <pthread.h>
#include <time.h>

struct vx_lex_watch {
    pthread_mutex_t mu;
    char *path;
    unsigned check_ms;
    vx_lex *cur;
    struct stat st; /* of the file cur was loaded from */
    uint64_t last_check_ms;
    unsigned reloads;
    char err[256];
};

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int same_file(const struct stat *a, const struct stat *b) {
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           mtime_ns(a) == mtime_ns(b);
}

int vx_lex_watch_open(const char *path, unsigned check_ms, vx_lex_watch **out, char *err,
                      size_t errlen) {
    *out = NULL;
    vx_lex_watch *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path))) {
        free(w);
        snprintf(err, errlen, "out of memory");
        return VOX_ERR_NOMEM;
    }
    if (stat(path, &w->st)) memset(&w->st, 0, sizeof w->st);
    int rc = vx_lex_open(path, &w->cur, err, errlen);
    if (rc) {
        free(w->path);
        free(w);
        return rc;
    }
    pthread_mutex_init(&w->mu, NULL);
    w->check_ms = check_ms;
    w->last_check_ms = now_ms();
    *out = w;
    return 0;
}

vx_lex *vx_lex_watch_get(vx_lex_watch *w) {
    if (!w) return NULL;
    pthread_mutex_lock(&w->mu);
    uint64_t t = now_ms();
    if (t - w->last_check_ms >= w->check_ms) {
        w->last_check_ms = t;
        struct stat st;
        if (stat(w->path, &st) == 0 && !same_file(&st, &w->st)) {
            vx_lex *n;
            char e[256];
            /* loading happens under the lock: concurrent callers wait for the new map
             * instead of each compiling it; callers already holding the old one go on */
            if (vx_lex_open(w->path, &n, e, sizeof e) == 0) {
                vx_lex *old = w->cur;
                w->cur = n;
                w->st = st;
                w->reloads++;
                w->err[0] = 0;
                vx_lex_release(old);
            } else {
                snprintf(w->err, sizeof w->err, "%s", e);
                w->st = st; /* do not retry a broken file until it changes again */
            }
        }
    }
    vx_lex *r = vx_lex_ref(w->cur);
    pthread_mutex_unlock(&w->mu);
    return r;
}

unsigned vx_lex_watch_status(vx_lex_watch *w, char *buf, size_t cap) {
    pthread_mutex_lock(&w->mu);
    snprintf(buf, cap, "%s", w->err);
    unsigned r = w->reloads;
    pthread_mutex_unlock(&w->mu);
    return r;
}

void vx_lex_watch_free(vx_lex_watch *w) {
    if (!w) return;
    vx_lex_release(w->cur);
    pthread_mutex_destroy(&w->mu);
    free(w->path);
    free(w);
}
