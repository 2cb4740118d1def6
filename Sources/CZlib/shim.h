#include <zlib.h>

// inflateInit2/deflateInit2 are macros that Swift cannot import; these wrappers expose them.
// windowBits 16 + MAX_WBITS selects the gzip wrapper (RFC 1952) in both directions.
static inline int czlib_inflate_init_gzip(z_stream *stream) {
    return inflateInit2(stream, 16 + MAX_WBITS);
}

static inline int czlib_deflate_init_gzip(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
}

// Swift's Glibc module does not export epoll or eventfd. The HTTP target is the only user of this
// shim, so it carries those two headers too rather than adding a system-library target of its own.
#include <sys/epoll.h>
#include <sys/eventfd.h>
