/* Packed-weight cache files (pack_cache.h has the why and the rules). */
#include "engine/pack_cache.h"
#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char MAGIC[8] = {'V', 'O', 'X', 'P', 'A', 'C', 'K', '1'};
#define SUFFIX ".vxpack"

typedef struct cache_hdr {
    char magic[8];
    uint64_t key[2];
    uint64_t bytes;
    uint64_t checksum;
} cache_hdr;

const char *vx_pack_cache_dir(const char *opt, char *buf, size_t n) {
    const char *v = opt ? opt : getenv("VOX_PACK_CACHE");
    if (v && (!*v || !strcmp(v, "off") || !strcmp(v, "0"))) return NULL;
    int w;
    if (v)
        w = snprintf(buf, n, "%s", v);
    else if (getenv("XDG_CACHE_HOME") && *getenv("XDG_CACHE_HOME") == '/')
        w = snprintf(buf, n, "%s/vox/pack", getenv("XDG_CACHE_HOME"));
    else if (getenv("HOME") && *getenv("HOME") == '/')
        w = snprintf(buf, n, "%s/.cache/vox/pack", getenv("HOME"));
    else
        return NULL;
    return w > 0 && (size_t)w < n ? buf : NULL;
}

/* ---------------------------------------------------------------- hashing */

static uint64_t rotl(uint64_t x, int r) { return x << r | x >> (64 - r); }
static uint64_t mix(uint64_t h, uint64_t w) {
    h ^= w * 0x9E3779B97F4A7C15ull;
    return rotl(h, 27) * 0xC2B2AE3D27D4EB4Full + 0x165667B19E3779F9ull;
}
static uint64_t fin(uint64_t h) {
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    return h ^ h >> 33;
}

/* Four independent lanes so the multiplies overlap: the check of a 60 MB file runs at
 * memory speed, not at one multiply latency per word. */
uint64_t vx_pack_checksum(const void *p, size_t n) {
    const unsigned char *b = p;
    uint64_t a[4] = {1, 2, 3, 4}, w;
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int l = 0; l < 4; l++) {
            memcpy(&w, b + i + 8 * l, 8);
            a[l] = mix(a[l], w);
        }
    for (; i < n; i++) a[0] = mix(a[0], b[i]);
    return fin(a[0] ^ rotl(a[1], 16) ^ rotl(a[2], 32) ^ rotl(a[3], 48) ^ n);
}

void vx_pack_key_add(vx_pack_key *k, uint64_t w) {
    k->h[0] = mix(k->h[0], w);
    k->h[1] = mix(k->h[1] ^ 0x5851F42D4C957F2Dull, rotl(w, 17));
}

void vx_pack_key_str(vx_pack_key *k, const char *s) {
    size_t n = s ? strlen(s) : 0;
    vx_pack_key_add(k, n);
    for (size_t i = 0; i < n; i++) vx_pack_key_add(k, (unsigned char)s[i]);
}

/* The ELF build-id of the object holding this code (the vox executable, or libvox.so). */
typedef struct bid_find {
    uintptr_t addr;
    unsigned char id[64];
    size_t n;
} bid_find;

static int bid_cb(struct dl_phdr_info *info, size_t size, void *arg) {
    (void)size;
    bid_find *f = arg;
    int mine = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && f->addr >= lo && f->addr < lo + ph->p_memsz) mine = 1;
    }
    if (!mine) return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE) continue;
        const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        const unsigned char *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
            size_t nsz = (nh->n_namesz + 3) & ~(size_t)3, dsz = (nh->n_descsz + 3) & ~(size_t)3;
            const unsigned char *name = p + sizeof *nh, *desc = name + nsz;
            if (desc + dsz > end) break;
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && !memcmp(name, "GNU", 4) &&
                nh->n_descsz && nh->n_descsz <= sizeof f->id) {
                memcpy(f->id, desc, nh->n_descsz);
                f->n = nh->n_descsz;
                return 1;
            }
            p = desc + dsz;
        }
    }
    return 1; /* our object, without a build-id */
}

static bid_find build_id; /* the same for the whole process: found once */
static void find_build_id(void) {
    build_id.addr = (uintptr_t)&vx_pack_key_init;
    dl_iterate_phdr(bid_cb, &build_id);
}

int vx_pack_key_init(vx_pack_key *k) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, find_build_id);
    const bid_find *f = &build_id;
    k->h[0] = 0x243F6A8885A308D3ull;
    k->h[1] = 0x13198A2E03707344ull;
    if (!f->n) return -1;
    vx_pack_key_add(k, f->n);
    for (size_t i = 0; i < f->n; i++) vx_pack_key_add(k, f->id[i]);
    return 0;
}

