/*
 * server.c — voxd's lifecycle: listen, accept, signals, graceful drain, and the worker
 * completions handed back to the loop. The byte paths are in conn.c (write, read,
 * timeouts), tls.c, http1.c and http2.c; what is answered in routes.c and openai.c
 * (speech jobs: job.c).
 */
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "wyoming.h"
#include "grpc.h"

double vx_now(void) { return (double)uv_hrtime() / 1e9; }

void vx_log(vx_server *s, const char *fmt, ...) {
    if (s->cfg.quiet) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "voxd: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void vx_server_config_init(vx_server_config *c) {
    memset(c, 0, sizeof(*c));
    c->host = "127.0.0.1";
    c->port = 5500;
    c->plain_port = -1;
    c->queue = 64;
    c->default_voice = "espeak:en-us";
    c->max_input = 4096;
    c->timeout = 60;
    c->header_timeout = 10;
    c->idle_timeout = 60;
    c->write_timeout = 30;
    c->min_rate = 1024;
    c->max_audio = 600;
    c->loudness = VOX_NORMALIZE_STEADY;
    c->max_conns = 1024;
    c->stub_delay_ms = -1;
}

/* ------------------------------------------------------------ lifecycle */

static void close_listeners(vx_server *s) {
    if (s->have_listener) {
        uv_close((uv_handle_t *)&s->listener, NULL);
        s->have_listener = 0;
    }
    if (s->have_plain) {
        uv_close((uv_handle_t *)&s->plain_listener, NULL);
        s->have_plain = 0;
    }
}

static void begin_drain(vx_server *s) {
    if (s->draining) return;
    s->draining = 1;
    s->drain_deadline = vx_now() + s->cfg.timeout + 5;
    close_listeners(s);
    vx_wyoming_drain(s);
    for (vx_conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        if (c->h2)
            vx_h2_goaway(c);
        else if (!c->req && c->h1state != VX_H1_BUSY) {
            vx_conn_close(c);
        } else {
            c->keep_alive = 0;
        }
    }
    vx_grpc_health_changed(s); /* gRPC Health/Watch: NOT_SERVING, then the call ends */
}

static void on_async(uv_async_t *h);

static void stop_loop(vx_server *s) {
    close_listeners(s);
    vx_wyoming_stop(s);
    /* Workers first: after the join, nothing can touch the async handle. */
    vx_sched_stop(&s->sched);
    on_async(&s->async);
    uv_close((uv_handle_t *)&s->async, NULL);
    uv_close((uv_handle_t *)&s->sweep, NULL);
    uv_close((uv_handle_t *)&s->check, NULL);
    uv_close((uv_handle_t *)&s->idle, NULL);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    uv_close((uv_handle_t *)&s->sigint, NULL);
}

static void on_signal(uv_signal_t *h, int signum) {
    vx_server *s = h->data;
    if (s->draining && signum == SIGINT) {
        s->drain_deadline = 0; /* second Ctrl-C: stop now */
        return;
    }
    if (!s->draining)
        vx_log(s, "signal %d: draining (%d connections, %d requests in flight)", signum, s->n_conns,
               s->n_jobs);
    begin_drain(s);
}

/* A worker runs a task: a start-up voice load here, the rest belongs to speech jobs. */
static void worker_run(vx_sched *p, vx_task *t) {
    vx_server *s = p->ctx;
    if (t->kind != VX_TASK_LOAD) return vx_job_run(s, t);
    vx_voice_ent *e;
    size_t i = t->idx;
    const char *name = i == 0 ? s->cfg.default_voice : s->cfg.preload[i - 1];
    s->load_rc[i] = vx_voices_get(&s->voices, name, &e, s->load_err[i], sizeof(s->load_err[i]));
    vx_sched_done(p, t);
}

