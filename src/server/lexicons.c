/* lexicons.c — voxd's --lexicon maps: "VOICE=PATH" for one voice or "PATH" for every
 * voice, each watched for changes (hot reload, at most one check a second); a request
 * keeps the map it started with. */
#include <stdio.h>
#include <string.h>

#include "state.h"

int vx_lexicons_open(vx_server *s) {
    for (int i = 0; i < s->cfg.n_lexicons && i < 8; i++) {
        const char *spec = s->cfg.lexicons[i], *eq = strchr(spec, '='), *path = eq ? eq + 1 : spec;
        char lerr[300];
        s->lex_voice[i][0] = 0;
        if (eq) {
            size_t k = (size_t)(eq - spec);
            if (k >= sizeof s->lex_voice[i]) {
                fprintf(stderr, "voxd: --lexicon: voice name too long\n");
                return -1;
            }
            memcpy(s->lex_voice[i], spec, k);
            s->lex_voice[i][k] = 0;
        }
        /* checked for changes at most once a second; a request keeps the map it started with */
        if (vox_lexicon_watch_open(path, 1000, &s->lex[i], lerr, sizeof lerr)) {
            fprintf(stderr, "voxd: --lexicon %s: %s\n", spec, lerr);
            return -1;
        }
        s->n_lex = i + 1;
    }
    return 0;
}

/* The voice's own lexicon, else the one for every voice, else NULL: one map for the
 * whole job (vox_lexicon_watch_get: the current version, held by the caller). */
vox_lexicon *vx_lexicons_for(vx_server *s, const char *voice) {
    int pick = -1;
    for (int i = 0; i < s->n_lex; i++) {
        if (!strcmp(s->lex_voice[i], voice)) {
            pick = i;
            break;
        }
        if (!s->lex_voice[i][0] && pick < 0) pick = i;
    }
    return pick >= 0 ? vox_lexicon_watch_get(s->lex[pick]) : NULL;
}

void vx_lexicons_close(vx_server *s) {
    for (int i = 0; i < s->n_lex; i++) vox_lexicon_watch_free(s->lex[i]);
    s->n_lex = 0;
}
