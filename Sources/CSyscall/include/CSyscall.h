// Linux headers that Glibc's Swift module does not bring in.
#ifndef LOGSPOUT_CSYSCALL_H
#define LOGSPOUT_CSYSCALL_H
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/tcp.h>
#endif