/* ---------------------------------------------------------------- files */

static int path_for(char *buf, size_t n, const char *dir, const vx_pack_key *key) {
    int w = snprintf(buf, n, "%s/%016llx%016llx" SUFFIX, dir, (unsigned long long)key->h[0],
                     (unsigned long long)key->h[1]);
    return w > 0 && (size_t)w < n ? 0 : -1;
}

/* The file for key (path into path[4096]), open with flags, its header read into h and
 * checked (magic, key): the fd, -1 when there is no such file, -2 when the header is not
 * ours (closed). */
static int open_checked(const char *dir, const vx_pack_key *key, int flags, char *path,
                        cache_hdr *h) {
    if (!dir || path_for(path, 4096, dir, key)) return -1;
    int fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0 && (pread(fd, h, sizeof *h, 0) != (ssize_t)sizeof *h ||
                    memcmp(h->magic, MAGIC, 8) || h->key[0] != key->h[0] || h->key[1] != key->h[1])) {
        close(fd);
        fd = -2;
    }
    return fd;
}

void *vx_pack_cache_get(const char *dir, const vx_pack_key *key, size_t n) {
    char path[4096];
    cache_hdr h;
    if (!n) return NULL;
    int fd = open_checked(dir, key, O_RDONLY, path, &h);
    if (fd == -1) return NULL;
    struct stat st;
    void *m = MAP_FAILED;
    if (fd >= 0 && !fstat(fd, &st) && S_ISREG(st.st_mode) &&
        (uint64_t)st.st_size == VX_PACK_CACHE_HDR + (uint64_t)n && h.bytes == n)
        /* MAP_POPULATE: one call maps every page (they are in the page cache after the
         * first load) instead of a fault per 64 KiB while the checksum reads them */
        m = mmap(NULL, n, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, VX_PACK_CACHE_HDR);
    if (m != MAP_FAILED && vx_pack_checksum(m, n) != h.checksum) {
        munmap(m, n);
        m = MAP_FAILED;
    }
    if (m == MAP_FAILED) {
        if (fd >= 0) close(fd);
        unlink(path); /* not whole or not intact: the caller packs and stores it again */
        return NULL;
    }
    futimens(fd, NULL); /* used now: the eviction keeps recently used files */
    close(fd);
    return m;
}

/* Aux records live at AUX_OFF in the header block. */
_Static_assert(1024 + VX_PACK_AUX_SLOTS * (VX_PACK_AUX_NAME + 8 + VX_PACK_AUX_BYTES + 8) <=
                   VX_PACK_CACHE_HDR,
               "aux records fit the header block");
#define AUX_OFF 1024
typedef struct aux_rec {
    char name[VX_PACK_AUX_NAME];
    uint64_t n;
    unsigned char val[VX_PACK_AUX_BYTES];
    uint64_t check; /* over key, name, n and val: a torn write or another key fails it */
} aux_rec;

static uint64_t aux_check(const vx_pack_key *key, const aux_rec *r) {
    vx_pack_key k = *key;
    vx_pack_key_add(&k, vx_pack_checksum(r, offsetof(aux_rec, check)));
    return k.h[0] ^ k.h[1];
}

int vx_pack_cache_aux_get(const char *dir, const vx_pack_key *key, const char *name, void *val,
                          size_t n) {
    if (!name || strlen(name) >= VX_PACK_AUX_NAME || n > VX_PACK_AUX_BYTES) return -1;
    char path[4096];
    cache_hdr h;
    int fd = open_checked(dir, key, O_RDONLY, path, &h);
    if (fd < 0) return -1;
    aux_rec t[VX_PACK_AUX_SLOTS];
    int rc = -1;
    if (pread(fd, t, sizeof t, AUX_OFF) == (ssize_t)sizeof t)
        for (int i = 0; i < VX_PACK_AUX_SLOTS && rc; i++)
            if (!strncmp(t[i].name, name, VX_PACK_AUX_NAME) && t[i].n == n &&
                t[i].check == aux_check(key, &t[i])) {
                memcpy(val, t[i].val, n);
                rc = 0;
            }
    close(fd);
    return rc;
}

