/* Unit tests of the voice registry (src/server/voices.h): a full registry evicts the least
 * recently used voice nobody holds to load another, never a held one; all held -> an error
 * and nothing unloaded; a voice that fails to load evicts nothing; holds taken and dropped
 * from several threads at once never see their voice freed (run under ASan/TSan). The
 * backend is a counting one: each voice is its own heap copy of its name. */
#include <pthread.h>
#include <string.h>

#include "test.h"
#include "voices.h"

static int loads, frees;
static char last_freed[VX_VOICE_NAME_MAX];
static pthread_mutex_t count_mu = PTHREAD_MUTEX_INITIALIZER;

static int count_load(vx_backend *e, const char *name, void **voice, vx_voice_meta *m, char *err,
                      size_t errlen) {
    if (!strncmp(name, "fail-", 5)) {
        snprintf(err, errlen, "voice '%.100s' not found", name);
        return VOX_ERR_NOT_FOUND;
    }
    char *v = strdup(name);
    if (!v) return VOX_ERR_NOMEM;
    snprintf(m->name, sizeof(m->name), "%s", name);
    snprintf(m->kind, sizeof(m->kind), "stub");
    m->sample_rate = 16000;
    *voice = v;
    pthread_mutex_lock(&count_mu);
    loads++;
    pthread_mutex_unlock(&count_mu);
    return VOX_OK;
}

static void count_free(vx_backend *e, void *voice) {
    pthread_mutex_lock(&count_mu);
    frees++;
    snprintf(last_freed, sizeof last_freed, "%s", (char *)voice);
    pthread_mutex_unlock(&count_mu);
    free(voice);
}

static vx_backend B;
static vx_voices V;

static vx_voice_ent *get(const char *name, int *rc) {
    vx_voice_ent *e = NULL;
    char err[256] = "";
    *rc = vx_voices_get(&V, name, &e, err, sizeof err);
    return e;
}

static int n_live(void) {
    vx_voices_lock(&V);
    int c = 0, n = atomic_load(&V.n);
    for (int i = 0; i < n; i++) c += V.ents[i].live;
    vx_voices_unlock(&V);
    return c;
}

static void test_lru(void) {
    char name[32];
    int rc;
    vx_voice_ent *held = get("v0", &rc); /* held throughout, least recently used */
    CHECK_EQ_INT(rc, VOX_OK);
    for (int i = 1; i < VX_MAX_VOICES; i++) {
        snprintf(name, sizeof name, "v%d", i);
        vx_voices_put(&V, get(name, &rc));
        CHECK_EQ_INT(rc, VOX_OK);
    }
    CHECK_EQ_INT(loads, VX_MAX_VOICES);
    CHECK_EQ_INT(n_live(), VX_MAX_VOICES);
    vx_voices_put(&V, get("v1", &rc)); /* v1 used again: v2 is now the LRU unheld one */
    CHECK_EQ_INT(loads, VX_MAX_VOICES);

    vx_voice_ent *e = get("new", &rc); /* one more: loads, v2 goes */
    CHECK_EQ_INT(rc, VOX_OK);
    CHECK(e && e->live && !strcmp((char *)e->voice, "new"));
    CHECK_EQ_INT(frees, 1);
    CHECK_STR(last_freed, "v2");
    CHECK(!vx_voices_loaded(&V, "v2"));
    CHECK(vx_voices_loaded(&V, "v0")); /* held: never evicted although older */
    CHECK(vx_voices_loaded(&V, "v1"));
    CHECK(vx_voices_loaded(&V, "new"));
    CHECK_EQ_INT(n_live(), VX_MAX_VOICES);
    CHECK_EQ_INT((int)V.evicted, 1);
    vx_voices_put(&V, e);

    /* the next one evicts v3 (v0 still held), and v2 comes back evicting v4 */
    vx_voices_put(&V, get("new2", &rc));
    CHECK_STR(last_freed, "v3");
    vx_voices_put(&V, get("v2", &rc));
    CHECK_EQ_INT(rc, VOX_OK);
    CHECK_STR(last_freed, "v4");
    CHECK(vx_voices_loaded(&V, "v2"));
    CHECK(held && held->live && !strcmp((char *)held->voice, "v0"));
    CHECK_EQ_INT(frees, 3);

    /* a voice that fails to load evicts nothing */
    get("fail-x", &rc);
    CHECK_EQ_INT(rc, VOX_ERR_NOT_FOUND);
    CHECK_EQ_INT(frees, 3);
    CHECK_EQ_INT(n_live(), VX_MAX_VOICES);
    vx_voices_put(&V, held);
}

