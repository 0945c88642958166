/* libFuzzer target: the Piper voice config parser on arbitrary bytes. */
#include "voice/piper_config.h"
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vx_piper_config *c = NULL;
    char err[256];
    if (vx_piper_config_parse((const char *)data, size, &c, err, sizeof err) == 0) {
        uint32_t k = '_';
        (void)vx_piper_config_ids(c, &k, 1);
        (void)vx_piper_config_speaker(c, "speaker0");
        vx_piper_config_free(c);
    }
    return 0;
}
