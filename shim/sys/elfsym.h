/* elfsym.h - functions of a loaded object found in its file's .symtab.
 *
 * An allocator linked statically into the program (libjemalloc_pic.a,
 * libtcmalloc_minimal.a) or into a library exports malloc and friends but
 * not its API (mallctl, MallocExtension_*, mi_*): those are only in the
 * object file's full symbol table, when it is not stripped. The file is
 * mapped read-only for the search and unmapped before returning (start-up
 * only: a mapping that stayed could sit in a hole the program makes later). */
#ifndef MADVISOR_ELFSYM_H
#define MADVISOR_ELFSYM_H

#include <stdint.h>

#define MV_ELFSYM_UNREADABLE (-1) /* the file could not be opened, mapped or parsed */
#define MV_ELFSYM_STRIPPED (-2)   /* no .symtab */

/* Look up the defined functions names[0..n-1] in the .symtab of the ELF file
 * at path, loaded at bias (the object's l_addr); addrs[i] gets bias + value,
 * or 0 when absent. Returns how many were found, or MV_ELFSYM_*. */
int mv_elfsym_find(const char *path, uintptr_t bias, const char *const *names, uintptr_t *addrs, int n);

#endif
