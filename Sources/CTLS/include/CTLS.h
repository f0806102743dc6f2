// A small client-side TLS API over OpenSSL (libssl, a system library), for emit-syslog's syslog over
// TLS. OpenSSL stays behind these functions: several of its calls are macros Swift cannot import, and
// its error queue is easiest read here. Every function that can fail writes a one-line reason to `err`.
#ifndef LOGSPOUT_CTLS_H
#define LOGSPOUT_CTLS_H
#include <stddef.h>

/// What a handshake, read or write step needs next.
enum {
    LOGSPOUT_TLS_DONE = 1,
    LOGSPOUT_TLS_WANT_READ = 2,
    LOGSPOUT_TLS_WANT_WRITE = 3,
    LOGSPOUT_TLS_CLOSED = 4,
    LOGSPOUT_TLS_ERROR = -1,
};

/// A client context: the trust store (the system's roots unless `system_roots` is 0, plus the PEM files
/// in `ca_files`), an optional client certificate and key (PEM), and with `hardening` TLS 1.2 at least
/// with forward-secret AEAD ciphers only. NULL on failure.
void *logspout_tls_context(const char *const *ca_files, int ca_count, int system_roots, const char *cert_file,
                           const char *key_file, int hardening, char *err, size_t errlen);
void logspout_tls_context_free(void *context);

/// A session on the connected non-blocking socket `fd`, which checks that the receiver's certificate is
/// valid for `host` (a name: also sent as SNI; or an IPv4/IPv6 literal). NULL on failure.
void *logspout_tls_session(void *context, int fd, const char *host, char *err, size_t errlen);
/// Sends a close_notify if it can (never waits), then frees the session. The socket stays open.
void logspout_tls_session_free(void *session);

/// One step of the handshake: DONE, WANT_READ, WANT_WRITE or ERROR.
int logspout_tls_handshake(void *session, char *err, size_t errlen);

/// Whether the session speaks TLS 1.3 (where a receiver refuses a client only after the client's side of
/// the handshake is done).
int logspout_tls_is_tls13(void *session);

/// Writes up to `len` bytes (partial writes allowed). Returns the count written (> 0), or 0 with
/// `*status` WANT_READ / WANT_WRITE (repeat the call later with the same `len`), or -1 with `*status`
/// CLOSED or ERROR.
long logspout_tls_write(void *session, const void *bytes, size_t len, int *status, char *err, size_t errlen);

/// Reads and discards what the receiver sent (session tickets, alerts). Returns WANT_READ when there is
/// nothing more for now, CLOSED when the receiver closed the connection, ERROR otherwise.
int logspout_tls_discard_input(void *session, char *err, size_t errlen);
#endif
