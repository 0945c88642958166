/* Minimal test harness: CHECK macros count failures; main returns non-zero on any.
 * Each test program ends with TEST_SUMMARY() which prints "N passed, N failed"; a program
 * that ran no check at all fails (it tested nothing). TEST_SKIP(reason) ends a program
 * that cannot test here (a CPU path this machine lacks) with exit code 77, which ctest
 * reports as "Not Run"/skipped (SKIP_RETURN_CODE), never as passed. */
#ifndef VOX_TEST_H
#define VOX_TEST_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int t_pass, t_fail;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond)                                                                                  \
            t_pass++;                                                                              \
        else {                                                                                     \
            t_fail++;                                                                              \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                        \
        }                                                                                          \
    } while (0)
#define CHECKF(cond, ...)                                                                          \
    do {                                                                                           \
        if (cond)                                                                                  \
            t_pass++;                                                                              \
        else {                                                                                     \
            t_fail++;                                                                              \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)
#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long _a = (long long)(a), _b = (long long)(b);                                        \
        CHECKF(_a == _b, "%lld != %lld", _a, _b);                                                  \
    } while (0)
#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double _a = (a), _b = (b);                                                                 \
        CHECKF(fabs(_a - _b) <= (tol), "%.9g vs %.9g (tol %g)", _a, _b, (double)(tol));            \
    } while (0)
#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *_a = (a), *_b = (b);                                                           \
        CHECKF(_a &&_b && !strcmp(_a, _b), "'%s' != '%s'", _a ? _a : "(null)",                     \
               _b ? _b : "(null)");                                                                \
    } while (0)

#define TEST_SKIP_CODE 77
#define TEST_SKIP(...)                                                                             \
    do {                                                                                           \
        printf("SKIP: ");                                                                          \
        printf(__VA_ARGS__);                                                                       \
        putchar('\n');                                                                             \
        exit(TEST_SKIP_CODE);                                                                      \
    } while (0)
#define TEST_SUMMARY()                                                                             \
    do {                                                                                           \
        printf("%d passed, %d failed\n", t_pass, t_fail);                                          \
        if (!t_pass && !t_fail) {                                                                  \
            printf("FAIL: no check ran\n");                                                        \
            return 1;                                                                              \
        }                                                                                          \
        return t_fail ? 1 : 0;                                                                     \
    } while (0)

/* SNR in dB of out against ref with the reference's mean removed, as ../shared/README.md
 * defines equality: 10*log10(sum (r - mean r)^2 / sum (o - r)^2); 999 when identical. */
static inline double test_snr_db(const float *ref, const float *out, size_t n) {
    double mean = 0, sig = 0, noise = 0;
    for (size_t i = 0; i < n; i++) mean += ref[i];
    mean /= n ? (double)n : 1;
    for (size_t i = 0; i < n; i++) {
        double r = ref[i] - mean, e = (double)out[i] - ref[i];
        sig += r * r;
        noise += e * e;
    }
    if (noise == 0) return 999;
    return 10 * log10(sig / noise);
}

/* Path of ../shared (env VOX_SHARED, else ../shared from the repo root). */
/* A whole file, NUL-terminated (for text), its size in *len if len; NULL on any error. */
static inline char *test_slurp(const char *path, long *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    if (!fseek(f, 0, SEEK_END)) {
        long n = ftell(f);
        if (n >= 0 && n < (1L << 30) && !fseek(f, 0, SEEK_SET) && (buf = malloc((size_t)n + 1))) {
            if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
                free(buf);
                buf = NULL;
            } else {
                buf[n] = 0;
                if (len) *len = n;
            }
        }
    }
    fclose(f);
    return buf;
}

/* Re-runs this test binary (self = argv[0]) with the environment pairs env[0] = env[1],
 * env[2] = env[3], ... (NULL-terminated) set; returns the child's exit status (-1 when it
 * could not run, 128 when it did not exit normally). */
static inline int test_run_child(const char *self, const char *const *env) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; env[i] && env[i + 1]; i += 2) setenv(env[i], env[i + 1], 1);
        execl(self, self, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static inline const char *test_shared_dir(void) {
    const char *s = getenv("VOX_SHARED");
    return s && *s ? s : "../shared";
}
#endif
