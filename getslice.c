#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/syscall.h>
struct attr { uint32_t size, policy; uint64_t flags; int32_t nice; uint32_t prio; uint64_t runtime, deadline, period; };
int main(int argc, char **argv) { for (int i = 1; i < argc; i++) { struct attr g = {0}; syscall(SYS_sched_getattr, atoi(argv[i]), &g, sizeof g, 0); printf("%s policy %u nice %d runtime %llu\n", argv[i], g.policy, g.nice, (unsigned long long)g.runtime); } }
