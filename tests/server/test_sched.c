/* Unit tests of voxd's scheduling: the worker pool's earliest-deadline-first order (ties in
 * push order), exclusive runs, drain on stop, and the audio-duration estimate that sets
 * sentence deadlines. Deterministic: a "gate" task holds the worker while the queue is
 * filled, so the order seen depends only on the pool, never on timing. */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>

#include "job.h"
#include "scheduler.h"
#include "test.h"

#define MAXN 2000

enum { K_GATE = 100, K_REC, K_EXCL, K_PUSH_THEN_EXCL, K_PROBE };

typedef struct ctx {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int gate_open[4]; /* a K_GATE task with idx i blocks until gate_open[i] is set */
    int gates_running;
    int gates_started;
    int order[MAXN]; /* idx of K_REC tasks in the order they ran */
    int n_order;
    int excl_result[8]; /* what vx_sched_try_exclusive returned, per K_EXCL/K_PUSH_THEN_EXCL idx */
    int excl_hold;      /* K_EXCL: keep the exclusive claim until this is cleared */
    int excl_holding;
    int ran_during_excl; /* a task ran while a claim was held */
    vx_task *to_push;    /* K_PUSH_THEN_EXCL pushes this first */
} ctx;

static ctx C;

static void wait_for(int *v, int want) {
    pthread_mutex_lock(&C.mu);
    while (*v != want) pthread_cond_wait(&C.cv, &C.mu);
    pthread_mutex_unlock(&C.mu);
}

static void set(int *v, int val) {
    pthread_mutex_lock(&C.mu);
    *v = val;
    pthread_cond_broadcast(&C.cv);
    pthread_mutex_unlock(&C.mu);
}

static void run(vx_sched *p, vx_task *n) {
    switch (n->kind) {
    case K_GATE:
        pthread_mutex_lock(&C.mu);
        C.gates_running++;
        C.gates_started++;
        pthread_cond_broadcast(&C.cv);
        while (!C.gate_open[n->idx]) pthread_cond_wait(&C.cv, &C.mu);
        C.gates_running--;
        pthread_mutex_unlock(&C.mu);
        break;
    case K_REC:
        pthread_mutex_lock(&C.mu);
        if (C.excl_holding) C.ran_during_excl = 1;
        if (C.n_order < MAXN) C.order[C.n_order++] = (int)n->idx;
        pthread_mutex_unlock(&C.mu);
        break;
    case K_EXCL: {
        int ok = vx_sched_try_exclusive(p);
        pthread_mutex_lock(&C.mu);
        C.excl_result[n->idx] = ok;
        if (ok) {
            C.excl_holding = 1;
            pthread_cond_broadcast(&C.cv);
            while (C.excl_hold) pthread_cond_wait(&C.cv, &C.mu);
            C.excl_holding = 0;
        }
        pthread_mutex_unlock(&C.mu);
        if (ok) vx_sched_end_exclusive(p);
        break;
    }
    case K_PUSH_THEN_EXCL: {
        vx_sched_push(p, C.to_push);
        int ok = vx_sched_try_exclusive(p);
        if (ok) vx_sched_end_exclusive(p);
        pthread_mutex_lock(&C.mu);
        C.excl_result[n->idx] = ok;
        pthread_mutex_unlock(&C.mu);
        break;
    }
    default: break;
    }
    vx_sched_done(p, n);
}

/* Wait until every pushed node has been handed back; returns how many came back. */
static int drain_done(vx_sched *p, int want) {
    int got = 0;
    while (got < want) {
        for (vx_task *n = vx_sched_take_done(p); n; n = n->next) got++;
        if (got < want) sched_yield();
    }
    return got;
}

static void reset(void) {
    pthread_mutex_lock(&C.mu);
    memset(C.gate_open, 0, sizeof(C.gate_open));
    C.gates_running = 0;
    C.gates_started = 0;
    C.n_order = 0;
    memset(C.excl_result, -1, sizeof(C.excl_result));
    C.excl_hold = 0;
    C.excl_holding = 0;
    C.ran_during_excl = 0;
    pthread_mutex_unlock(&C.mu);
}

static vx_task nodes[MAXN], gate, gate2, ex, ex2;

static void node(vx_task *n, int kind, size_t idx, double deadline) {
    memset(n, 0, sizeof(*n));
    n->kind = kind;
    n->idx = idx;
    n->deadline = deadline;
}

