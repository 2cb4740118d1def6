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

// The HTTP event loops ask the kernel for a short scheduler time slice for themselves (EEVDF's
// per-task slice, Linux 6.12 and later; earlier kernels accept and ignore it). Glibc has no wrapper
// for sched_setattr and Swift cannot call the variadic syscall(), hence this wrapper. The thread's
// policy, nice value and flags are read first and written back unchanged, so only the slice moves
// (setting nice 0 over a positive nice would be refused, or for root, would raise the priority).
// Threads under a real-time or deadline policy are left alone. 0 on success, else -1 with errno.
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <errno.h>

struct czlib_sched_attr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;
    uint64_t sched_deadline;
    uint64_t sched_period;
};

static inline int czlib_set_thread_time_slice(uint64_t nanoseconds) {
    struct czlib_sched_attr attr;
    memset(&attr, 0, sizeof attr);
    if (syscall(SYS_sched_getattr, 0, &attr, (unsigned int)sizeof attr, 0) != 0) return -1;
    // SCHED_OTHER (0) and SCHED_BATCH (3) are the fair policies a slice applies to.
    if (attr.sched_policy != 0 && attr.sched_policy != 3) {
        errno = EPERM;
        return -1;
    }
    attr.size = sizeof attr;
    attr.sched_flags = 0;
    attr.sched_runtime = nanoseconds;
    attr.sched_deadline = 0;
    attr.sched_period = 0;
    return syscall(SYS_sched_setattr, 0, &attr, 0) == 0 ? 0 : -1;
}
