/* libFuzzer target: voxd's HTTP/1.1 connection state machine: protocol detection (h1 or the
 * h2 preface), pipelined requests, bodies by length or chunks, keep-alive and close, the
 * answers (routes, a speech request parsed then refused by --queue 0), the timeouts at the
 * end. Input: one byte n, then n read sizes, then the bytes, fed in reads of those sizes. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t ns = data[0] % 16;
    if (size < 1 + ns) return 0;
    fz_run(NULL, 0, data + 1 + ns, size - 1 - ns, data + 1, ns);
    return 0;
}
