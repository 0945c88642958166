/* job_text.c — speech jobs whose text arrives in pieces (opts.text_open: vx_job_append,
 * vx_job_close), for Wyoming and gRPC streams. */
#include <stdlib.h>
#include <string.h>

#include "job_int.h"

/* Design: the loop never runs the splitter. A Piper voice's splitter is its phonemizer's
 * clause pass under the process-wide espeak lock, so on the loop thread it could wait for
 * a worker's whole sentence; instead an open job has one split task at a time on the
 * workers, given a copy of the text not yet in sentences (text[consumed..]). Its result:
 * every sentence but the last is complete (a later one has begun after it), the last is
 * kept as the tail; at close the last one is complete too. Pieces that arrive while a
 * split runs are covered by the next one (coalesced: at most one split per worker round
 * trip, however many pieces), and at close a tail the last split already saw becomes the
 * final sentence without another split. The split always restarts at the first unfinished
 * sentence, so it sees exactly the text a whole-text split would see from there on.
 * Sentences get their own copy of their text (j->text grows, and may move, as pieces
 * come), and sit at fixed addresses (ensure_sents) since the scheduler holds their tasks.
 */

/* Length of the prefix of p[0..n) that ends on a code point boundary: a piece may end
 * inside a UTF-8 sequence, whose first bytes then wait for the rest. */
static size_t utf8_whole(const char *p, size_t n) {
    for (size_t k = n, back = 0; k > 0 && back < 4; k--, back++) {
        unsigned char b = (unsigned char)p[k - 1];
        if ((b & 0xC0) == 0x80) continue;
        /* a valid lead byte's length; anything else counts 1, and validation refuses it */
        size_t need = b >= 0xC2 && b <= 0xDF   ? 2
                      : b >= 0xE0 && b <= 0xEF ? 3
                      : b >= 0xF0 && b <= 0xF4 ? 4
                                               : 1;
        return k - 1 + need > n ? k - 1 : n;
    }
    return n; /* not a sequence's start within 4 bytes: let validation refuse it */
}

int vx_job_append_text(vx_job *j, const char *text, size_t len, vx_job_error *err) {
    if (!len) return 0;
    /* --max-input code points are at most 4 bytes each, plus a code point's first bytes */
    size_t max_bytes = j->srv->cfg.max_input * 4 + 3;
    if (len > max_bytes || j->text_len + len > max_bytes)
        return vx_job_set_error(err, VX_JOB_INVALID, "invalid_value",
                                "text is over %zu characters (the limit)", j->srv->cfg.max_input);
    if (j->text_len + len + 1 > j->text_cap) {
        size_t need = j->text_len + len + 1;
        size_t cap = j->text_cap ? j->text_cap : 256;
        while (cap < need) cap *= 2;
        char *t = realloc(j->text, cap);
        if (!t) return vx_job_set_error(err, VX_JOB_UNAVAILABLE, "overloaded", "out of memory");
        j->text = t;
        j->text_cap = cap;
    }
    /* the new bytes go in past text_len; they count only once they pass both checks */
    memcpy(j->text + j->text_len, text, len);
    size_t end = utf8_whole(j->text, j->text_len + len), chars = 0;
    if (end > j->text_ok && vx_api_utf8_count(j->text + j->text_ok, end - j->text_ok, &chars))
        return vx_job_set_error(err, VX_JOB_INVALID, "invalid_value", "text is not valid UTF-8");
    if (j->chars + chars > j->srv->cfg.max_input)
        return vx_job_set_error(err, VX_JOB_INVALID, "invalid_value",
                                "text is %zu characters; the limit is %zu", j->chars + chars,
                                j->srv->cfg.max_input);
    j->text_len += len;
    j->text[j->text_len] = 0;
    j->text_ok = end;
    j->chars += chars;
    return 0;
}

/* A complete sentence: text[off..off+len) becomes sentence j->n. */
static int commit_sentence(vx_server *s, vx_job *j, size_t off, size_t len) {
    if (vx_job_ensure_sents(j, j->n + 1)) return -1;
    vx_sent *st = j->sents[j->n];
    memset(st, 0, sizeof(*st));
    if (!(st->own = malloc(len + 1))) return -1;
    memcpy(st->own, j->text + off, len);
    st->own[len] = 0;
    st->txt = st->own;
    st->off = off;
    st->len = len;
    vx_ctl_init(&st->ctl);
    vx_sent_tasks_init(st, j, j->n);
    /* due when the audio before it will have played, or now if the text came late */
    double now = vx_now();
    st->task.deadline = j->due > now ? j->due : now;
    j->due = st->task.deadline + vx_job_est_secs(&j->synth, st->txt, len);
    pthread_mutex_lock(&j->mu); /* job_cancel_tasks walks sents[0..n) */
    j->n++;
    pthread_mutex_unlock(&j->mu);
    return 0;
}