static void test_all_held(void) {
    vx_voice_ent *hold[VX_MAX_VOICES];
    int rc, nh = 0;
    vx_voices_lock(&V);
    int n = atomic_load(&V.n);
    char names[VX_MAX_VOICES][VX_VOICE_NAME_MAX];
    for (int i = 0; i < n; i++) snprintf(names[i], sizeof names[i], "%s", V.ents[i].meta.name);
    vx_voices_unlock(&V);
    for (int i = 0; i < n; i++) {
        hold[nh] = get(names[i], &rc);
        CHECK_EQ_INT(rc, VOX_OK);
        if (hold[nh]) nh++;
    }
    int l0 = loads, f0 = frees;
    vx_voice_ent *e = get("one-too-many", &rc);
    CHECK_EQ_INT(rc, VOX_ERR_NOMEM); /* 503: every voice in use */
    CHECK(e == NULL);
    CHECK_EQ_INT(loads, l0);
    CHECK_EQ_INT(frees, f0);
    CHECK_EQ_INT(n_live(), VX_MAX_VOICES);
    /* one let go: that one makes room */
    CHECK_STR(hold[5]->meta.name, names[5]);
    vx_voices_put(&V, hold[5]);
    e = get("one-too-many", &rc);
    CHECK_EQ_INT(rc, VOX_OK);
    CHECK_STR(last_freed, names[5]);
    vx_voices_put(&V, e);
    for (int i = 0; i < nh; i++)
        if (i != 5) vx_voices_put(&V, hold[i]);
}

/* Threads get and put voices among more names than slots: a held voice's memory must stay
 * its own (ASan/TSan catch a free under it). */
#define THREADS 4
#define ROUNDS  3000

static int bad;

static void *churn(void *arg) {
    unsigned seed = (unsigned)(size_t)arg;
    char name[32];
    for (int r = 0; r < ROUNDS; r++) {
        seed = seed * 1103515245u + 12345u;
        snprintf(name, sizeof name, "c%u", (seed >> 8) % (VX_MAX_VOICES + 16));
        int rc;
        vx_voice_ent *e = get(name, &rc);
        if (rc == VOX_ERR_NOMEM) continue; /* all held at that moment: allowed */
        if (rc != VOX_OK || !e || strcmp((char *)e->voice, name) || strcmp(e->meta.name, name))
            __atomic_add_fetch(&bad, 1, __ATOMIC_RELAXED);
        vx_voices_put(&V, e);
    }
    return NULL;
}

static void test_threads(void) {
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, churn, (void *)(size_t)(i + 1));
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    CHECK_EQ_INT(bad, 0);
    CHECK(n_live() <= VX_MAX_VOICES);
    vx_voices_lock(&V);
    int held = 0, n = atomic_load(&V.n);
    for (int i = 0; i < n; i++) held += V.ents[i].refs;
    vx_voices_unlock(&V);
    CHECK_EQ_INT(held, 0);                 /* every get was put */
    CHECK_EQ_INT(loads - frees, n_live()); /* nothing leaked, nothing freed twice */
}

int main(void) {
    memset(&B, 0, sizeof B);
    B.name = "count";
    B.load = count_load;
    B.free_voice = count_free;
    vx_voices_init(&V, &B);
    test_lru();
    test_all_held();
    test_threads();
    vx_voices_free(&V);
    CHECK_EQ_INT(loads, frees);
    TEST_SUMMARY();
}
