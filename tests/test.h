/* Minimal test harness: CHECK macros count failures; main returns non-zero on any.
 * Each test program ends with TEST_SUMMARY() which prints "N passed, N failed". */
#ifndef VOX_TEST_H
#define VOX_TEST_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_pass, t_fail;

#define CHECK(cond) do { if (cond) t_pass++; else { t_fail++; \
    fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECKF(cond, ...) do { if (cond) t_pass++; else { t_fail++; \
    fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
#define CHECK_EQ_INT(a, b) do { long long _a = (long long)(a), _b = (long long)(b); \
    CHECKF(_a == _b, "%lld != %lld", _a, _b); } while (0)
#define CHECK_NEAR(a, b, tol) do { double _a = (a), _b = (b); \
    CHECKF(fabs(_a - _b) <= (tol), "%.9g vs %.9g (tol %g)", _a, _b, (double)(tol)); } while (0)
#define CHECK_STR(a, b) do { const char *_a = (a), *_b = (b); \
    CHECKF(_a && _b && !strcmp(_a, _b), "'%s' != '%s'", _a ? _a : "(null)", _b ? _b : "(null)"); } while (0)

#define TEST_SUMMARY() do { printf("%d passed, %d failed\n", t_pass, t_fail); \
    return t_fail ? 1 : 0; } while (0)

/* Path of ../shared (env VOX_SHARED, else ../shared from the repo root). */
static inline const char *test_shared_dir(void) {
    const char *s = getenv("VOX_SHARED");
    return s && *s ? s : "../shared";
}
#endif
