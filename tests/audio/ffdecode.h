/* Test helpers: decode a file with Debian's ffmpeg (an independent decoder) and probe it. */
#ifndef VOX_TEST_FFDECODE_H
#define VOX_TEST_FFDECODE_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int rate, channels;
    char codec[32];
} ff_probe_info;

static int write_file(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(p, 1, n, f);
    return fclose(f) || w != n ? -1 : 0;
}

static void *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc(len > 0 ? (size_t)len : 1);
    *n = p ? fread(p, 1, (size_t)len, f) : 0;
    fclose(f);
    return p;
}

/* rawspec: NULL for self-describing files, else ffmpeg input options ("-f s16le -ar 24000"). */
static int ff_probe(const char *path, const char *rawspec, ff_probe_info *out) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "ffprobe -v error %s -select_streams a:0 -show_entries "
             "stream=sample_rate,channels,codec_name -of default=nw=1 '%s' 2>&1",
             rawspec ? rawspec : "", path);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    memset(out, 0, sizeof *out);
    char line[256];
    while (fgets(line, sizeof line, p)) {
        if (!strncmp(line, "sample_rate=", 12))
            out->rate = atoi(line + 12);
        else if (!strncmp(line, "channels=", 9))
            out->channels = atoi(line + 9);
        else if (!strncmp(line, "codec_name=", 11))
            sscanf(line + 11, "%31s", out->codec);
    }
    return pclose(p) == 0 && out->rate > 0 ? 0 : -1;
}

/* Decode to interleaved float at the stream's own rate (out_rate 0) or resampled to out_rate.
 * Returns malloc'd samples, *frames per channel; NULL if ffmpeg failed. */
static float *ff_decode(const char *path, const char *rawspec, int channels, int out_rate,
                        size_t *frames) {
    char out[600], cmd[1400], ar[32] = "";
    snprintf(out, sizeof out, "%s.dec.f32", path);
    if (out_rate) snprintf(ar, sizeof ar, "-ar %d", out_rate);
    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostdin -v error -y %s -i '%s' -f f32le -acodec pcm_f32le "
             "%s '%s'",
             rawspec ? rawspec : "", path, ar, out);
    if (system(cmd) != 0) return NULL;
    size_t n = 0;
    float *s = read_file(out, &n);
    remove(out);
    *frames = n / sizeof(float) / (size_t)channels;
    return s;
}

/* Best lag (decoded[k + lag] ~ ref[k]) in [0, max_lag] by normalized cross-correlation over
 * the mono ref; returns the correlation at that lag in *corr. */
static int best_lag(const float *ref, size_t nref, const float *dec, size_t ndec, int max_lag,
                    double *corr) {
    int best = 0;
    double bc = -2;
    for (int lag = 0; lag <= max_lag; lag++) {
        size_t n = nref;
        if ((size_t)lag >= ndec) break;
        if (n > ndec - lag) n = ndec - lag;
        double sxy = 0, sxx = 0, syy = 0;
        for (size_t i = 0; i < n; i++) {
            double x = ref[i], y = dec[i + lag];
            sxy += x * y;
            sxx += x * x;
            syy += y * y;
        }
        double c = sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : 0;
        if (c > bc) {
            bc = c;
            best = lag;
        }
    }
    *corr = bc;
    return best;
}
#endif
