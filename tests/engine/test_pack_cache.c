/* The packed-weight cache (engine/pack_cache.h) on a copy of the shared x_low voice:
 *  - the directory rule (option, $VOX_PACK_CACHE, $XDG_CACHE_HOME, "off");
 *  - a first load packs and stores, the next one maps the file ("hit"), per precision;
 *  - audio through the public API is bit-identical with the cache off, on a store and on
 *    a hit (fp32 and bf16), and with the cache dir given as an option;
 *  - a damaged file (one byte flipped, or cut short) is never used: the load packs again,
 *    rewrites the file, and the audio is still identical;
 *  - touching the model file (new mtime) makes a new key;
 *  - eviction keeps the directory within VOX_PACK_CACHE_MAX_MB and removes only its own
 *    files; a directory that cannot be created only means no cache. */
#include "test.h"
#include "engine/graph.h"
#include "engine/pack_cache.h"
#include "vox.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256], model[320];

static int copy_file(const char *from, const char *to) {
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    char buf[1 << 16];
    size_t n;
    int ok = a && b;
    while (ok && (n = fread(buf, 1, sizeof buf, a)) > 0) ok = fwrite(buf, 1, n, b) == n;
    if (a) fclose(a);
    if (b && fclose(b)) ok = 0;
    return ok ? 0 : -1;
}

/* cache files in dir (name of the last one found into last) */
static int n_files(char *last, size_t n) {
    DIR *d = opendir(dir);
    int k = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (strstr(de->d_name, ".vxpack")) {
            k++;
            if (last) snprintf(last, n, "%s/%s", dir, de->d_name);
        }
    if (d) closedir(d);
    return k;
}