/* Start a split of the unfinished text if there is something new to split, or end the
 * text at close. Loop thread. */
void vx_job_kick_split(vx_server *s, vx_job *j) {
    if (!j->user || !j->open || !j->out_ok || j->split_busy || j->final_done) return;
    if (j->text_ok == j->split_end) {
        if (!j->closed) return;
        /* closed, and the last split saw all of it: its tail is the last sentence */
        if (j->have_tail && commit_sentence(s, j, j->tail_off, j->tail_len)) {
            vx_job_fail(j, VX_JOB_UNAVAILABLE, "overloaded", "out of memory");
            return;
        }
        j->have_tail = 0;
        j->consumed = j->text_ok;
        j->final_done = 1;
        vx_job_queue_fill(s, j);
        return;
    }
    size_t n = j->text_ok - j->consumed;
    /* A long unfinished tail is split again only once it has grown by a quarter (or at
     * the close): text without sentence ends, a byte at a time, would otherwise cost a
     * split of the whole tail per byte (quadratic); this keeps the total linear, and a
     * normal sentence (under VX_JOB_TAIL_EAGER bytes) is looked at on every piece. */
    if (!j->closed && n > VX_JOB_TAIL_EAGER && (j->text_ok - j->split_end) * 4 < n) return;
    char *in = malloc(n + 1);
    if (!in) {
        vx_job_fail(j, VX_JOB_UNAVAILABLE, "overloaded", "out of memory");
        return;
    }
    memcpy(in, j->text + j->consumed, n);
    in[n] = 0;
    free(j->split_in);
    j->split_in = in;
    j->split_base = j->consumed;
    j->split_len = n;
    j->split_closed = j->closed;
    j->split_busy = 1;
    j->split_task.kind = VX_TASK_SPLIT;
    j->split_task.job = j;
    j->split_task.deadline = vx_now();
    atomic_fetch_add(&j->outstanding, 1);
    vx_sched_push(&s->sched, &j->split_task);
}

void vx_job_on_split(vx_server *s, vx_job *j) {
    j->split_busy = 0;
    vox_span *sp = j->split_spans;
    size_t n = j->split_n;
    j->split_spans = NULL;
    free(j->split_in);
    j->split_in = NULL;
    int rc = j->split_rc;
    if (rc == VOX_ERR_EMPTY) rc = VOX_OK, n = 0; /* nothing to speak yet */
    if (!j->user) {
        free(sp);
        return;
    }
    if (rc != VOX_OK) {
        free(sp);
        vx_job_fail_rc(j, rc, j->split_err);
        return;
    }
    size_t done = j->split_closed ? n : n ? n - 1 : 0;
    for (size_t i = 0; i < n; i++) { /* spans past the text cannot be: refuse them */
        if (sp[i].offset > j->split_len || sp[i].length > j->split_len - sp[i].offset) {
            free(sp);
            vx_job_fail(j, VX_JOB_FAILED, "synthesis_failed", "the splitter gave a bad span");
            return;
        }
    }
    for (size_t i = 0; i < done; i++) {
        if (commit_sentence(s, j, j->split_base + sp[i].offset, sp[i].length)) {
            free(sp);
            vx_job_fail(j, VX_JOB_UNAVAILABLE, "overloaded", "out of memory");
            return;
        }
    }
    j->split_end = j->split_base + j->split_len;
    j->have_tail = 0;
    if (j->split_closed) {
        j->consumed = j->split_end;
        j->final_done = 1;
    } else if (n) {
        j->have_tail = 1;
        j->tail_off = j->split_base + sp[n - 1].offset;
        j->tail_len = sp[n - 1].length;
        j->consumed = j->tail_off;
    }
    free(sp);
    vx_job_queue_fill(s, j);
    vx_job_kick_split(s, j); /* text that came meanwhile, or the close */
    vx_job_emit(s, j);
}

int vx_job_append(vx_job *j, const char *text, size_t len, vx_job_error *err) {
    if (!j || !j->user || !j->open || j->closed)
        return vx_job_set_error(err, VX_JOB_INVALID, "invalid_value",
                                "the job takes no more text (not open, closed or ended)");
    if (!text && len) return vx_job_set_error(err, VX_JOB_INVALID, "invalid_value", "no text");
    if (vx_job_append_text(j, text, len, err)) return -1;
    vx_job_kick_split(j->srv, j);
    vx_job_maybe_free(j);
    return 0;
}

void vx_job_close(vx_job *j) {
    if (!j || !j->user || !j->open || j->closed) return;
    j->closed = 1;
    if (j->text_ok != j->text_len) {
        vx_job_fail(j, VX_JOB_INVALID, "invalid_value", "the text ends inside a UTF-8 character");
    } else {
        vx_job_kick_split(j->srv, j);
        if (j->user && !j->delivering && j->out_ok) vx_job_emit(j->srv, j);
    }
    vx_job_maybe_free(j);
}
