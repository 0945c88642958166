/* CLI-side outputs that are not audio: timings JSON, subtitles, JSON-lines input. */
#ifndef VOX_CLI_OUT_H
#define VOX_CLI_OUT_H
#include "vox.h"
#include <cjson/cJSON.h>

typedef struct vx_timings_out {
    cJSON *words, *phonemes, *sentences, *marks;
    double t; /* audio seconds written so far */
    int sample_rate;
} vx_timings_out;

void vx_timings_init(vx_timings_out *t);
/* Record one chunk (sentence) of text; times in chunks are relative to its synthesis. */
void vx_timings_add(vx_timings_out *t, const vox_chunk *ch, const char *text);
/* Write JSON and/or subtitles (format by extension: .vtt or .srt). 0 or 1 (error printed). */
int vx_timings_write(vx_timings_out *t, const char *json_path, const char *subs_path);
void vx_timings_free(vx_timings_out *t);

int vx_cli_json_input(vox_voice *v, const vox_synth_options *base, const char *out_dir, int quiet);
int vx_cli_phonemes(vox_voice *v, const char *text, const vox_synth_options *so);
/* vox lexicon compile SRC OUT | vox lexicon lookup FILE WORD... */
int vx_cli_lexicon(int argc, char **argv);
#endif
