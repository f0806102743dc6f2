#include "CTLS.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

// OpenSSL is reached through this table. In the static container image (built with
// -DLOGSPOUT_TLS_LINKED and linked with -lssl -lcrypto) the linker fills it; in a dynamically linked
// build it is filled from libssl.so.3 by dlopen the first time a TLS context is made, so a pipeline
// without TLS routes never maps OpenSSL (about 1.7 MB of memory per process otherwise).
#define LOGSPOUT_OPENSSL_FUNCTIONS(X) \
    X(ERR_peek_last_error) X(ERR_reason_error_string) X(ERR_clear_error) X(TLS_client_method) \
    X(SSL_CTX_new) X(SSL_CTX_free) X(SSL_CTX_set_verify) X(SSL_CTX_ctrl) X(SSL_CTX_set_default_verify_paths) \
    X(SSL_CTX_load_verify_locations) X(SSL_CTX_use_certificate_chain_file) X(SSL_CTX_use_PrivateKey_file) \
    X(SSL_CTX_check_private_key) X(SSL_CTX_set_cipher_list) X(SSL_new) X(SSL_free) X(SSL_set_fd) \
    X(SSL_get0_param) X(X509_VERIFY_PARAM_set1_ip_asc) X(SSL_set1_host) X(SSL_ctrl) X(SSL_is_init_finished) \
    X(SSL_shutdown) X(SSL_get_error) X(SSL_get_verify_result) X(X509_verify_cert_error_string) \
    X(SSL_connect) X(SSL_version) X(SSL_write_ex) X(SSL_read_ex)

static struct {
#define LOGSPOUT_FIELD(name) __typeof__(name) *name;
    LOGSPOUT_OPENSSL_FUNCTIONS(LOGSPOUT_FIELD)
#undef LOGSPOUT_FIELD
} ossl;
static int ossl_loaded;

