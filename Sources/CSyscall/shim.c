// The one piece of C in the project: libresolv's answer parsing is macros, which Swift cannot call.
#define _GNU_SOURCE
#include "CSyscall.h"
#include <arpa/nameser.h>
#include <resolv.h>
#include <string.h>

int logspout_srv_lookup(const char *name, struct logspout_srv *out, int max, int *herr) {
    unsigned char answer[16384];
    int len = res_query(name, ns_c_in, ns_t_srv, answer, sizeof answer);
    if (len < 0) {
        *herr = h_errno;
        return -1;
    }
    ns_msg msg;
    if (ns_initparse(answer, len, &msg) < 0) return -2;
    int count = ns_msg_count(msg, ns_s_an), n = 0;
    for (int i = 0; i < count && n < max; i++) {
        ns_rr rr;
        if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) continue;
        if (ns_rr_type(rr) != ns_t_srv || ns_rr_rdlen(rr) < 7) continue;
        const unsigned char *rd = ns_rr_rdata(rr);
        out[n].priority = ns_get16(rd);
        out[n].weight = ns_get16(rd + 2);
        out[n].port = ns_get16(rd + 4);
        if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), rd + 6, out[n].target, sizeof out[n].target) < 0) continue;
        n++;
    }
    return n;
}

int logspout_sendmmsg(int fd, const struct iovec *iov, unsigned int count, int flags) {
    struct mmsghdr headers[1024];
    if (count > 1024) count = 1024;
    memset(headers, 0, sizeof(struct mmsghdr) * count);
    for (unsigned int i = 0; i < count; i++) {
        headers[i].msg_hdr.msg_iov = (struct iovec *)&iov[i];
        headers[i].msg_hdr.msg_iovlen = 1;
    }
    return sendmmsg(fd, headers, count, flags);
}

int logspout_accept(int fd) {
    return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}
