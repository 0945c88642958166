/*
 * grpc_msg.h — gRPC's wire pieces that need no connection (pure, fuzzed by
 * tests/fuzz/fuzz_grpc.c): the length-prefixed message deframer, the grpc-timeout header,
 * grpc-message percent-encoding, and a vox.v1.SynthesizeRequest (protobuf-c, generated
 * from proto/vox/v1/speech.proto) checked into speech-job options. grpc.c puts them on
 * HTTP/2 streams.
 */
#ifndef VX_GRPC_MSG_H
#define VX_GRPC_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <vox/v1/speech.pb-c.h>

#include "job.h"

/* Largest request message voxd accepts (bytes, after the 5-byte prefix): a whole text of
 * --max-input characters fits many times over. Past it: RESOURCE_EXHAUSTED. */
#define VX_GRPC_MAX_MSG (1u << 20)
/* Longest grpc-timeout voxd honours as given (the spec allows up to 8 digits of hours);
 * a longer one is cut to --timeout anyway by the caller. */
#define VX_GRPC_TIMEOUT_MAX_DIGITS 8

/* gRPC status codes (grpc/doc/statuscodes.md). */
enum {
    VX_GRPC_OK = 0,
    VX_GRPC_CANCELLED = 1,
    VX_GRPC_UNKNOWN = 2,
    VX_GRPC_INVALID_ARGUMENT = 3,
    VX_GRPC_DEADLINE_EXCEEDED = 4,
    VX_GRPC_NOT_FOUND = 5,
    VX_GRPC_RESOURCE_EXHAUSTED = 8,
    VX_GRPC_FAILED_PRECONDITION = 9,
    VX_GRPC_UNIMPLEMENTED = 12,
    VX_GRPC_INTERNAL = 13,
    VX_GRPC_UNAVAILABLE = 14,
    VX_GRPC_UNAUTHENTICATED = 16,
};

/* Reassembles messages from DATA bytes that may split them anywhere. */
typedef struct vx_grpc_deframer {
    uint8_t hdr[5];
    size_t hdr_have;
    uint8_t *msg; /* malloc'd, msg_len bytes once complete */
    size_t msg_len, msg_have, msg_cap;
    int compressed; /* the message's flag byte said compressed */
} vx_grpc_deframer;

enum { VX_GRPC_DF_MORE = 0, VX_GRPC_DF_MSG = 1, VX_GRPC_DF_TOO_BIG = -1, VX_GRPC_DF_NOMEM = -2 };

/* Consume bytes of p[0..n) into d; *used says how many. VX_GRPC_DF_MSG: d->msg holds one
 * whole message (d->msg_len bytes) — handle it, then vx_grpc_deframer_next and call again
 * with the rest; VX_GRPC_DF_MORE: all consumed, no whole message yet; TOO_BIG: the
 * prefix announced more than `max` bytes (nothing is allocated for it); NOMEM. */
int vx_grpc_deframe(vx_grpc_deframer *d, const uint8_t *p, size_t n, size_t max, size_t *used);
void vx_grpc_deframer_next(vx_grpc_deframer *d);
int vx_grpc_deframer_idle(const vx_grpc_deframer *d); /* 1: between messages */
void vx_grpc_deframer_free(vx_grpc_deframer *d);

/* The 5-byte prefix of an uncompressed message of len bytes. */
void vx_grpc_prefix(uint8_t h[5], uint32_t len);

/* grpc-timeout ("1-8 digits" + H|M|S|m|u|n) in seconds; -1 when malformed. */
int vx_grpc_parse_timeout(const char *v, size_t n, double *secs);

/* grpc-message: percent-encode every byte outside 0x20..0x7E and '%' into out (always
 * NUL-terminated, cut at a whole escape when cap is short); returns its length. */
size_t vx_grpc_percent_encode(const char *in, char *out, size_t cap);

/* A SynthesizeRequest as speech-job options (strings point into q; synth.speaker is
 * copied). need_text: the text must be non-empty (Synthesize; not a stream's config).
 * 0, or -1 with msg naming the field: "format: ..." "speed: ..." "sample_rate: ...". */
int vx_grpc_synth_opts(const Vox__V1__SynthesizeRequest *q, const char *default_voice,
                       int need_text, vx_job_opts *o, char *msg, size_t msglen);

#endif