/* Earliest deadline first; equal deadlines in push order. */
static void test_edf(void) {
    reset();
    vx_sched p;
    CHECK_EQ_INT(vx_sched_start(&p, 1, run, NULL, NULL), 0);
    node(&gate, K_GATE, 0, 0);
    vx_sched_push(&p, &gate);
    wait_for(&C.gates_running, 1);
    /* what speech.c queues: continuations of an older request (due later), then the
     * first sentence of a new request (due at its arrival) */
    node(&nodes[0], K_REC, 0, 100.0 + 3.1);       /* old request, sentence 1 */
    node(&nodes[1], K_REC, 1, 100.0 + 3.1 + 2.9); /* old request, sentence 2 */
    node(&nodes[2], K_REC, 2, 101.0);             /* new request: prepare (sentence 0) */
    node(&nodes[3], K_REC, 3, 101.0);             /* same deadline: after [2] */
    node(&nodes[4], K_REC, 4, 99.0);              /* overdue: first */
    for (int i = 0; i < 5; i++) vx_sched_push(&p, &nodes[i]);
    CHECK_EQ_INT(atomic_load(&p.depth), 5);
    set(&C.gate_open[0], 1);
    drain_done(&p, 6);
    int want[5] = {4, 2, 3, 0, 1};
    CHECK_EQ_INT(C.n_order, 5);
    for (int i = 0; i < 5; i++) CHECK_EQ_INT(C.order[i], want[i]);
    CHECK_EQ_INT(atomic_load(&p.depth), 0);
    vx_sched_stop(&p);
}

/* Many nodes, pseudo-random deadlines with many ties: sorted, stable. */
static void test_edf_many(void) {
    reset();
    vx_sched p;
    CHECK_EQ_INT(vx_sched_start(&p, 1, run, NULL, NULL), 0);
    node(&gate, K_GATE, 0, 0);
    vx_sched_push(&p, &gate);
    wait_for(&C.gates_running, 1);
    uint32_t x = 12345;
    for (int i = 0; i < MAXN; i++) {
        x = x * 1664525u + 1013904223u;
        node(&nodes[i], K_REC, (size_t)i, (double)(x >> 24) / 16.0); /* 256 distinct values */
        vx_sched_push(&p, &nodes[i]);
    }
    set(&C.gate_open[0], 1);
    drain_done(&p, MAXN + 1);
    CHECK_EQ_INT(C.n_order, MAXN);
    int sorted = 1;
    for (int i = 1; i < C.n_order; i++) {
        double a = nodes[C.order[i - 1]].deadline, b = nodes[C.order[i]].deadline;
        if (a > b || (a == b && C.order[i - 1] > C.order[i])) sorted = 0;
    }
    CHECK(sorted);
    vx_sched_stop(&p);
}

/* Nodes pushed while the pool runs: each pop takes the earliest of what is queued then.
 * Batch 1 is queued behind gate 0 with gate 1 among it; the worker runs batch 1 up to
 * gate 1's deadline and stops there; batch 2 is queued; then everything left runs merged. */
static void test_interleaved(void) {
    reset();
    vx_sched p;
    CHECK_EQ_INT(vx_sched_start(&p, 1, run, NULL, NULL), 0);
    node(&gate, K_GATE, 0, 0);
    vx_sched_push(&p, &gate);
    wait_for(&C.gates_running, 1);
    const int half = MAXN / 2;
    uint32_t x = 777;
    for (int i = 0; i < MAXN; i++) {
        x = x * 1664525u + 1013904223u;
        node(&nodes[i], K_REC, (size_t)i, (double)(x >> 26)); /* 64 distinct values */
    }
    node(&gate2, K_GATE, 1, 31.5);
    for (int i = 0; i < half; i++) vx_sched_push(&p, &nodes[i]);
    vx_sched_push(&p, &gate2);
    set(&C.gate_open[0], 1);
    wait_for(&C.gates_started, 2); /* gate 0 passed, gate 1 holds the worker */
    int before = C.n_order;
    for (int i = half; i < MAXN; i++) vx_sched_push(&p, &nodes[i]);
    set(&C.gate_open[1], 1);
    drain_done(&p, MAXN + 2);
    CHECK_EQ_INT(C.n_order, MAXN);
    int ok = 1, n_early = 0;
    for (int i = 0; i < half; i++) n_early += nodes[i].deadline < 31.5;
    CHECK_EQ_INT(before, n_early);
    for (int i = 0; i < before; i++) ok &= C.order[i] < half && nodes[C.order[i]].deadline < 31.5;
    for (int i = 1; i < C.n_order; i++) {
        if (i == before) continue; /* the two runs are each sorted */
        double a = nodes[C.order[i - 1]].deadline, b = nodes[C.order[i]].deadline;
        if (a > b || (a == b && C.order[i - 1] > C.order[i])) ok = 0;
    }
    CHECK(ok);
    vx_sched_stop(&p);
}

