/* Print Piper phoneme ids for each line of a text file, as vox computes them:
 *   gen_ids CONFIG.onnx.json VOICE_OVERRIDE|- < corpus.txt > ids.txt
 * One output line per input line: sentences separated by " | ", ids by ",".
 * Built and used by confirm.sh (not part of the library). */
#include "voice/ids.h"
#include "text/phonemize.h"
#include "voice/piper_config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: gen_ids CONFIG VOICE|- < text\n");
        return 2;
    }
    char err[512];
    vx_piper_config *c;
    if (vx_piper_config_load(argv[1], &c, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    vx_phonemize_opts o = {strcmp(argv[2], "-") ? argv[2] : c->espeak_voice, NULL,
                           c->phoneme_type_text};
    static char line[1 << 20];
    while (fgets(line, sizeof line, stdin)) {
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n') line[--len] = 0;
        vx_sentence *s;
        size_t n;
        if (vx_phonemize(&o, line, len, &s, &n, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        for (size_t i = 0; i < n; i++) {
            int64_t *ids;
            size_t ni;
            if (vx_phonemes_to_ids(c, s[i].phonemes, s[i].n_phonemes, &ids, &ni, NULL, err,
                                   sizeof err)) {
                fprintf(stderr, "%s\n", err);
                return 1;
            }
            if (i) fputs(" | ", stdout);
            for (size_t k = 0; k < ni; k++) printf(k ? ",%lld" : "%lld", (long long)ids[k]);
            free(ids);
        }
        putchar('\n');
        vx_sentences_free(s, n);
    }
    vx_piper_config_free(c);
    return 0;
}
