#include <sqlite3.h>

/* sqlite3_config is variadic, which Swift cannot call; these wrap the calls we make. */

/* Turns off SQLite's global memory statistics. With them on, every allocation takes one global
   mutex, which all connections (the writer, the readers, the checkpointer) contend for. Must run
   before sqlite3_initialize (any open runs it); afterwards it returns SQLITE_MISUSE and changes
   nothing. */
static inline int csqlite_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
