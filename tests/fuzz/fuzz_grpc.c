/* libFuzzer target: voxd's gRPC request side (grpc_msg.c) — the length-prefixed message
 * deframer fed in pieces of fuzzer-chosen sizes, each whole message decoded as the
 * protobuf-c messages a client sends (SynthesizeRequest checked into job options,
 * TextChunk, HealthCheckRequest), the grpc-timeout parser and grpc-message encoding.
 * The first byte picks the split sizes; the rest is the DATA stream. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/health/v1/health.pb-c.h>

#include "grpc_msg.h"

static void decode(const uint8_t *m, size_t n) {
    Vox__V1__SynthesizeRequest *q = vox__v1__synthesize_request__unpack(NULL, n, m);
    if (q) {
        vx_job_opts o;
        char msg[256];
        if (vx_grpc_synth_opts(q, "espeak:en-us", q->text && q->text[0] == 'x', &o, msg,
                               sizeof msg) == 0) {
            if (!o.voice || !o.text || strlen(o.text) != o.text_len || !(o.synth.speed > 0) ||
                (unsigned)o.format >= VX_AUDIO_COUNT)
                abort();
        } else if (!msg[0] || !strchr(msg, ':')) {
            abort(); /* an error always names its field */
        }
        vox__v1__synthesize_request__free_unpacked(q, NULL);
    }
    Vox__V1__TextChunk *t = vox__v1__text_chunk__unpack(NULL, n, m);
    if (t) vox__v1__text_chunk__free_unpacked(t, NULL);
    Grpc__Health__V1__HealthCheckRequest *h =
        grpc__health__v1__health_check_request__unpack(NULL, n, m);
    if (h) grpc__health__v1__health_check_request__free_unpacked(h, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    unsigned piece = data[0] % 17 + 1;
    const uint8_t *p = data + 1;
    size_t n = size - 1;

    double secs;
    if (vx_grpc_parse_timeout((const char *)p, n < 12 ? n : 12, &secs) == 0 && !(secs >= 0))
        abort();
    char enc[64], src[40];
    size_t k = n < sizeof src - 1 ? n : sizeof src - 1;
    memcpy(src, p, k);
    src[k] = 0;
    size_t el = vx_grpc_percent_encode(src, enc, sizeof enc);
    if (el >= sizeof enc || strlen(enc) != el) abort();
    for (size_t i = 0; i < el; i++)
        if ((unsigned char)enc[i] < 0x20 || (unsigned char)enc[i] > 0x7E) abort();

    vx_grpc_deframer d;
    memset(&d, 0, sizeof d);
    size_t off = 0;
    while (off < n) {
        size_t len = n - off < piece ? n - off : piece;
        const uint8_t *q = p + off;
        off += len;
        while (len) {
            size_t used = 0;
            int rc = vx_grpc_deframe(&d, q, len, 4096, &used);
            if (used > len || (rc != VX_GRPC_DF_MORE && rc != VX_GRPC_DF_MSG && used == 0 &&
                               rc != VX_GRPC_DF_TOO_BIG))
                abort();
            q += used;
            len -= used;
            if (rc == VX_GRPC_DF_TOO_BIG) goto out;
            if (rc == VX_GRPC_DF_MSG) {
                if (d.msg_len > 4096) abort();
                decode(d.msg, d.msg_len);
                vx_grpc_deframer_next(&d);
            }
        }
    }
out:
    vx_grpc_deframer_free(&d);
    return 0;
}