/* Completions (workers -> loop). */
static void on_async(uv_async_t *h) {
    vx_server *s = h->data;
    vx_task *n = vx_sched_take_done(&s->sched);
    while (n) {
        vx_task *next = n->next;
        if (n->kind == VX_TASK_LOAD) {
            size_t i = n->idx;
            const char *name = i == 0 ? s->cfg.default_voice : s->cfg.preload[i - 1];
            if (s->load_rc[i] != VOX_OK) {
                fprintf(stderr, "voxd: cannot load voice '%s': %s\n", name, s->load_err[i]);
                s->exit_code = 1;
                begin_drain(s);
                s->drain_deadline = 0;
            } else {
                vx_log(s, "voice %s loaded", name);
                if (--s->loads_pending == 0) {
                    s->ready = 1;
                    vx_log(s, "ready");
                    vx_grpc_health_changed(s); /* gRPC Health/Watch streams hear it */
                }
            }
        } else {
            vx_job_on_done(s, n);
        }
        n = next;
    }
}

static void on_sweep(uv_timer_t *t) {
    vx_server *s = t->data;
    double now = vx_now();
    vx_conn_sweep(s, now);
    vx_job_sweep(s, now);
    vx_wyoming_sweep(s, now);
    if (s->draining) {
        if (now > s->drain_deadline)
            for (vx_conn *c = s->conns, *next; c; c = next) {
                next = c->next;
                vx_conn_close(c);
            }
        if (!s->n_conns && !vx_wyoming_conns(s) && (!s->n_jobs || now > s->drain_deadline))
            stop_loop(s);
    }
}

/* ------------------------------------------------------------ accept */

static void on_connection(uv_stream_t *l, int status) {
    vx_server *s = l->data;
    if (status < 0) return;
    vx_conn *c = calloc(1, sizeof(*c));
    if (!c) return;
    c->srv = s;
    uv_tcp_init(s->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(l, (uv_stream_t *)&c->tcp) || s->draining || s->n_conns >= s->cfg.max_conns ||
        !(c->in = vx_buf_get(&s->bufs))) {
        vx_buf_put(c->in);
        c->closing = 1;
        uv_close((uv_handle_t *)&c->tcp, (uv_close_cb)free);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    int sndbuf = VX_SOCK_SNDBUF; /* a fixed kernel send buffer: see conn.h */
    uv_send_buffer_size((uv_handle_t *)&c->tcp, &sndbuf);
    c->next = s->conns;
    if (s->conns) s->conns->prev = c;
    s->conns = c;
    s->n_conns++;
    s->metrics.connections_total++;
    c->last_active = c->last_write_progress = c->head_start = vx_now();
    c->proto = VX_PROTO_DETECT;
    if (l == (uv_stream_t *)&s->listener && s->ssl_ctx) {
        if (vx_tls_conn_init(c, s->ssl_ctx)) return vx_conn_close(c);
    }
    vx_conn_read_start(c);
}

static int listen_on(vx_server *s, uv_tcp_t *t, const char *host, int port, int *bound) {
    struct sockaddr_storage ss;
    int rc = strchr(host, ':') ? uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss)
                               : uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
    if (rc) return rc;
    uv_tcp_init(s->loop, t);
    t->data = s;
    if ((rc = uv_tcp_bind(t, (struct sockaddr *)&ss, 0)) ||
        (rc = uv_listen((uv_stream_t *)t, 511, on_connection))) {
        uv_close((uv_handle_t *)t, NULL);
        return rc;
    }
    struct sockaddr_storage got;
    int len = sizeof(got);
    uv_tcp_getsockname(t, (struct sockaddr *)&got, &len);
    *bound = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                             : ((struct sockaddr_in *)&got)->sin_port);
    return 0;
}

