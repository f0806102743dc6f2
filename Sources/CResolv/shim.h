// libresolv (glibc): res_query for DNS SRV records, and the parsing helpers.
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <resolv.h>
