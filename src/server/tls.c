/*
 * tls.c — TLS for voxd: OpenSSL over memory BIOs, so libuv owns the socket and every
 * ciphertext byte goes through the connection's write blocks (conn.c). TLS 1.3 only
 * unless --tls12; ALPN picks h2, else http/1.1.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "conn.h"

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg) {
    /* Prefer h2, else http/1.1; with neither, continue without ALPN (HTTP/1.1). */
    static const unsigned char pref[] = "\x02h2\x08http/1.1";
    if (SSL_select_next_proto((unsigned char **)out, outlen, pref, sizeof(pref) - 1, in, inlen) ==
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_OK;
    return SSL_TLSEXT_ERR_NOACK;
}

SSL_CTX *vx_tls_ctx_new(const vx_server_config *cfg, char *err, size_t errlen) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) return NULL;
    SSL_CTX_set_min_proto_version(ctx, cfg->tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (cfg->tls12)
        SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20"); /* h2's TLS 1.2 rules */
    /* Resumption: server-side session cache for TLS 1.2 ids, stateless tickets (two per
     * handshake by default) for TLS 1.3. */
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"voxd", 4);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(ctx, 4096);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        unsigned long e = ERR_get_error();
        snprintf(err, errlen, "TLS certificate/key: %s", e ? ERR_reason_error_string(e) : "?");
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int vx_tls_conn_init(vx_conn *c, SSL_CTX *ctx) {
    c->ssl = SSL_new(ctx);
    c->rbio = BIO_new(BIO_s_mem());
    c->wbio = BIO_new(BIO_s_mem());
    if (!c->ssl || !c->rbio || !c->wbio) {
        BIO_free(c->rbio);
        BIO_free(c->wbio);
        c->rbio = c->wbio = NULL;
        return -1;
    }
    SSL_set_bio(c->ssl, c->rbio, c->wbio); /* the SSL owns both BIOs from here */
    SSL_set_accept_state(c->ssl);
    return 0;
}

void vx_tls_conn_free(vx_conn *c) {
    if (c->ssl) SSL_free(c->ssl);
    c->ssl = NULL;
}

int vx_tls_handshaking(const vx_conn *c) { return c->ssl && !SSL_is_init_finished(c->ssl); }

/* Ciphertext the SSL produced -> write blocks. */
static void tls_drain(vx_conn *c) {
    while (!c->closing && BIO_ctrl_pending(c->wbio) > 0) {
        size_t avail;
        char *dst = vx_conn_out_space(c, &avail);
        if (!dst) return;
        int k = BIO_read(c->wbio, dst, (int)avail);
        if (k <= 0) break;
        vx_conn_out_commit(c, (size_t)k);
    }
}

void vx_tls_send(vx_conn *c, const void *data, size_t n) {
    const char *p = data;
    while (n) {
        int k = SSL_write(c->ssl, p, (int)(n > 16384 ? 16384 : n));
        if (k <= 0) {
            vx_conn_close(c);
            return;
        }
        p += k;
        n -= (size_t)k;
        tls_drain(c);
    }
}

void vx_tls_shutdown(vx_conn *c) {
    if (!c->ssl || !SSL_is_init_finished(c->ssl)) return;
    SSL_shutdown(c->ssl); /* close_notify */
    tls_drain(c);
}

void vx_tls_feed(vx_conn *c, const char *p, size_t n) {
    if (BIO_write(c->rbio, p, (int)n) != (int)n) return vx_conn_close(c);
    if (!SSL_is_init_finished(c->ssl)) {
        int rc = SSL_do_handshake(c->ssl);
        tls_drain(c);
        if (rc <= 0) {
            int err = SSL_get_error(c->ssl, rc);
            /* the alert the SSL queued goes out before the close */
            if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) vx_conn_close_flush(c);
            vx_conn_touch(c);
            return;
        }
        const unsigned char *alpn = NULL;
        unsigned alen = 0;
        SSL_get0_alpn_selected(c->ssl, &alpn, &alen);
        if (alen == 2 && !memcmp(alpn, "h2", 2)) {
            if (vx_h2_start(c)) return vx_conn_close(c);
        } else {
            c->proto = VX_PROTO_H1;
        }
    }
    char *buf = c->srv->tls_buf;
    for (;;) {
        int k = SSL_read(c->ssl, buf, sizeof(c->srv->tls_buf));
        if (k <= 0) {
            int err = SSL_get_error(c->ssl, k);
            if (err == SSL_ERROR_ZERO_RETURN)
                c->close_after_write = 1;
            else if (err != SSL_ERROR_WANT_READ)
                vx_conn_close_flush(c);
            break;
        }
        vx_conn_feed(c, buf, (size_t)k);
        if (c->closing) return;
    }
    tls_drain(c);
    vx_conn_touch(c);
}