/// Fills the table once; 0 with the reason in `err` when OpenSSL cannot be found.
static int load_openssl(char *err, size_t errlen) {
    if (ossl_loaded) return 1;
#ifdef LOGSPOUT_TLS_LINKED
#define LOGSPOUT_LINK(name) ossl.name = name;
    LOGSPOUT_OPENSSL_FUNCTIONS(LOGSPOUT_LINK)
#undef LOGSPOUT_LINK
#else
    // libssl.so.3 brings libcrypto.so.3 in with it; dlsym on its handle searches both.
    void *handle = dlopen("libssl.so.3", RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        snprintf(err, errlen, "syslog over TLS needs OpenSSL 3 (libssl.so.3): %s", dlerror());
        return 0;
    }
#define LOGSPOUT_FIND(name) \
    if (!(ossl.name = (__typeof__(name) *)dlsym(handle, #name))) { \
        snprintf(err, errlen, "syslog over TLS: OpenSSL lacks %s", #name); \
        return 0; \
    }
    LOGSPOUT_OPENSSL_FUNCTIONS(LOGSPOUT_FIND)
#undef LOGSPOUT_FIND
#endif
    ossl_loaded = 1;
    return 1;
}

/// The newest queued OpenSSL error as "what: reason", or `fallback`; empties the queue.
static void describe(const char *what, const char *fallback, char *err, size_t errlen) {
    unsigned long code = ossl.ERR_peek_last_error();
    const char *reason = code ? ossl.ERR_reason_error_string(code) : NULL;
    snprintf(err, errlen, "%s: %s", what, reason ? reason : fallback);
    ossl.ERR_clear_error();
}

void *logspout_tls_context(const char *const *ca_files, int ca_count, int system_roots, const char *cert_file,
                           const char *key_file, int hardening, char *err, size_t errlen) {
    if (!load_openssl(err, errlen)) return NULL;
    ossl.ERR_clear_error();
    SSL_CTX *ctx = ossl.SSL_CTX_new(ossl.TLS_client_method());
    if (!ctx) {
        describe("TLS", "cannot create a context", err, errlen);
        return NULL;
    }
    ossl.SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    ossl.SSL_CTX_ctrl(ctx, SSL_CTRL_MODE, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER, NULL);
    if (system_roots && !ossl.SSL_CTX_set_default_verify_paths(ctx)) {
        describe("the system's CA certificates", "cannot be loaded", err, errlen);
        ossl.SSL_CTX_free(ctx);
        return NULL;
    }
    for (int i = 0; i < ca_count; i++) {
        if (!ossl.SSL_CTX_load_verify_locations(ctx, ca_files[i], NULL)) {
            char what[4200];
            snprintf(what, sizeof what, "LOGSPOUT_TLS_CA_CERTS '%s'", ca_files[i]);
            describe(what, "cannot be loaded", err, errlen);
            ossl.SSL_CTX_free(ctx);
            return NULL;
        }
    }
    if (cert_file && !ossl.SSL_CTX_use_certificate_chain_file(ctx, cert_file)) {
        char what[4200];
        snprintf(what, sizeof what, "LOGSPOUT_TLS_CLIENT_CERT '%s'", cert_file);
        describe(what, "cannot be loaded", err, errlen);
        ossl.SSL_CTX_free(ctx);
        return NULL;
    }
    if (key_file) {
        char what[4200];
        snprintf(what, sizeof what, "LOGSPOUT_TLS_CLIENT_KEY '%s'", key_file);
        if (!ossl.SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM)) {
            describe(what, "cannot be loaded", err, errlen);
            ossl.SSL_CTX_free(ctx);
            return NULL;
        }
        if (!ossl.SSL_CTX_check_private_key(ctx)) {
            describe(what, "does not match the certificate", err, errlen);
            ossl.SSL_CTX_free(ctx);
            return NULL;
        }
    }
    if (hardening) {
        ossl.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, NULL);
        // TLS 1.2: ephemeral key exchange and AEAD ciphers only (TLS 1.3's suites all are).
        if (!ossl.SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL")) {
            describe("LOGSPOUT_TLS_HARDENING", "no cipher left", err, errlen);
            ossl.SSL_CTX_free(ctx);
            return NULL;
        }
    }
    return ctx;
}

void logspout_tls_context_free(void *context) { ossl.SSL_CTX_free(context); }

void *logspout_tls_session(void *context, int fd, const char *host, char *err, size_t errlen) {
    ossl.ERR_clear_error();
    SSL *ssl = ossl.SSL_new(context);
    if (!ssl) {
        describe("TLS", "cannot create a session", err, errlen);
        return NULL;
    }
    unsigned char ip[16];
    int literal = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
    int ok = ossl.SSL_set_fd(ssl, fd);
    if (ok && literal) {
        ok = ossl.X509_VERIFY_PARAM_set1_ip_asc(ossl.SSL_get0_param(ssl), host);
    } else if (ok) {
        ok = ossl.SSL_set1_host(ssl, host) && ossl.SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, (void *)host);
    }
    if (!ok) {
        describe("TLS", "cannot set up the session", err, errlen);
        ossl.SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

void logspout_tls_session_free(void *session) {
    if (!session) return;
    ossl.ERR_clear_error();
    if (ossl.SSL_is_init_finished(session)) ossl.SSL_shutdown(session);
    ossl.ERR_clear_error();
    ossl.SSL_free(session);
}

/// The status after a failed SSL call that returned `ret`, with the reason in `err` for an error.
static int status_of(SSL *ssl, int ret, const char *what, char *err, size_t errlen) {
    int e = ossl.SSL_get_error(ssl, ret);
    switch (e) {
    case SSL_ERROR_WANT_READ: return LOGSPOUT_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE: return LOGSPOUT_TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        ossl.ERR_clear_error();
        snprintf(err, errlen, "the receiver closed the TLS connection");
        return LOGSPOUT_TLS_CLOSED;
    case SSL_ERROR_SYSCALL:
        if (ossl.ERR_peek_last_error() == 0) {
            if (errno != 0) {
                snprintf(err, errlen, "%s: %s", what, strerror(errno));
                return LOGSPOUT_TLS_ERROR;
            }
            snprintf(err, errlen, "the receiver closed the connection%s",
                     ossl.SSL_is_init_finished(ssl) ? "" : " during the TLS handshake");
            return LOGSPOUT_TLS_CLOSED;
        }
        break;
    default:
        break;
    }
    long verify = ossl.SSL_get_verify_result(ssl);
    unsigned long code = ossl.ERR_peek_last_error();
    const char *reason = code ? ossl.ERR_reason_error_string(code) : NULL;
    if (verify != X509_V_OK && code && ERR_GET_REASON(code) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        snprintf(err, errlen, "%s: certificate verify failed (%s)", what, ossl.X509_verify_cert_error_string(verify));
    } else {
        snprintf(err, errlen, "%s: %s", what, reason ? reason : "failed");
    }
    ossl.ERR_clear_error();
    return LOGSPOUT_TLS_ERROR;
}

int logspout_tls_handshake(void *session, char *err, size_t errlen) {
    ossl.ERR_clear_error();
    errno = 0;
    int ret = ossl.SSL_connect(session);
    if (ret == 1) return LOGSPOUT_TLS_DONE;
    return status_of(session, ret, "TLS handshake", err, errlen);
}

int logspout_tls_is_tls13(void *session) { return ossl.SSL_version(session) == TLS1_3_VERSION; }

long logspout_tls_write(void *session, const void *bytes, size_t len, int *status, char *err, size_t errlen) {
    ossl.ERR_clear_error();
    errno = 0;
    size_t written = 0;
    if (ossl.SSL_write_ex(session, bytes, len, &written) == 1) {
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
        ossl.ERR_clear_error();
        errno = 0;
        size_t n = 0;
        if (ossl.SSL_read_ex(session, buf, sizeof buf, &n) == 1) continue;
        int s = status_of(session, 0, "TLS read", err, errlen);
        // Reading may need to write (a key update): the next write or read step goes on with it.
        return s == LOGSPOUT_TLS_WANT_WRITE ? LOGSPOUT_TLS_WANT_READ : s;
    }
}
