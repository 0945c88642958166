/*
 * wyoming_internal.h — what the pieces of voxd's Wyoming front end share (internal to
 * src/server/wyoming*.c):
 *   wyoming.c          bytes: the listener, connections, timeouts, the output buffer and
 *                      writes, reading and framing events (wyoming_parse.c) in order;
 *   wyoming_session.c  one connection's session: events -> speech jobs, audio -> groups;
 *   wyoming_voices.c   voice resolution and the describe -> info answer.
 * Everything runs on the loop thread.
 */
#ifndef VX_WYOMING_INTERNAL_H
#define VX_WYOMING_INTERNAL_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "state.h"
#include "wyoming.h"
#include "wyoming_parse.h"

#define VX_WY_CHUNK_SAMPLES 1024
#define VX_WY_WRITE_HIGH    (256u << 10) /* pause the job above this many unsent bytes */
#define VX_WY_WRITE_LOW     (64u << 10)  /* resume below this */
#define VX_WY_READ_AHEAD    (64u << 10)  /* input buffered while an answer is made */

enum { WY_IDLE, WY_ONESHOT, WY_STREAM, WY_STREAM_STOP, WY_STREAM_FAILED };

typedef struct wy_conn wy_conn;

struct vx_wyoming {
    vx_server *srv;
    union {
        uv_tcp_t tcp;
        uv_pipe_t pipe;
        uv_handle_t h;
    } l;
    int is_pipe, listening;
    char path[256]; /* the unix socket, removed at exit */
    char where[300];
    wy_conn *conns;
    int n_conns;
    vx_wy_limits lim;
    cJSON *espeak; /* [[name, language], ...], listed once (espeak's lock) */
};

struct wy_conn {
    union {
        uv_tcp_t tcp;
        uv_pipe_t pipe;
        uv_stream_t st;
        uv_handle_t h;
    } io;
    vx_wyoming *w;
    wy_conn *prev, *next;
    char *in;
    size_t in_len, in_cap;
    char *out, *wr; /* waiting bytes; bytes being written */
    size_t out_len, out_cap, wr_len, wr_cap;
    uv_write_t wreq;
    int writing, reading, closing, close_after_write, in_process;
    double last_active, last_progress;
    vx_job *job;
    int mode;
    int group; /* audio-start sent, audio-stop not yet */
    int rate;
    unsigned char carry; /* an odd byte between on_audio calls */
    int has_carry;
};

/* wyoming.c: the output buffer (bytes waiting + being written), the input. */
size_t vx_wy_pending(const wy_conn *c);
/* Start a write of what waits, if none is in flight. */
void vx_wy_flush(wy_conn *c);
/* Queue an event: header line, data (JSON, may be NULL), payload. */
void vx_wy_send_raw(wy_conn *c, const char *type, const char *data, size_t dlen,
                    const void *payload, size_t plen);
/* Queue an event with data (may be NULL), which this deletes. */
void vx_wy_send_event(wy_conn *c, const char *type, cJSON *data);
/* Queue an error event {text, code} (code NULL: "error"). */
void vx_wy_send_error(wy_conn *c, const char *text, const char *code);
/* Handle every complete buffered event while no answer is being made. */
void vx_wy_process(wy_conn *c);

/* wyoming_session.c: answer one event. */
void vx_wy_handle(wy_conn *c, const vx_wy_event *ev);

/* wyoming_voices.c: the voice a request names, into out: 0, or -1 with err set. */
int vx_wy_pick_voice(vx_server *s, const vx_wy_synth *sy, char *out, size_t cap, char *err,
                     size_t errlen);
/* Answer describe with info. */
void vx_wy_describe(wy_conn *c);

#endif
