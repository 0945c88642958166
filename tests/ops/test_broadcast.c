/* Broadcast planner: result shapes, merged plans and row offsets checked against a
 * naive per-element index computation. */
#include "test.h"
#include "ops/broadcast.h"

/* Naive offset of output element `e` in an input of shape (nd, d) broadcast to (ond, od). */
static int64_t naive_off(int ond, const int64_t *od, int nd, const int64_t *d, int64_t e) {
    int64_t off = 0, stride = 1;
    for (int i = ond - 1; i >= 0; i--) {
        int64_t ix = e % od[i];
        e /= od[i];
        int ax = i - (ond - nd);
        if (ax < 0) continue;
        if (d[ax] != 1) off += ix * stride;
        stride *= d[ax];
    }
    return off;
}

/* Walk the plan and compare every element's input offsets with the naive ones. */
static int plan_matches(int n, const int *nds, const int64_t *const *ds) {
    vx_bcast b;
    if (vx_bcast_init_dims(&b, n, nds, ds)) return 0;
    vx_bcast_pos p;
    vx_bcast_start(&b, &p);
    int64_t e = 0;
    for (int64_t r = 0; r < b.outer; r++, vx_bcast_next(&b, &p)) {
        int64_t roff[VX_BCAST_MAX_IN];
        vx_bcast_row(&b, r, roff);
        for (int k = 0; k < n; k++)
            if (roff[k] != p.off[k]) return 0;
        for (int64_t j = 0; j < b.inner; j++, e++)
            for (int k = 0; k < n; k++)
                if (p.off[k] + j * b.istride[k] !=
                    naive_off(b.out_ndim, b.out_dims, nds[k], ds[k], e))
                    return 0;
    }
    return e == b.numel;
}