static const char *load_state(int precision) {
    vx_graph *g = NULL;
    char err[512];
    vx_graph_opts o = {.precision = precision, .pack_cache = dir};
    if (vx_graph_load_opts(model, &o, &g, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return "error";
    }
    static char st[16];
    snprintf(st, sizeof st, "%s", vx_graph_pack_cache(g));
    vx_graph_free(g);
    return st;
}

/* A value stored with the cache file of model at precision p (vx_graph_cache_aux_get). */
static int aux(int precision, const char *name, float *v) {
    vx_graph *g = NULL;
    char err[512];
    vx_graph_opts o = {.precision = precision, .pack_cache = dir};
    if (vx_graph_load_opts(model, &o, &g, err, sizeof err)) return -2;
    int rc = vx_graph_cache_aux_get(g, name, v, sizeof *v);
    vx_graph_free(g);
    return rc;
}

/* Noise on with a fixed seed: the weights of every stage show in the samples. */
static float *speak(int precision, const char *cache, size_t *n) {
    vox_load_options lo;
    vox_load_options_init(&lo);
    lo.threads = 2;
    lo.precision = precision;
    lo.pack_cache = cache;
    vox_voice *v = NULL;
    char err[512];
    *n = 0;
    if (vox_voice_load(model, &lo, &v, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    vox_synth_options o;
    vox_synth_options_init(&o);
    o.seed = 7;
    vox_synth *s = NULL;
    const char *text = "Packed weights, mapped again.";
    float *x = NULL;
    int rc = vox_synth_start(v, text, strlen(text), &o, &s);
    vox_chunk c;
    while (!rc && !(rc = vox_synth_next(s, &c))) {
        if (c.n_samples) {
            x = realloc(x, (*n + c.n_samples) * sizeof *x);
            memcpy(x + *n, c.samples, c.n_samples * sizeof *x);
            *n += c.n_samples;
        }
        if (c.last) break;
    }
    vox_synth_free(s);
    vox_voice_free(v);
    if (rc) {
        free(x);
        *n = 0;
        return NULL;
    }
    return x;
}

static int same_audio(const float *a, size_t na, const float *b, size_t nb) {
    return a && b && na == nb && na > 1000 && !memcmp(a, b, na * sizeof *a);
}

/* flip one byte at off, or cut the file to off bytes */
static void damage(const char *path, long off, int cut) {
    if (cut) {
        CHECK(truncate(path, off) == 0);
        return;
    }
    int fd = open(path, O_RDWR);
    unsigned char b = 0;
    CHECK(fd >= 0 && pread(fd, &b, 1, off) == 1);
    b ^= 0x40;
    CHECK(fd >= 0 && pwrite(fd, &b, 1, off) == 1);
    if (fd >= 0) close(fd);
}

int main(void) {
    char buf[512], src[512], last[600];
    /* the directory rule */
    CHECK(vx_pack_cache_dir("off", buf, sizeof buf) == NULL);
    CHECK(vx_pack_cache_dir("", buf, sizeof buf) == NULL);
    CHECK(vx_pack_cache_dir("/x/y", buf, sizeof buf) && !strcmp(buf, "/x/y"));
    setenv("VOX_PACK_CACHE", "off", 1);
    CHECK(vx_pack_cache_dir(NULL, buf, sizeof buf) == NULL);
    unsetenv("VOX_PACK_CACHE");
    setenv("XDG_CACHE_HOME", "/tmp/xdg", 1);
    CHECK(vx_pack_cache_dir(NULL, buf, sizeof buf) && !strcmp(buf, "/tmp/xdg/vox/pack"));
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/home/u", 1);
    CHECK(vx_pack_cache_dir(NULL, buf, sizeof buf) && !strcmp(buf, "/home/u/.cache/vox/pack"));
    /* the checksum sees a flipped bit anywhere */
    static unsigned char blob[4099];
    for (size_t i = 0; i < sizeof blob; i++) blob[i] = (unsigned char)(i * 7);
    uint64_t c0 = vx_pack_checksum(blob, sizeof blob);
    int all = 1;
    for (size_t i = 0; i < sizeof blob; i += 97) {
        blob[i] ^= 1;
        all &= vx_pack_checksum(blob, sizeof blob) != c0;
        blob[i] ^= 1;
    }
    CHECK(all);

    vx_pack_key k;
    if (vx_pack_key_init(&k)) TEST_SKIP("this build has no ELF build-id: the cache is off");

    snprintf(dir, sizeof dir, "/tmp/vox_pack_cache_XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    char mdir[300];
    snprintf(mdir, sizeof mdir, "%s/m", dir);
    CHECK(mkdir(mdir, 0700) == 0);
    snprintf(model, sizeof model, "%s/voice.onnx", mdir);
    snprintf(src, sizeof src, "%s/models/en_US-rand3spk-x_low.onnx", test_shared_dir());
    CHECK(copy_file(src, model) == 0);
    snprintf(src, sizeof src, "%s/models/en_US-rand3spk-x_low.onnx.json", test_shared_dir());
    snprintf(buf, sizeof buf, "%s.json", model);
    CHECK(copy_file(src, buf) == 0);

    /* store, then hit, per precision: one file each */
    CHECK_STR(load_state(0), "stored");
    CHECK_EQ_INT(n_files(NULL, 0), 1);
    CHECK_STR(load_state(0), "hit");
    CHECK_STR(load_state(1), "stored");
    CHECK_STR(load_state(1), "hit");
    CHECK_EQ_INT(n_files(NULL, 0), 2);

    /* audio: off / hit with the gain computed and stored / hit with the stored gain */
    for (int p = 0; p <= 1; p++) {
        size_t n0, n1, n2;
        float gain = 0;
        CHECK(aux(p, "piper/steady_gain", &gain) == -1); /* graph loads store no gain */
        float *a = speak(p, "off", &n0), *b = speak(p, dir, &n1);
        CHECK(aux(p, "piper/steady_gain", &gain) == 0 && gain > 0);
        float *c = speak(p, dir, &n2);
        CHECKF(same_audio(a, n0, b, n1), "precision %d: %zu / %zu samples, cached differ", p, n0,
               n1);
        CHECKF(same_audio(a, n0, c, n2), "precision %d: stored gain: audio differs", p);
        free(a);
        free(b);
        free(c);
    }
    /* aux records: round trip, size must match, at most
     * VX_PACK_AUX_SLOTS names */
    {
        vx_graph *g = NULL;
        char err[512];
        vx_graph_opts o = {.precision = 0, .pack_cache = dir};
        CHECK_EQ_INT(vx_graph_load_opts(model, &o, &g, err, sizeof err), 0);
        double d = 2.5, e = 0;
        float f = 0;
        CHECK_EQ_INT(vx_graph_cache_aux_put(g, "t/x", &d, sizeof d), 0);
        CHECK(vx_graph_cache_aux_get(g, "t/x", &e, sizeof e) == 0 && e == 2.5);
        CHECK_EQ_INT(vx_graph_cache_aux_get(g, "t/x", &f, sizeof f), -1);
        CHECK_EQ_INT(vx_graph_cache_aux_get(g, "t/y", &e, sizeof e), -1);
        char big[VX_PACK_AUX_BYTES + 1] = {0}, name[40];
        CHECK_EQ_INT(vx_graph_cache_aux_put(g, "t/big", big, sizeof big), -1);
        int stored = 0;
        for (int i = 0; i < VX_PACK_AUX_SLOTS + 2; i++) {
            snprintf(name, sizeof name, "t/%d", i);
            stored += !vx_graph_cache_aux_put(g, name, &d, sizeof d);
        }
        CHECK_EQ_INT(stored, VX_PACK_AUX_SLOTS - 2); /* the gain and t/x hold two */
        CHECK(vx_graph_cache_aux_get(g, "t/x", &e, sizeof e) == 0 && e == 2.5);
        vx_graph_free(g);
    }

    /* damage: a flipped byte in the data, then a cut file: repacked, rewritten, same audio */
    size_t nr;
    float *ref = speak(0, "off", &nr);
    for (int cut = 0; cut <= 1; cut++) {
        /* the fp32 file is the one the first load of precision 0 finds */
        CHECK_STR(load_state(0), "hit");
        DIR *d = opendir(dir);
        struct dirent *de;
        char victim[600] = "";
        struct stat st;
        /* find the fp32 file: the one a precision-0 hit just touched last */
        struct timespec newest = {0, 0};
        while (d && (de = readdir(d))) {
            if (!strstr(de->d_name, ".vxpack")) continue;
            snprintf(last, sizeof last, "%s/%s", dir, de->d_name);
            if (!stat(last, &st) && (st.st_mtim.tv_sec > newest.tv_sec ||
                                     (st.st_mtim.tv_sec == newest.tv_sec &&
                                      st.st_mtim.tv_nsec > newest.tv_nsec))) {
                newest = st.st_mtim;
                snprintf(victim, sizeof victim, "%s", last);
            }
        }
        if (d) closedir(d);
        CHECK(victim[0] && !stat(victim, &st));
        damage(victim, cut ? st.st_size - 1 : 4096 + (st.st_size - 4096) / 2, cut);
        CHECKF(!strcmp(load_state(0), "stored"), "damaged file (%s) used", cut ? "cut" : "flip");
        size_t n;
        float *a = speak(0, dir, &n);
        CHECKF(same_audio(ref, nr, a, n), "after a %s file: audio differs", cut ? "cut" : "flipped");
        free(a);
        CHECK_STR(load_state(0), "hit");
    }
    free(ref);

    /* a touched model file is a new key */
    struct timespec ts[2] = {{0, UTIME_OMIT}, {1000000000, 0}};
    CHECK(utimensat(AT_FDCWD, model, ts, 0) == 0);
    int before = n_files(NULL, 0);
    CHECK_STR(load_state(0), "stored");
    CHECK_EQ_INT(n_files(NULL, 0), before + 1);

    /* eviction: with a 0 MiB limit only the file just written stays; other names stay */
    snprintf(buf, sizeof buf, "%s/notes.txt", dir);
    FILE *f = fopen(buf, "w");
    if (f) fclose(f);
    setenv("VOX_PACK_CACHE_MAX_MB", "0", 1);
    CHECK_STR(load_state(0), "hit"); /* a hit never evicts */
    CHECK(n_files(NULL, 0) >= 2);
    struct timespec ts2[2] = {{0, UTIME_OMIT}, {2000000000, 0}};
    CHECK(utimensat(AT_FDCWD, model, ts2, 0) == 0);
    CHECK_STR(load_state(1), "stored");
    CHECK_EQ_INT(n_files(NULL, 0), 1);
    CHECK(access(buf, F_OK) == 0);
    unsetenv("VOX_PACK_CACHE_MAX_MB");

    /* a directory that cannot be made: no cache, the load still works */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/notes.txt/sub", dir);
    {
        vx_graph *g = NULL;
        char err[512];
        vx_graph_opts o = {.pack_cache = bad};
        CHECK_EQ_INT(vx_graph_load_opts(model, &o, &g, err, sizeof err), 0);
        CHECK_STR(vx_graph_pack_cache(g), "miss");
        vx_graph_free(g);
    }

    /* clean up */
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, ".."))) continue;
        snprintf(last, sizeof last, "%s/%s", dir, de->d_name);
        unlink(last);
    }
    if (d) closedir(d);
    snprintf(last, sizeof last, "%s/voice.onnx.json", mdir);
    unlink(last);
    unlink(model);
    rmdir(mdir);
    rmdir(dir);
    TEST_SUMMARY();
}
