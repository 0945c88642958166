/* libFuzzer target: voxd's HTTP/2 input path. After the client preface, the input is the
 * client's frames; they go through nghttp2 into http2.c's callbacks (streams, header and
 * body limits, routing, responses, resets, the per-stream timeouts at the end). The first
 * byte picks how the frames are split into reads. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    uint8_t split = data[0];
    /* split 0: one read; else reads of `split` bytes */
    fz_run(preface, 24, data + 1, size - 1, &split, split ? 1 : 0);
    return 0;
}