int main(void) {
    vx_bcast b;
    { /* [3,1] + [1,4] -> [3,4] */
        int64_t a[] = {3, 1}, c[] = {1, 4};
        int nds[] = {2, 2};
        const int64_t *ds[] = {a, c};
        CHECK_EQ_INT(vx_bcast_init_dims(&b, 2, nds, ds), 0);
        CHECK_EQ_INT(b.out_ndim, 2);
        CHECK_EQ_INT(b.out_dims[0], 3);
        CHECK_EQ_INT(b.out_dims[1], 4);
        CHECK_EQ_INT(b.numel, 12);
        CHECK_EQ_INT(b.inner, 4);
        CHECK_EQ_INT(b.outer, 3);
        CHECK_EQ_INT(b.istride[0], 0);
        CHECK_EQ_INT(b.istride[1], 1);
        CHECK(plan_matches(2, nds, ds));
    }
    { /* same shape collapses to one row */
        int64_t a[] = {1, 192, 50};
        int nds[] = {3, 3};
        const int64_t *ds[] = {a, a};
        CHECK_EQ_INT(vx_bcast_init_dims(&b, 2, nds, ds), 0);
        CHECK_EQ_INT(b.outer, 1);
        CHECK_EQ_INT(b.inner, 192 * 50);
        CHECK_EQ_INT(b.istride[0], 1);
        CHECK_EQ_INT(b.istride[1], 1);
    }
    { /* [1,192,T] * [1,192,1] -> rows of T with a per-row scalar */
        int64_t a[] = {1, 192, 7}, c[] = {1, 192, 1};
        int nds[] = {3, 3};
        const int64_t *ds[] = {a, c};
        CHECK_EQ_INT(vx_bcast_init_dims(&b, 2, nds, ds), 0);
        CHECK_EQ_INT(b.outer, 192);
        CHECK_EQ_INT(b.inner, 7);
        CHECK_EQ_INT(b.istride[1], 0);
        CHECK(plan_matches(2, nds, ds));
    }
    { /* tensor + scalar (rank 0) */
        int64_t a[] = {2, 3};
        int nds[] = {2, 0};
        const int64_t *ds[] = {a, NULL};
        CHECK_EQ_INT(vx_bcast_init_dims(&b, 2, nds, ds), 0);
        CHECK_EQ_INT(b.out_ndim, 2);
        CHECK_EQ_INT(b.outer, 1);
        CHECK_EQ_INT(b.inner, 6);
        CHECK_EQ_INT(b.istride[1], 0);
        CHECK(plan_matches(2, nds, ds));
    }
    { /* scalar + scalar */
        int nds[] = {0, 0};
        const int64_t *ds[] = {NULL, NULL};
        CHECK_EQ_INT(vx_bcast_init_dims(&b, 2, nds, ds), 0);
        CHECK_EQ_INT(b.out_ndim, 0);
        CHECK_EQ_INT(b.numel, 1);
        CHECK_EQ_INT(b.outer, 1);
        CHECK_EQ_INT(b.inner, 1);
    }
    { /* awkward mixes, checked against the naive walk */
        int64_t a[] = {2, 1, 4, 1, 3}, c[] = {4, 1, 3}, d[] = {1, 5, 4, 1, 1};
        int nds[] = {5, 3, 5};
        const int64_t *ds[] = {a, c, d};
        CHECK_EQ_INT(vx_bcast_init_dims(&b, 3, nds, ds), 0);
        CHECK_EQ_INT(b.numel, 2 * 5 * 4 * 1 * 3);
        CHECK(plan_matches(3, nds, ds));
        int64_t e[] = {2, 3, 4}, f[] = {4};
        int nds2[] = {3, 1};
        const int64_t *ds2[] = {e, f};
        CHECK(plan_matches(2, nds2, ds2));
        int64_t g[] = {3, 1, 1}, h[] = {1, 2, 2};
        const int64_t *ds3[] = {g, h};
        int nds3[] = {3, 3};
        CHECK(plan_matches(2, nds3, ds3));
    }
    { /* empty: [0,3] + [1,3] -> [0,3]; [0] vs [1] -> [0] */
        int64_t a[] = {0, 3}, c[] = {1, 3};
        int nds[] = {2, 2};
        const int64_t *ds[] = {a, c};
        CHECK_EQ_INT(vx_bcast_init_dims(&b, 2, nds, ds), 0);
        CHECK_EQ_INT(b.out_dims[0], 0);
        CHECK_EQ_INT(b.numel, 0);
        CHECK_EQ_INT(b.outer, 0);
    }
    { /* incompatible: [3] vs [4]; [0] vs [2]; bad rank / counts */
        int64_t a[] = {3}, c[] = {4}, z[] = {0}, two[] = {2};
        int nds[] = {1, 1};
        const int64_t *ds[] = {a, c};
        CHECK_EQ_INT(vx_bcast_init_dims(&b, 2, nds, ds), -1);
        const int64_t *ds2[] = {z, two};
        CHECK_EQ_INT(vx_bcast_init_dims(&b, 2, nds, ds2), -1);
        int bad[] = {9, 1};
        CHECK_EQ_INT(vx_bcast_init_dims(&b, 2, bad, ds), -1);
        CHECK_EQ_INT(vx_bcast_init_dims(&b, 0, nds, ds), -1);
        CHECK_EQ_INT(vx_bcast_init_dims(&b, 5, nds, ds), -1);
        int64_t neg[] = {-1};
        const int64_t *ds3[] = {neg, a};
        CHECK_EQ_INT(vx_bcast_init_dims(&b, 2, nds, ds3), -1);
    }
    { /* element-count overflow is refused */
        int64_t a[] = {(int64_t)1 << 20, 1}, c[] = {(int64_t)1 << 20};
        int nds[] = {2, 1};
        const int64_t *ds[] = {a, c};
        CHECK_EQ_INT(vx_bcast_init_dims(&b, 2, nds, ds), -1);
    }
    { /* vx_broadcast_dims + vx_shape_str */
        int64_t a[] = {2, 1, 4}, c[] = {3, 1}, d[VX_MAX_DIMS];
        int nd = -1;
        char buf[64];
        CHECK_EQ_INT(vx_broadcast_dims(3, a, 2, c, &nd, d), 0);
        CHECK_STR(vx_shape_str(buf, sizeof buf, nd, d), "[2,3,4]");
        CHECK_STR(vx_shape_str(buf, sizeof buf, 0, d), "[]");
        CHECK_EQ_INT(vx_broadcast_dims(1, c, 1, a + 2, &nd, d), -1);
    }
    { /* vx_broadcast_copy: [3,1] int32 -> [2,3,2] */
        vx_tensor s = {0}, o = {0}, bad = {0};
        int64_t sd[] = {3, 1}, od[] = {2, 3, 2};
        CHECK_EQ_INT(vx_tensor_alloc(&s, VX_INT32, 2, sd), 0);
        CHECK_EQ_INT(vx_tensor_alloc(&o, VX_INT32, 3, od), 0);
        int32_t *sv = s.data, *ov = o.data;
        sv[0] = 10;
        sv[1] = 20;
        sv[2] = 30;
        CHECK_EQ_INT(vx_broadcast_copy(&s, &o), 0);
        int32_t want[] = {10, 10, 20, 20, 30, 30, 10, 10, 20, 20, 30, 30};
        int ok = 1;
        for (int i = 0; i < 12; i++) ok &= ov[i] == want[i];
        CHECK(ok);
        /* target smaller than the broadcast result, or a dtype change: refused */
        int64_t bd[] = {3, 2}, bd2[] = {1, 1};
        CHECK_EQ_INT(vx_tensor_alloc(&bad, VX_INT32, 2, bd2), 0);
        CHECK_EQ_INT(vx_broadcast_copy(&s, &bad), -1);
        CHECK_EQ_INT(vx_tensor_alloc(&bad, VX_FLOAT, 2, bd), 0);
        CHECK_EQ_INT(vx_broadcast_copy(&s, &bad), -1);
        vx_tensor_release(&s);
        vx_tensor_release(&o);
        vx_tensor_release(&bad);
    }
    TEST_SUMMARY();
}
