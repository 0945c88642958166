/* vx_grow / VX_VEC: growth keeps contents, overflow is refused with the array intact. */
#include "test.h"
#include "util/vec.h"
#include <stdint.h>

int main(void) {
    VX_VEC(int) v = {0};
    for (int i = 0; i < 1000; i++) CHECK_EQ_INT(vx_vec_push(&v, i * 3), 0);
    CHECK_EQ_INT(v.n, 1000);
    CHECK(v.cap >= 1000 && v.cap < 4096);
    int ok = 1;
    for (int i = 0; i < 1000; i++) ok &= v.v[i] == i * 3;
    CHECK(ok);
    int *before = v.v;
    size_t cap = v.cap;
    CHECK_EQ_INT(vx_grow((void **)&v.v, &v.cap, SIZE_MAX / 2, sizeof *v.v, 16), -1);
    CHECK(v.v == before && v.cap == cap);
    CHECK_EQ_INT(vx_grow((void **)&v.v, &v.cap, 10, sizeof *v.v, 16), 0); /* no shrink */
    CHECK(v.cap == cap);
    free(v.v);
    TEST_SUMMARY();
}