/* Exclusive: granted to a task alone on an idle pool; while held, no other task starts. */
static void test_exclusive(void) {
    reset();
    vx_sched p;
    CHECK_EQ_INT(vx_sched_start(&p, 3, run, NULL, NULL), 0);
    C.excl_hold = 1;
    node(&ex, K_EXCL, 0, 0);
    vx_sched_push(&p, &ex);
    wait_for(&C.excl_holding, 1);
    CHECK_EQ_INT(C.excl_result[0], 1);
    for (int i = 0; i < 20; i++) {
        node(&nodes[i], K_REC, (size_t)i, i);
        vx_sched_push(&p, &nodes[i]);
    }
    /* two idle workers, 20 tasks queued: none may start while the claim is held */
    for (int i = 0; i < 200; i++) sched_yield();
    CHECK_EQ_INT(atomic_load(&p.depth), 20);
    CHECK_EQ_INT(atomic_load(&p.busy), 1);
    set(&C.excl_hold, 0);
    drain_done(&p, 21);
    CHECK_EQ_INT(C.ran_during_excl, 0);
    CHECK_EQ_INT(C.n_order, 20);
    vx_sched_stop(&p);
}

/* Not granted while another worker runs a task, nor while something is queued. */
static void test_exclusive_refused(void) {
    reset();
    vx_sched p;
    CHECK_EQ_INT(vx_sched_start(&p, 2, run, NULL, NULL), 0);
    node(&gate, K_GATE, 0, 0);
    vx_sched_push(&p, &gate);
    wait_for(&C.gates_running, 1);
    node(&ex, K_EXCL, 1, 0);
    vx_sched_push(&p, &ex); /* the other worker: busy == 2 -> refused */
    int got = 0;
    while (got < 1)
        for (vx_task *n = vx_sched_take_done(&p); n; n = n->next) got++;
    CHECK_EQ_INT(C.excl_result[1], 0);
    set(&C.gate_open[0], 1);
    drain_done(&p, 1);
    vx_sched_stop(&p);

    reset();
    CHECK_EQ_INT(vx_sched_start(&p, 1, run, NULL, NULL), 0);
    node(&nodes[0], K_REC, 0, 0);
    C.to_push = &nodes[0];
    node(&ex2, K_PUSH_THEN_EXCL, 2, 0);
    vx_sched_push(&p, &ex2); /* alone, but it queued a task first -> refused */
    drain_done(&p, 2);
    CHECK_EQ_INT(C.excl_result[2], 0);
    CHECK_EQ_INT(C.n_order, 1);
    vx_sched_stop(&p);
}

/* Stop lets the workers finish everything queued, in order. */
static void test_stop_drains(void) {
    reset();
    vx_sched p;
    CHECK_EQ_INT(vx_sched_start(&p, 1, run, NULL, NULL), 0);
    node(&gate, K_GATE, 0, 0);
    vx_sched_push(&p, &gate);
    wait_for(&C.gates_running, 1);
    for (int i = 0; i < 10; i++) {
        node(&nodes[i], K_REC, (size_t)i, 10 - i);
        vx_sched_push(&p, &nodes[i]);
    }
    set(&C.gate_open[0], 1);
    vx_sched_stop(&p); /* joins the worker after the queue is empty */
    CHECK_EQ_INT(C.n_order, 10);
    for (int i = 0; i < 10; i++) CHECK_EQ_INT(C.order[i], 9 - i);
}

static void test_estimate(void) {
    vx_synth_params sp;
    vx_synth_params_init(&sp);
    const char *t = "The quick brown fox."; /* 20 characters */
    CHECK_NEAR(vx_job_est_secs(&sp, t, strlen(t)), 20 / VX_JOB_CHARS_PER_SEC, 1e-9);
    sp.speed = 2;
    CHECK_NEAR(vx_job_est_secs(&sp, t, strlen(t)), 10 / VX_JOB_CHARS_PER_SEC, 1e-9);
    sp.length_scale = 1.5f; /* explicit length_scale wins over speed, as in the backends */
    CHECK_NEAR(vx_job_est_secs(&sp, t, strlen(t)), 30 / VX_JOB_CHARS_PER_SEC, 1e-6);
    sp.length_scale = -1;
    sp.speed = 1;
    sp.sentence_silence = 0.5f;
    CHECK_NEAR(vx_job_est_secs(&sp, t, strlen(t)), 20 / VX_JOB_CHARS_PER_SEC + 0.5, 1e-6);
    sp.sentence_silence = -1;
    const char *u = "h\xc3\xa9llo \xe4\xb8\x96"; /* "héllo 世": 7 code points, 10 bytes */
    CHECK_NEAR(vx_job_est_secs(&sp, u, strlen(u)), 7 / VX_JOB_CHARS_PER_SEC, 1e-9);
    CHECK_NEAR(vx_job_est_secs(&sp, "", 0), 0, 0);
}

int main(void) {
    pthread_mutex_init(&C.mu, NULL);
    pthread_cond_init(&C.cv, NULL);
    test_edf();
    test_edf_many();
    test_interleaved();
    test_exclusive();
    test_exclusive_refused();
    test_stop_drains();
    test_estimate();
    TEST_SUMMARY();
}
