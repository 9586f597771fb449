/* objtext.c - executable segments of a loaded object, via dl_iterate_phdr. */
#include <link.h>
#include "sys/objtext.h"

struct search {
	uintptr_t pc;
	int main;  /* looking for the main program, not for pc */
	int index; /* position in the link map; 0 is the main program */
	struct mv_text *out;
	int found;
};

static int visit(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct search *s = arg;
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	int hit = 0;
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		uintptr_t start = info->dlpi_addr + ph->p_vaddr, end = start + ph->p_memsz;
		hit |= s->main ? s->index == 0 : s->pc >= start && s->pc < end;
		if (start < lo)
			lo = start;
		if (end > hi)
			hi = end;
	}
	if (!hit) {
		s->index++;
		return 0;
	}
	s->out->lo = lo;
	s->out->hi = hi;
	s->out->is_main = s->index == 0;
	s->out->bias = info->dlpi_addr;
	s->out->name = info->dlpi_name ? info->dlpi_name : "";
	s->found = 1;
	return 1;
}

int mv_object_text(const void *pc, struct mv_text *out)
{
	struct search s = { .pc = (uintptr_t)pc, .out = out };
	out->lo = out->hi = 0;
	out->is_main = 0;
	out->bias = 0;
	out->name = "";
	dl_iterate_phdr(visit, &s);
	return s.found ? 0 : -1;
}

int mv_object_main(struct mv_text *out)
{
	struct search s = { .main = 1, .out = out };
	out->lo = out->hi = 0;
	out->is_main = 0;
	out->bias = 0;
	out->name = "";
	dl_iterate_phdr(visit, &s);
	return s.found ? 0 : -1;
}
