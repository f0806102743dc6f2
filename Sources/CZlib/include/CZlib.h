#ifndef LOGSPOUT_CZLIB_H
#define LOGSPOUT_CZLIB_H

#include <zlib.h>

/// inflateInit2 (a macro in zlib.h) for a gzip stream (or a zlib one: the header says which).
int logspout_inflate_init(z_stream *stream);

#endif
