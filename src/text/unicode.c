#include "util/vec.h"
#include "text/unicode.h"
#include <stdlib.h>

uint32_t vx_utf8_next(const char *s, size_t len, size_t *i) {
    const unsigned char *p = (const unsigned char *)s + *i;
    size_t left = len - *i;
    uint32_t c = p[0];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || n > left) {
        (*i)++;
        return 0xFFFD;
    }
    if (n == 1) {
        (*i)++;
        return c;
    }
    c &= 0x7F >> n;
    for (size_t k = 1; k < n; k++) {
        if ((p[k] & 0xC0) != 0x80) {
            (*i)++;
            return 0xFFFD;
        }
        c = (c << 6) | (p[k] & 0x3F);
    }
    /* Overlong forms, surrogates and > U+10FFFF are invalid too. */
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < min_cp[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        (*i)++;
        return 0xFFFD;
    }
    *i += n;
    return c;
}

size_t vx_utf8_put(uint32_t c, char *out) {
    unsigned char *o = (unsigned char *)out;
    if (c < 0x80) {
        o[0] = (unsigned char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = 0xC0 | (c >> 6);
        o[1] = 0x80 | (c & 0x3F);
        return 2;
    }
    if (c < 0x10000) {
        o[0] = 0xE0 | (c >> 12);
        o[1] = 0x80 | ((c >> 6) & 0x3F);
        o[2] = 0x80 | (c & 0x3F);
        return 3;
    }
    o[0] = 0xF0 | (c >> 18);
    o[1] = 0x80 | ((c >> 12) & 0x3F);
    o[2] = 0x80 | ((c >> 6) & 0x3F);
    o[3] = 0x80 | (c & 0x3F);
    return 4;
}

static int in_ranges(const uint32_t (*r)[2], size_t n, uint32_t c) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < r[mid][0])
            hi = mid;
        else if (c > r[mid][1])
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

int vx_uni_isalpha(uint32_t c) { return in_ranges(vx_uni_alpha, vx_uni_alpha_n, c); }
int vx_uni_isalnum(uint32_t c) { return in_ranges(vx_uni_alnum, vx_uni_alnum_n, c); }
int vx_uni_isupper(uint32_t c) { return in_ranges(vx_uni_upper, vx_uni_upper_n, c); }
int vx_uni_islower(uint32_t c) { return in_ranges(vx_uni_lower, vx_uni_lower_n, c); }
int vx_uni_isspace(uint32_t c) { return in_ranges(vx_uni_space, vx_uni_space_n, c); }
int vx_uni_isdigit(uint32_t c) { return c >= '0' && c <= '9'; }

/* espeak-ng's IsAlpha(): its alphabet test plus marks it treats as part of words. */
int vx_uni_isalpha_espeak(uint32_t c) {
    if (vx_uni_isalpha(c)) return 1;
    if (c < 0x300) return 0;
    if (c >= 0x901 && c <= 0xdf7)
        return (c & 0x7f) < 0x64 || c == 0xa70 || c == 0xa71 || (c >= 0xd7a && c <= 0xd7f);
    return (c >= 0x5b0 && c <= 0x5c2) || c == 0x605 || c == 0x670 || (c >= 0x64b && c <= 0x65e) ||
           (c >= 0x300 && c <= 0x36f) || (c >= 0xf40 && c <= 0xfbc) ||
           (c >= 0x1100 && c <= 0x11ff) || (c >= 0x2800 && c <= 0x28ff) ||
           (c > 0x3040 && c <= 0xa700);
}

int vx_uni_ccc(uint32_t c) {
    size_t lo = 0, hi = vx_uni_ccc_tab_n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < vx_uni_ccc_tab[mid].lo)
            hi = mid;
        else if (c > vx_uni_ccc_tab[mid].hi)
            lo = mid + 1;
        else
            return vx_uni_ccc_tab[mid].ccc;
    }
    return 0;
}

static const vx_uni_decomp *find_decomp(uint32_t c) {
    size_t lo = 0, hi = vx_uni_nfd_tab_n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < vx_uni_nfd_tab[mid].cp)
            hi = mid;
        else if (c > vx_uni_nfd_tab[mid].cp)
            lo = mid + 1;
        else
            return &vx_uni_nfd_tab[mid];
    }
    return NULL;
}

static int push(uint32_t c, uint32_t **out, size_t *n, size_t *cap, size_t max) {
    if (*n >= max) return -1;
    if (vx_grow((void **)out, cap, *n + 1, sizeof **out, 64)) return -1;
    (*out)[(*n)++] = c;
    return 0;
}

int vx_uni_nfd(const uint32_t *in, size_t n, uint32_t **out, size_t *n_out, size_t *cap,
               size_t max) {
    size_t start = *n_out;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = in[i];
        if (c >= 0xAC00 && c <= 0xD7A3) { /* Hangul syllable: algorithmic */
            uint32_t s = c - 0xAC00, l = 0x1100 + s / 588, v = 0x1161 + (s % 588) / 28, t = s % 28;
            if (push(l, out, n_out, cap, max) || push(v, out, n_out, cap, max)) return -1;
            if (t && push(0x11A7 + t, out, n_out, cap, max)) return -1;
            continue;
        }
        const vx_uni_decomp *d = find_decomp(c);
        if (!d) {
            if (push(c, out, n_out, cap, max)) return -1;
            continue;
        }
        for (int k = 0; k < 4 && d->d[k]; k++)
            if (push(d->d[k], out, n_out, cap, max)) return -1;
    }
    /* Canonical ordering: stable sort of each run of non-starters by class
     * (insertion sort; runs are short). */
    uint32_t *o = *out;
    for (size_t i = start + 1; i < *n_out; i++) {
        int ci = vx_uni_ccc(o[i]);
        if (!ci) continue;
        size_t j = i;
        uint32_t c = o[i];
        while (j > start) {
            int cj = vx_uni_ccc(o[j - 1]);
            if (cj <= ci) break;
            o[j] = o[j - 1];
            j--;
        }
        o[j] = c;
    }
    return 0;
}
