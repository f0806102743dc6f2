#include "CZlib.h"

int logspout_inflate_init(z_stream *stream) {
    // 15: the largest window; +32: a gzip or a zlib header, detected.
    return inflateInit2(stream, 15 + 32);
}
