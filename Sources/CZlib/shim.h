#include <zlib.h>

// inflateInit2/deflateInit2 are macros that Swift cannot import; these wrappers expose them.
// windowBits 16 + MAX_WBITS selects the gzip wrapper (RFC 1952) in both directions.
static inline int czlib_inflate_init_gzip(z_stream *stream) {
    return inflateInit2(stream, 16 + MAX_WBITS);
}

static inline int czlib_deflate_init_gzip(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
}