static int usable_cores(void) {
    cpu_set_t set;
    if (!sched_getaffinity(0, sizeof(set), &set) && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static int server_init(vx_server *s, const vx_server_config *cfg) {
    s->cfg = *cfg;
    if (s->cfg.workers <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        s->cfg.workers = n > 0 ? (int)(n > 64 ? 64 : n) : 2;
    }
    if (s->cfg.queue <= 0) s->cfg.queue = 1;
    /* JSON escapes can take 6 bytes per character, UTF-8 up to 4: bound the body by that. */
    /* 12 bytes a character: an astral character as a JSON escape pair (\ud83d\ude00) */
    if (!s->cfg.max_body) s->cfg.max_body = s->cfg.max_input * 12 + 16384;
    s->api.default_voice = s->cfg.default_voice;
    s->api.max_input_chars = s->cfg.max_input;
    s->api.aliases = s->cfg.aliases;
    s->api.n_aliases = s->cfg.n_aliases;
    vx_metrics_init(&s->metrics);
    vx_buf_pool_init(&s->bufs);
    if (s->cfg.stub_delay_ms >= 0)
        vx_backend_stub_init(&s->backend, s->cfg.stub_delay_ms);
    else
        vx_backend_vox_init(&s->backend);
    /* Without --data-dir: the documented default only, ~/.local/share/vox/voices (without
     * HOME: /usr/share/vox/voices), never the working directory that libvox's own default
     * adds; /v1/voices lists the same dirs. */
    if (s->cfg.n_data_dirs == 0) {
        const char *home = getenv("HOME");
        if (!home || !*home ||
            snprintf(s->home_voices, sizeof s->home_voices, "%s/.local/share/vox/voices", home) >=
                (int)sizeof s->home_voices)
            snprintf(s->home_voices, sizeof s->home_voices, "/usr/share/vox/voices");
        s->cfg.data_dirs[0] = s->home_voices;
        s->cfg.n_data_dirs = 1;
    }
    s->backend.data_dirs = s->cfg.data_dirs;
    s->backend.n_data_dirs = s->cfg.n_data_dirs;
    s->backend.precision = s->cfg.precision;
    s->backend.voice_precision = s->cfg.voice_precision;
    s->backend.n_voice_precision = s->cfg.n_voice_precision;
    /* A synthesis that runs alone may use every worker's core, never more cores than the
     * process may run on: at most `workers` threads compute at once either way. */
    int cores = usable_cores();
    s->backend.wide_threads = s->cfg.workers < cores ? s->cfg.workers : cores;
    vx_voices_init(&s->voices, &s->backend);
    char eerr[256]; /* "espeak:" names are checked against the installed voices (voices.h) */
    if (s->cfg.stub_delay_ms < 0 && vx_voices_check_espeak(&s->voices, eerr, sizeof eerr)) {
        fprintf(stderr, "voxd: cannot list the espeak-ng voices: %s\n", eerr);
        return -1;
    }
    if (!vx_voice_name_ok(s->cfg.default_voice)) {
        fprintf(stderr, "voxd: invalid default voice name '%s'\n", s->cfg.default_voice);
        return -1;
    }
    if (vx_lexicons_open(s)) return -1;
    if (s->cfg.n_preload > 8) s->cfg.n_preload = 8;
    for (int i = 0; i < s->cfg.n_preload; i++)
        if (!vx_voice_name_ok(s->cfg.preload[i])) {
            fprintf(stderr, "voxd: invalid voice name '%s'\n", s->cfg.preload[i]);
            return -1;
        }
    return 0;
}

/* Everything up to the running loop; 0, or an exit code. */
static int server_start(vx_server *s) {
    char err[256];
    if (s->cfg.tls_cert || s->cfg.tls_key) {
        if (!s->cfg.tls_cert || !s->cfg.tls_key) {
            fprintf(stderr, "voxd: --tls-cert and --tls-key go together\n");
            return 2;
        }
        if (!(s->ssl_ctx = vx_tls_ctx_new(&s->cfg, err, sizeof(err)))) {
            fprintf(stderr, "voxd: %s\n", err);
            return 2;
        }
    }
    s->loop = uv_default_loop();
    int port = 0, plain = 0, rc;
    if (s->cfg.no_http && !s->cfg.wyoming) {
        fprintf(stderr, "voxd: --no-http needs --wyoming\n");
        return 2;
    }
    if (s->cfg.wyoming && vx_wyoming_start(s, s->cfg.wyoming, err, sizeof err)) {
        fprintf(stderr, "voxd: %s\n", err);
        return 2;
    }
    if (s->cfg.no_http) {
        /* Wyoming only */
    } else if ((rc = listen_on(s, &s->listener, s->cfg.host, s->cfg.port, &port))) {
        fprintf(stderr, "voxd: cannot listen on %s:%d: %s\n", s->cfg.host, s->cfg.port,
                uv_strerror(rc));
        return 2;
    } else {
        s->have_listener = 1;
    }
    if (s->ssl_ctx && s->cfg.plain_port >= 0 && !s->cfg.no_http) {
        if ((rc = listen_on(s, &s->plain_listener, s->cfg.host, s->cfg.plain_port, &plain))) {
            fprintf(stderr, "voxd: cannot listen on %s:%d: %s\n", s->cfg.host, s->cfg.plain_port,
                    uv_strerror(rc));
            return 2;
        }
        s->have_plain = 1;
    }
    uv_async_init(s->loop, &s->async, on_async);
    s->async.data = s;
    if (vx_sched_start(&s->sched, s->cfg.workers, worker_run, s, &s->async)) {
        fprintf(stderr, "voxd: cannot start worker threads\n");
        return 2;
    }
    uv_timer_init(s->loop, &s->sweep);
    s->sweep.data = s;
    uv_timer_start(&s->sweep, on_sweep, 250, 250);
    uv_check_init(s->loop, &s->check);
    s->check.data = s;
    uv_check_start(&s->check, vx_conn_on_check);
    uv_idle_init(s->loop, &s->idle);
    s->idle.data = s;
    uv_signal_init(s->loop, &s->sigterm);
    s->sigterm.data = s;
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);
    uv_signal_init(s->loop, &s->sigint);
    s->sigint.data = s;
    uv_signal_start(&s->sigint, on_signal, SIGINT);
    /* The default voice loads on a worker: the server answers /healthz meanwhile. */
    s->loads_pending = 1 + s->cfg.n_preload;
    for (int i = 0; i < s->loads_pending; i++) {
        s->load_tasks[i].kind = VX_TASK_LOAD;
        s->load_tasks[i].idx = (size_t)i;
        vx_sched_push(&s->sched, &s->load_tasks[i]);
    }
    if (!s->cfg.no_http)
        vx_log(s, "listening on %s://%s:%d (%s, %d workers, queue %d, backend %s)",
               s->ssl_ctx ? "https" : "http", s->cfg.host, port,
               s->ssl_ctx ? "h2+http/1.1 via ALPN" : "http/1.1 + h2c", s->cfg.workers, s->cfg.queue,
               s->backend.name);
    if (plain) vx_log(s, "also plaintext (http/1.1 + h2c) on %s:%d", s->cfg.host, plain);
    if (s->cfg.port_file) {
        FILE *f = fopen(s->cfg.port_file, "w");
        if (f) {
            fprintf(f, "%d %d\n", port, plain);
            fclose(f);
        }
    }
    return 0;
}

int vx_server_run(const vx_server_config *cfg) {
    /* The one state of this process: the loop's handles and connections point to it. */
    vx_server *s = calloc(1, sizeof(*s));
    if (!s) {
        fprintf(stderr, "voxd: out of memory\n");
        return 2;
    }
    int rc = server_init(s, cfg) ? 2 : 0;
    signal(SIGPIPE, SIG_IGN);
    if (!rc) rc = server_start(s);
    if (!rc) {
        uv_run(s->loop, UV_RUN_DEFAULT);
        /* Remaining close callbacks. */
        uv_run(s->loop, UV_RUN_DEFAULT);
        uv_loop_close(s->loop);
        rc = s->exit_code;
        vx_log(s, "stopped");
    }
    vx_wyoming_free(s);
    vx_voices_free(&s->voices);
    vx_lexicons_close(s);
    vx_wblock_pool_drain(s);
    vx_job_pool_drain(s);
    vx_req_pool_drain(s);
    vx_buf_pool_drain(&s->bufs);
    vx_h2_callbacks_free(s);
    if (s->ssl_ctx) SSL_CTX_free(s->ssl_ctx);
    free(s);
    return rc;
}
