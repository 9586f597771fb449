/* elfsym.c - look up functions in an ELF file's .symtab (elfsym.h). Every
 * offset and size read from the file is checked against the file's size. */
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "sys/elfsym.h"
#include "sys/ownsys.h"

/* The class of the objects in this process. */
#if __SIZEOF_POINTER__ == 8
#define OWN_CLASS ELFCLASS64
#else
#define OWN_CLASS ELFCLASS32
#endif

/* The section headers, or NULL when they do not fit in the file. */
static const ElfW(Shdr) *sections(const unsigned char *f, size_t size, unsigned *count)
{
	const ElfW(Ehdr) *e = (const void *)f;
	if (size < sizeof(*e) || memcmp(e->e_ident, ELFMAG, SELFMAG) || e->e_ident[EI_CLASS] != OWN_CLASS ||
	    e->e_shentsize != sizeof(ElfW(Shdr)) || e->e_shoff >= size ||
	    (size - e->e_shoff) / sizeof(ElfW(Shdr)) < e->e_shnum)
		return NULL;
	*count = e->e_shnum;
	return (const void *)(f + e->e_shoff);
}

static int fits(const ElfW(Shdr) *s, size_t size)
{
	return s->sh_offset <= size && s->sh_size <= size - s->sh_offset;
}

/* Search the symbols of one SHT_SYMTAB section. */
static int search(const unsigned char *f, size_t size, const ElfW(Shdr) *sh, unsigned nsec, unsigned i,
		  uintptr_t bias, const char *const *names, uintptr_t *addrs, int n)
{
	const ElfW(Shdr) *st = &sh[i], *str = st->sh_link < nsec ? &sh[st->sh_link] : NULL;
	if (!str || str->sh_type != SHT_STRTAB || !fits(st, size) || !fits(str, size) ||
	    st->sh_entsize != sizeof(ElfW(Sym)))
		return MV_ELFSYM_UNREADABLE;
	const ElfW(Sym) *sym = (const void *)(f + st->sh_offset);
	const char *strs = (const char *)f + str->sh_offset;
	size_t nsym = st->sh_size / sizeof(ElfW(Sym)), strsize = str->sh_size;
	int found = 0;
	for (size_t k = 0; k < nsym && found < n; k++) {
		unsigned type = ELF64_ST_TYPE(sym[k].st_info);
		if (sym[k].st_shndx == SHN_UNDEF || (type != STT_FUNC && type != STT_GNU_IFUNC) ||
		    sym[k].st_name >= strsize)
			continue;
		const char *s = strs + sym[k].st_name;
		size_t room = strsize - sym[k].st_name;
		for (int w = 0; w < n; w++) {
			size_t len = strlen(names[w]);
			if (addrs[w] || s[0] != names[w][0] || len >= room || memcmp(s, names[w], len + 1))
				continue;
			addrs[w] = bias + (uintptr_t)sym[k].st_value;
			found++;
		}
	}
	return found;
}

int mv_elfsym_find(const char *path, uintptr_t bias, const char *const *names, uintptr_t *addrs, int n)
{
	struct stat sb;
	for (int w = 0; w < n; w++)
		addrs[w] = 0;
	long fd = mv_own4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	if (mv_raw_failed(fd))
		return MV_ELFSYM_UNREADABLE;
	long r = mv_own2(SYS_fstat, fd, &sb);
	long map = r == 0 && sb.st_size > 0 ? mv_own6(SYS_mmap, 0, sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0) : -1;
	mv_own1(SYS_close, fd);
	if (mv_raw_failed(map))
		return MV_ELFSYM_UNREADABLE;
	const unsigned char *f = (const unsigned char *)map;
	size_t size = (size_t)sb.st_size;
	unsigned nsec = 0;
	const ElfW(Shdr) *sh = sections(f, size, &nsec);
	int result = sh ? MV_ELFSYM_STRIPPED : MV_ELFSYM_UNREADABLE;
	for (unsigned i = 0; sh && i < nsec; i++)
		if (sh[i].sh_type == SHT_SYMTAB) {
			result = search(f, size, sh, nsec, i, bias, names, addrs, n);
			break;
		}
	mv_own2(SYS_munmap, map, size);
	return result;
}
