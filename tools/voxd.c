/*
 * voxd — OpenAI-compatible text-to-speech server on libvox.
 *
 *   voxd [--host 127.0.0.1] [--port 5500] [--workers N] [--queue N] [--voice espeak:en-us]
 *        [--data-dir DIR]... [--api-key KEY] [--max-input N] [--timeout S]
 *        [--tls-cert PEM --tls-key PEM [--tls12] [--plain-port N]] [--alias alloy=VOICE]...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "vox.h"

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: voxd [options]\n"
        "  --host ADDR          listen address (default 127.0.0.1)\n"
        "  --port N             listen port (default 5500; 0 = any free port)\n"
        "  --wyoming URI        also speak Wyoming (Home Assistant): tcp://HOST[:PORT] (port\n"
        "                       default 10200) or unix:///PATH; --no-http: Wyoming only\n"
        "  --workers N          synthesis threads (default: number of CPUs)\n"
        "  --queue N            speech requests admitted at once; more get 429 (default 64)\n"
        "  --voice NAME         default voice (default espeak:en-us)\n"
        "  --preload NAME       also load this voice at start (repeatable, up to 8)\n"
        "  --lexicon [VOICE=]FILE  pronunciation lexicon for every voice or one voice\n"
        "                       (repeatable, up to 8; reloaded when the file changes)\n"
        "  --data-dir DIR       where Piper voices are looked up (repeatable, up to 8;\n"
        "                       default ~/.local/share/vox/voices, never the working dir)\n"
        "  --precision P        fp32 (default), bf16 or int8 for Piper voices' flow + decoder\n"
        "  --voice-precision NAME=P  that voice in precision P (repeatable, up to 8)\n"
        "  --pack-cache DIR|off packed-weight cache of Piper voices (default $VOX_PACK_CACHE,\n"
        "                       else ~/.cache/vox/pack): later loads map, not pack\n"
        "  --loudness L         Piper voices' level when a request does not ask: steady\n"
        "                       (default: one gain per voice and a soft limiter; audio streams\n"
        "                       from inside a sentence) or peak (Piper's: each sentence scaled\n"
        "                       to its peak, so a sentence is sent only once it is whole)\n"
        "  --alias NAME=VOICE   map an OpenAI voice name (alloy, nova, ...) to a voice\n"
        "  --api-key KEY        require 'Authorization: Bearer KEY' on /v1 (or env VOX_API_KEY)\n"
        "  --max-input N        max input characters (default 4096)\n"
        "  --timeout S          per-request synthesis timeout in seconds (default 60)\n"
        "  --header-timeout S   a request head must arrive within S seconds (default 10)\n"
        "  --idle-timeout S     close idle keep-alive connections after S seconds (default 60)\n"
        "  --write-timeout S    drop a client that reads nothing for S seconds (default 30)\n"
        "  --min-rate B         a client with output pending must read B bytes/s, measured\n"
        "                       over each write-timeout window, or is dropped (default 1024)\n"
        "  --max-audio S        seconds of audio per request at most; more is a 400 (default 600)\n"
        "  --max-conns N        open connections at most (default 1024)\n"
        "  --tls-cert PEM       certificate chain: serve TLS 1.3 (h2 and http/1.1 via ALPN)\n"
        "  --tls-key PEM        private key\n"
        "  --tls12              also accept TLS 1.2\n"
        "  --plain-port N       with TLS: also serve plaintext HTTP/1.1 + h2c on this port\n"
        "  --port-file FILE     write the bound ports here once listening\n"
        "  --quiet              no log lines\n"
        "  --stub-engine MS     test hook: a tone generator instead of libvox, MS per sentence\n");
}

static int num(const char *s, double lo, double hi, double *out) {
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || !(v >= lo && v <= hi)) return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv) {
    vx_server_config c;
    vx_server_config_init(&c);
    const char *env_key = getenv("VOX_API_KEY");
    if (env_key && *env_key) c.api_key = env_key;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d;
#define NEED_ARG()                                                                                 \
    do {                                                                                           \
        if (!v) {                                                                                  \
            fprintf(stderr, "voxd: %s needs a value\n", a);                                        \
            return 2;                                                                              \
        }                                                                                          \
        i++;                                                                                       \
    } while (0)
#define NUM(lo, hi)                                                                                \
    do {                                                                                           \
        NEED_ARG();                                                                                \
        if (num(v, lo, hi, &d)) {                                                                  \
            fprintf(stderr, "voxd: bad value for %s: '%s' (%g..%g)\n", a, v, (double)(lo),         \
                    (double)(hi));                                                                 \
            return 2;                                                                              \
        }                                                                                          \
    } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--version")) {
            printf("voxd %s\n", vox_version());
            return 0;
        } else if (!strcmp(a, "--host")) {
            NEED_ARG();
            c.host = v;
        } else if (!strcmp(a, "--port")) {
            NUM(0, 65535);
            c.port = (int)d;
        } else if (!strcmp(a, "--plain-port")) {
            NUM(0, 65535);
            c.plain_port = (int)d;
        } else if (!strcmp(a, "--workers")) {
            NUM(1, 256);
            c.workers = (int)d;
        } else if (!strcmp(a, "--queue")) {
            NUM(1, 100000);
            c.queue = (int)d;
        } else if (!strcmp(a, "--voice")) {
            NEED_ARG();
            c.default_voice = v;
        } else if (!strcmp(a, "--preload")) {
            NEED_ARG();
            if (c.n_preload == 8) {
                fprintf(stderr, "voxd: at most 8 --preload\n");
                return 2;
            }
            c.preload[c.n_preload++] = v;
        } else if (!strcmp(a, "--lexicon")) {
            NEED_ARG();
            if (c.n_lexicons == 8) {
                fprintf(stderr, "voxd: at most 8 --lexicon\n");
                return 2;
            }
            c.lexicons[c.n_lexicons++] = v;
        } else if (!strcmp(a, "--data-dir")) {
            NEED_ARG();
            if (c.n_data_dirs == 8) {
                fprintf(stderr, "voxd: at most 8 --data-dir\n");
                return 2;
            }
            c.data_dirs[c.n_data_dirs++] = v;
        } else if (!strcmp(a, "--precision")) {
            NEED_ARG();
            if ((c.precision = vox_precision_parse(v)) < 0) {
                fprintf(stderr, "voxd: bad --precision '%s' (fp32, bf16 or int8)\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--pack-cache")) {
            NEED_ARG();
            /* read by every voice load (vox_load_options.pack_cache NULL); set before any
             * thread exists */
            setenv("VOX_PACK_CACHE", v, 1);
        } else if (!strcmp(a, "--loudness")) {
            NEED_ARG();
            if (!strcmp(v, "steady"))
                c.loudness = VOX_NORMALIZE_STEADY;
            else if (!strcmp(v, "peak"))
                c.loudness = VOX_NORMALIZE_PEAK;
            else {
                fprintf(stderr, "voxd: bad --loudness '%s' (steady or peak)\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--voice-precision")) {
            NEED_ARG();
            const char *eq = strrchr(v, '=');
            int pr = eq ? vox_precision_parse(eq + 1) : -1;
            if (!eq || eq == v || pr < 0 || (size_t)(eq - v) >= VX_VOICE_NAME_MAX ||
                c.n_voice_precision == 8) {
                fprintf(stderr, "voxd: bad --voice-precision '%s' (NAME=fp32|bf16|int8, up to 8)\n",
                        v);
                return 2;
            }
            vx_voice_precision *vp = &c.voice_precision[c.n_voice_precision++];
            memcpy(vp->name, v, (size_t)(eq - v));
            vp->name[eq - v] = 0;
            vp->precision = pr;
        } else if (!strcmp(a, "--alias")) {
            NEED_ARG();
            const char *eq = strchr(v, '=');
            if (!eq || eq == v || (size_t)(eq - v) >= sizeof(c.aliases[0].name) ||
                strlen(eq + 1) >= sizeof(c.aliases[0].voice) || c.n_aliases == VX_MAX_ALIASES) {
                fprintf(stderr, "voxd: bad --alias '%s' (NAME=VOICE)\n", v);
                return 2;
            }
            vx_alias *al = &c.aliases[c.n_aliases++];
            memcpy(al->name, v, (size_t)(eq - v));
            al->name[eq - v] = 0;
            snprintf(al->voice, sizeof(al->voice), "%s", eq + 1);
        } else if (!strcmp(a, "--api-key")) {
            NEED_ARG();
            c.api_key = v;
        } else if (!strcmp(a, "--max-input")) {
            NUM(1, VOX_MAX_TEXT_BYTES / 4);
            c.max_input = (size_t)d;
        } else if (!strcmp(a, "--timeout")) {
            NUM(0.1, 86400);
            c.timeout = d;
        } else if (!strcmp(a, "--header-timeout")) {
            NUM(0.1, 3600);
            c.header_timeout = d;
        } else if (!strcmp(a, "--idle-timeout")) {
            NUM(0.1, 86400);
            c.idle_timeout = d;
        } else if (!strcmp(a, "--write-timeout")) {
            NUM(0.1, 86400);
            c.write_timeout = d;
        } else if (!strcmp(a, "--min-rate")) {
            NUM(0, 1e9);
            c.min_rate = d;
        } else if (!strcmp(a, "--max-audio")) {
            NUM(1, 86400);
            c.max_audio = d;
        } else if (!strcmp(a, "--max-conns")) {
            NUM(1, 1000000);
            c.max_conns = (int)d;
        } else if (!strcmp(a, "--tls-cert")) {
            NEED_ARG();
            c.tls_cert = v;
        } else if (!strcmp(a, "--tls-key")) {
            NEED_ARG();
            c.tls_key = v;
        } else if (!strcmp(a, "--tls12"))
            c.tls12 = 1;
        else if (!strcmp(a, "--port-file")) {
            NEED_ARG();
            c.port_file = v;
        } else if (!strcmp(a, "--quiet"))
            c.quiet = 1;
        else if (!strcmp(a, "--wyoming")) {
            NEED_ARG();
            c.wyoming = v;
        } else if (!strcmp(a, "--no-http"))
            c.no_http = 1;
        else if (!strcmp(a, "--stub-engine")) {
            NUM(0, 60000);
            c.stub_delay_ms = (int)d;
        } else {
            fprintf(stderr, "voxd: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
#undef NUM
#undef NEED_ARG
    }
    return vx_server_run(&c);
}
