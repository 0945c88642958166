/* Speak one sentence into a WAV file with libvox.
 *
 *   cc hello.c $(pkg-config --cflags --libs vox) -o hello
 *   ./hello hello.wav "Hello from vox."            # built-in espeak-ng voice
 *   ./hello hello.wav "Hello." en_US-lessac-medium # a Piper voice in ~/.local/share/vox/voices
 */
#include <stdio.h>
#include <string.h>
#include <vox.h>

int main(int argc, char **argv) {
    const char *out = argc > 1 ? argv[1] : "hello.wav";
    const char *text = argc > 2 ? argv[2] : "Hello from vox.";
    const char *name = argc > 3 ? argv[3] : "espeak:en-us";
    char err[256];
    vox_voice *voice;
    int rc = vox_voice_load(name, NULL, &voice, err, sizeof err);
    if (rc) {
        fprintf(stderr, "hello: %s\n", err);
        return 1;
    }

    vox_synth_options opt;
    vox_synth_options_init(&opt);
    vox_synth *s;
    if ((rc = vox_synth_start(voice, text, strlen(text), &opt, &s))) {
        fprintf(stderr, "hello: %s\n", vox_strerror(rc));
        vox_voice_free(voice);
        return 1;
    }
    FILE *f = fopen(out, "wb");
    if (!f) {
        perror(out);
        vox_synth_free(s);
        vox_voice_free(voice);
        return 1;
    }
    unsigned char hdr[44];
    fwrite(hdr, 1, sizeof hdr, f); /* placeholder: the sizes are known at the end */
    uint64_t n = 0;
    int rate = 0;
    vox_chunk c;
    do { /* audio arrives sentence by sentence */
        if ((rc = vox_synth_next(s, &c))) break;
        fwrite(c.pcm16, sizeof *c.pcm16, c.n_samples, f);
        n += c.n_samples;
        if (c.sample_rate) rate = c.sample_rate;
    } while (!c.last);
    if (rc) fprintf(stderr, "hello: %s: %s\n", vox_strerror(rc), vox_synth_error(s));
    vox_wav_header(hdr, rate, n);
    fseek(f, 0, SEEK_SET);
    fwrite(hdr, 1, sizeof hdr, f);
    int bad = fclose(f) != 0 || rc;
    vox_synth_free(s);
    vox_voice_free(voice);
    if (!bad) printf("%s: %llu samples at %d Hz\n", out, (unsigned long long)n, rate);
    return bad;
}
