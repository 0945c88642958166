/* libFuzzer target: voxd's HTTP/1.1 request parser, chunked decoder and the speech
 * request JSON parser. The first byte picks what the rest of the input is fed to. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "http1_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    switch (data[0] % 3) {
    case 0: {
        vx_h1_request r;
        int rc = vx_h1_parse_head(p, n, &r);
        if (rc > 0) {
            if ((size_t)rc > n || r.n_headers > VX_H1_MAX_HEADERS) abort();
            for (int i = 0; i < r.n_headers; i++)
                if (r.headers[i].name < p || r.headers[i].value + r.headers[i].value_len > p + n)
                    abort();
            vx_h1_header_get(&r, "content-length", NULL);
        }
        break;
    }
    case 1: {
        static char out[4096];
        size_t used = 0, outlen = 0;
        int rc = vx_h1_dechunk(p, n, out, sizeof(out), &used, &outlen);
        if (rc == 1 && (used > n || outlen > sizeof(out))) abort();
        break;
    }
    default: {
        static const vx_alias al[1] = {{"nova", "espeak:de"}};
        vx_api_config cfg = {"espeak:en-us", 4096, al, 1};
        vx_speech_req req;
        vx_api_error err;
        if (vx_speech_parse(p, n, &cfg, &req, &err) == 0) {
            if (!vx_voice_name_ok(req.voice) || req.input_chars > 4096) abort();
            vx_speech_free(&req);
        } else {
            char *js = vx_api_error_json(&err);
            free(js);
        }
        break;
    }
    }
    return 0;
}