int vx_pack_cache_aux_put(const char *dir, const vx_pack_key *key, const char *name,
                          const void *val, size_t n) {
    if (!name || strlen(name) >= VX_PACK_AUX_NAME || n > VX_PACK_AUX_BYTES) return -1;
    char path[4096];
    cache_hdr h;
    int fd = open_checked(dir, key, O_RDWR, path, &h);
    if (fd < 0) return -1;
    aux_rec t[VX_PACK_AUX_SLOTS], r = {0};
    int slot = -1;
    if (pread(fd, t, sizeof t, AUX_OFF) == (ssize_t)sizeof t)
        for (int i = 0; i < VX_PACK_AUX_SLOTS; i++) {
            int same = !strncmp(t[i].name, name, VX_PACK_AUX_NAME);
            if (same || (slot < 0 && (!t[i].name[0] || t[i].check != aux_check(key, &t[i]))))
                slot = i;
            if (same) break;
        }
    snprintf(r.name, sizeof r.name, "%s", name);
    r.n = n;
    memcpy(r.val, val, n);
    r.check = aux_check(key, &r);
    int rc = slot >= 0 && pwrite(fd, &r, sizeof r, AUX_OFF + (off_t)slot * (off_t)sizeof r) ==
                              (ssize_t)sizeof r
                 ? 0
                 : -1;
    close(fd);
    return rc;
}

static int mkdirs(const char *dir) {
    char p[4096];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) return -1;
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0700) && errno != EEXIST) return -1;
            *s = '/';
        }
    return mkdir(p, 0700) && errno != EEXIST ? -1 : 0;
}

typedef struct entry {
    char name[64];
    off_t size;
    struct timespec used;
} entry;

static int older(const void *a, const void *b) {
    const entry *x = a, *y = b;
    if (x->used.tv_sec != y->used.tv_sec) return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
    return x->used.tv_nsec < y->used.tv_nsec ? -1 : x->used.tv_nsec > y->used.tv_nsec;
}

/* Least recently used cache files go until the directory is within its limit; keep is
 * the file just written. Only our own names (hex + SUFFIX) are ever removed. */
static void evict(const char *dir, const char *keep) {
    const char *e = getenv("VOX_PACK_CACHE_MAX_MB");
    long long max_mb = e && *e ? atoll(e) : VX_PACK_CACHE_MAX_MB_DEFAULT;
    if (max_mb < 0) max_mb = 0;
    DIR *d = opendir(dir);
    if (!d) return;
    entry *v = NULL;
    size_t n = 0, cap = 0;
    long long total = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        int tmp = !strncmp(de->d_name, ".tmp.", 5);
        if (!tmp && (l != 32 + strlen(SUFFIX) || strcmp(de->d_name + 32, SUFFIX))) continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
            continue;
        if (tmp) { /* left by a process that died while writing: gone after an hour */
            if (st.st_mtime + 3600 < time(NULL)) unlinkat(dirfd(d), de->d_name, 0);
            continue;
        }
        total += st.st_size;
        if (!strcmp(de->d_name, keep)) continue;
        if (n == cap) {
            entry *nv = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof *v);
            if (!nv) break;
            v = nv;
        }
        memcpy(v[n].name, de->d_name, l + 1);
        v[n].size = st.st_size;
        v[n].used = st.st_mtim;
        n++;
    }
    if (n) qsort(v, n, sizeof *v, older);
    for (size_t i = 0; i < n && total > max_mb * 1048576; i++)
        if (!unlinkat(dirfd(d), v[i].name, 0)) total -= v[i].size;
    closedir(d);
    free(v);
}

static int write_all(int fd, const void *data, size_t n) {
    const char *p = data;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int vx_pack_cache_put(const char *dir, const vx_pack_key *key, const void *data, size_t n) {
    char path[4096], tmp[4096];
    if (!dir || !n || path_for(path, sizeof path, dir, key) || mkdirs(dir)) return -1;
    if (snprintf(tmp, sizeof tmp, "%s/.tmp.XXXXXX", dir) >= (int)sizeof tmp) return -1;
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) return -1;
    cache_hdr h = {.key = {key->h[0], key->h[1]}, .bytes = n};
    memcpy(h.magic, MAGIC, 8);
    h.checksum = vx_pack_checksum(data, n);
    char blk[VX_PACK_CACHE_HDR] = {0};
    memcpy(blk, &h, sizeof h);
    int ok = !write_all(fd, blk, sizeof blk) && !write_all(fd, data, n);
    if (close(fd)) ok = 0;
    if (!ok || rename(tmp, path)) {
        unlink(tmp);
        return -1;
    }
    evict(dir, strrchr(path, '/') + 1);
    return 0;
}
