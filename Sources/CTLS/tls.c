#include "CTLS.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

/// The oldest queued OpenSSL error as "what: reason", or `fallback`; empties the queue.
static void describe(const char *what, const char *fallback, char *err, size_t errlen) {
    unsigned long code = ERR_peek_last_error();
    const char *reason = code ? ERR_reason_error_string(code) : NULL;
    snprintf(err, errlen, "%s: %s", what, reason ? reason : fallback);
    ERR_clear_error();
}

void *logspout_tls_context(const char *const *ca_files, int ca_count, int system_roots, const char *cert_file,
                           const char *key_file, int hardening, char *err, size_t errlen) {
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        describe("TLS", "cannot create a context", err, errlen);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (system_roots && !SSL_CTX_set_default_verify_paths(ctx)) {
        describe("the system's CA certificates", "cannot be loaded", err, errlen);
        SSL_CTX_free(ctx);
        return NULL;
    }
    for (int i = 0; i < ca_count; i++) {
        if (!SSL_CTX_load_verify_locations(ctx, ca_files[i], NULL)) {
            char what[4200];
            snprintf(what, sizeof what, "CA file '%s'", ca_files[i]);
            describe(what, "cannot be loaded", err, errlen);
            SSL_CTX_free(ctx);
            return NULL;
        }
    }
    if (cert_file && !SSL_CTX_use_certificate_chain_file(ctx, cert_file)) {
        char what[4200];
        snprintf(what, sizeof what, "client certificate '%s'", cert_file);
        describe(what, "cannot be loaded", err, errlen);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (key_file) {
        char what[4200];
        snprintf(what, sizeof what, "client key '%s'", key_file);
        if (!SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM)) {
            describe(what, "cannot be loaded", err, errlen);
            SSL_CTX_free(ctx);
            return NULL;
        }
        if (!SSL_CTX_check_private_key(ctx)) {
            describe(what, "does not match the certificate", err, errlen);
            SSL_CTX_free(ctx);
            return NULL;
        }
    }
    if (hardening) {
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        // TLS 1.2: ephemeral key exchange and AEAD ciphers only (TLS 1.3's suites all are).
        if (!SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL")) {
            describe("LOGSPOUT_TLS_HARDENING", "no cipher left", err, errlen);
            SSL_CTX_free(ctx);
            return NULL;
        }
    }
    return ctx;
}

void logspout_tls_context_free(void *context) { SSL_CTX_free(context); }

void *logspout_tls_session(void *context, int fd, const char *host, char *err, size_t errlen) {
    ERR_clear_error();
    SSL *ssl = SSL_new(context);
    if (!ssl) {
        describe("TLS", "cannot create a session", err, errlen);
        return NULL;
    }
    unsigned char ip[16];
    int literal = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
    int ok = SSL_set_fd(ssl, fd);
    if (ok && literal) {
        ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
    } else if (ok) {
        ok = SSL_set1_host(ssl, host) && SSL_set_tlsext_host_name(ssl, host);
    }
    if (!ok) {
        describe("TLS", "cannot set up the session", err, errlen);
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

void logspout_tls_session_free(void *session) {
    if (!session) return;
    ERR_clear_error();
    if (SSL_is_init_finished(session)) SSL_shutdown(session);
    ERR_clear_error();
    SSL_free(session);
}

/// The status after a failed SSL call that returned `ret`, with the reason in `err` for an error.
static int status_of(SSL *ssl, int ret, const char *what, char *err, size_t errlen) {
    int e = SSL_get_error(ssl, ret);
    switch (e) {
    case SSL_ERROR_WANT_READ: return LOGSPOUT_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE: return LOGSPOUT_TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        ERR_clear_error();
        snprintf(err, errlen, "the receiver closed the TLS connection");
        return LOGSPOUT_TLS_CLOSED;
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_last_error() == 0) {
            if (errno != 0) {
                snprintf(err, errlen, "%s: %s", what, strerror(errno));
                return LOGSPOUT_TLS_ERROR;
            }
            snprintf(err, errlen, "the receiver closed the connection%s",
                     SSL_is_init_finished(ssl) ? "" : " during the TLS handshake");
            return LOGSPOUT_TLS_CLOSED;
        }
        break;
    default:
        break;
    }
    long verify = SSL_get_verify_result(ssl);
    unsigned long code = ERR_peek_last_error();
    const char *reason = code ? ERR_reason_error_string(code) : NULL;
    if (verify != X509_V_OK && code && ERR_GET_REASON(code) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        snprintf(err, errlen, "%s: certificate verify failed (%s)", what, X509_verify_cert_error_string(verify));
    } else {
        snprintf(err, errlen, "%s: %s", what, reason ? reason : "failed");
    }
    ERR_clear_error();
    return LOGSPOUT_TLS_ERROR;
}

int logspout_tls_handshake(void *session, char *err, size_t errlen) {
    ERR_clear_error();
    errno = 0;
    int ret = SSL_connect(session);
    if (ret == 1) return LOGSPOUT_TLS_DONE;
    return status_of(session, ret, "TLS handshake", err, errlen);
}

int logspout_tls_is_tls13(void *session) { return SSL_version(session) == TLS1_3_VERSION; }

long logspout_tls_write(void *session, const void *bytes, size_t len, int *status, char *err, size_t errlen) {
    ERR_clear_error();
    errno = 0;
    size_t written = 0;
    if (SSL_write_ex(session, bytes, len, &written) == 1) {
        *status = LOGSPOUT_TLS_DONE;
        return (long)written;
    }
    int s = status_of(session, 0, "TLS write", err, errlen);
    *status = s;
    return s == LOGSPOUT_TLS_WANT_READ || s == LOGSPOUT_TLS_WANT_WRITE ? 0 : -1;
}

int logspout_tls_discard_input(void *session, char *err, size_t errlen) {
    char buf[4096];
    for (;;) {
        ERR_clear_error();
        errno = 0;
        size_t n = 0;
        if (SSL_read_ex(session, buf, sizeof buf, &n) == 1) continue;
        int s = status_of(session, 0, "TLS read", err, errlen);
        // Reading may need to write (a key update): the next write or read step goes on with it.
        return s == LOGSPOUT_TLS_WANT_WRITE ? LOGSPOUT_TLS_WANT_READ : s;
    }
}
