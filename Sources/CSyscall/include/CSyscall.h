// Linux headers that Glibc's Swift module does not bring in, and a small libresolv helper.
#ifndef LOGSPOUT_CSYSCALL_H
#define LOGSPOUT_CSYSCALL_H
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netdb.h>
#include <sys/uio.h>
#include <malloc.h>

/// One DNS SRV record (RFC 2782).
struct logspout_srv {
    unsigned short priority;
    unsigned short weight;
    unsigned short port;
    char target[256];
};

/// Looks up the SRV records of `name` through the system resolver (libresolv's res_query) and
/// fills up to `max` of them into `out`. Returns how many, or -1 with *herr set to h_errno
/// (HOST_NOT_FOUND, NO_DATA, TRY_AGAIN, NO_RECOVERY) when the query failed, or -2 when the answer
/// could not be parsed.
int logspout_srv_lookup(const char *name, struct logspout_srv *out, int max, int *herr);

/// sendmmsg(2) of `count` single-buffer datagrams on a connected socket (the mmsghdr type needs
/// _GNU_SOURCE, which Swift's Glibc module is built without). Returns what sendmmsg returns.
int logspout_sendmmsg(int fd, const struct iovec *iov, unsigned int count, int flags);

/// O_NOATIME (a GNU extension of open(2), missing from Swift's Glibc module): reading does not
/// update the file's access time.
static const int logspout_o_noatime = 01000000;

/// accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC (a GNU extension, missing from Swift's Glibc module).
int logspout_accept(int fd);
#endif
