/* report_text.c - the stats table people read at exit. */
#include "observe/report.h"
#include "sys/outbuf.h"
#include "core/hot.h"

static void bytes_h(struct mv_outbuf *o, uint64_t b, int w)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	char tmp[32];
	struct mv_outbuf t;
	double v = (double)b;
	int u = 0;
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	mv_out_init(&t, tmp, sizeof(tmp), -1);
	mv_out_fixed(&t, v, u ? 1 : 0);
	mv_out_str(&t, unit[u]);
	const char *s = mv_out_cstr(&t);
	for (int i = (int)t.len; i < w; i++)
		mv_out_char(o, ' ');
	mv_out_str(o, s);
}

static void hist_line(struct mv_outbuf *o, const struct mv_stat_row *row)
{
	static const char *const unit[] = { "", "K", "M", "G", "T", "P" };
	mv_out_str(o, "madvisor:     sizes");
	for (int b = 0; b < MV_HIST_BUCKETS; b++) {
		if (!row->hist[b])
			continue;
		uint64_t f = mv_stats_bucket_floor(b);
		int u = 0;
		while (f >= 1024 && u < 5) {
			f /= 1024;
			u++;
		}
		mv_out_str(o, b ? " >=" : " <4K");
		if (b) {
			mv_out_u64(o, f);
			mv_out_str(o, unit[u]);
		}
		mv_out_char(o, ':');
		mv_out_u64(o, row->hist[b]);
	}
	mv_out_char(o, '\n');
}

int mv_report_text(const struct mv_report *r, int fd)
{
	char buf[4096];
	struct mv_outbuf o;
	mv_out_init(&o, buf, sizeof(buf), fd);

	mv_out_str(&o, "madvisor: stats for pid ");
	mv_out_i64(&o, r->pid);
	mv_out_str(&o, " (");
	mv_out_str(&o, r->exe);
	mv_out_str(&o, "), ");
	mv_out_fixed(&o, (double)r->elapsed_ns / 1e9, 2);
	mv_out_str(&o, " s, allocator ");
	mv_out_str(&o, mv_allocator_name(r->allocator->kind));
	if (r->allocator->library[0]) {
		mv_out_str(&o, " (");
		mv_out_str(&o, r->allocator->library);
		if (r->allocator->found_by == MV_FOUND_SYMTAB || r->allocator->prefix[0]) {
			mv_out_str(&o, r->allocator->found_by == MV_FOUND_SYMTAB ? ", found in its .symtab"
										: ", found in its exported symbols");
			if (r->allocator->prefix[0]) {
				mv_out_str(&o, ", prefix ");
				mv_out_str(&o, r->allocator->prefix);
			}
		}
		mv_out_char(&o, ')');
	}
	if (r->allocator->stripped)
		mv_out_str(&o, r->allocator->stripped == MV_HIDDEN_STRIPPED
				       ? "; malloc is linked into a stripped object: an allocator there cannot be seen"
				       : "; malloc is linked into an object whose symbol table cannot be read");
	mv_out_char(&o, '\n');
	mv_out_str(&o, "madvisor: kernel ");
	mv_out_i64(&o, r->kernel->kernel_major);
	mv_out_char(&o, '.');
	mv_out_i64(&o, r->kernel->kernel_minor);
	mv_out_str(&o, r->kernel->pt_reclaim ? ": PT_RECLAIM yes" : ": PT_RECLAIM no");
	mv_out_str(&o, r->kernel->madv_free ? ", MADV_FREE yes" : ", MADV_FREE no");
	mv_out_str(&o, r->kernel->process_madvise_self ? ", process_madvise(self) yes" : ", process_madvise(self) no");
	mv_out_str(&o, r->kernel->userfaultfd ? ", userfaultfd yes" : ", userfaultfd no");
	mv_out_str(&o, r->kernel->mseal ? ", mseal yes" : ", mseal no");
	mv_out_str(&o, ", THP ");
	mv_out_str(&o, mv_probe_thp_name(r->kernel->thp));
	mv_out_char(&o, '\n');
	mv_out_str(&o, "madvisor: call             detail                    calls  errors       bytes"
		       "   kernel-ms   us/call  whole-2MiB\n");
	int any = 0;
	for (int i = 0; i < MV_ROW_COUNT; i++) {
		const struct mv_stat_row *row = &r->stats.row[i];
		if (!row->calls)
			continue;
		any = 1;
		double ns = mv_report_kernel_ns(r, row);
		mv_out_str(&o, "madvisor: ");
		mv_out_pad_str(&o, mv_stats_row_kind(i), 17);
		mv_out_pad_str(&o, mv_stats_row_detail(i), 20);
		mv_out_pad_u64(&o, row->calls, 11);
		mv_out_pad_u64(&o, row->errors, 8);
		bytes_h(&o, row->bytes, 12);
		mv_out_str(&o, "  ");
		char tmp[32];
		struct mv_outbuf t;
		mv_out_init(&t, tmp, sizeof(tmp), -1);
		mv_out_fixed(&t, ns / 1e6, 3);
		mv_out_pad_str(&o, "", 10 - (int)t.len);
		mv_out_str(&o, mv_out_cstr(&t));
		mv_out_init(&t, tmp, sizeof(tmp), -1);
		mv_out_fixed(&t, ns / 1e3 / (double)row->calls, 2);
		mv_out_pad_str(&o, "", 10 - (int)t.len);
		mv_out_str(&o, mv_out_cstr(&t));
		mv_out_pad_u64(&o, row->pmd_calls, 12);
		mv_out_char(&o, '\n');
		if (row->ranges != row->calls) {
			mv_out_str(&o, "madvisor:     ranges ");
			mv_out_u64(&o, row->ranges);
			mv_out_char(&o, '\n');
		}
		hist_line(&o, row);
	}
	if (!any)
		mv_out_str(&o, "madvisor: (no calls seen)\n");
	if (mv_hot.advice.active) {
			mv_out_str(&o, "madvisor: policy madvise:");
		mv_out_str(&o, mv_madvise_mode_name(mv_hot.advice.madvise_mode));
		mv_out_str(&o, mv_hot.advice.pt_reclaim ? ", pt_reclaim:true" : ", pt_reclaim:false");
		for (int i = 0; i < MV_POL_COUNT; i++) {
			mv_out_str(&o, i ? ", " : ": ");
			mv_out_str(&o, mv_stats_policy_name(i));
			mv_out_char(&o, ' ');
			mv_out_u64(&o, r->stats.policy[i]);
		}
		mv_out_char(&o, '\n');
	}
	mv_report_text_alloc(&o, r);
	mv_report_features_text(&o);
	mv_out_str(&o, "madvisor: memory at exit: VmRSS ");
	mv_out_i64(&o, r->mem.vm_rss_kb);
	mv_out_str(&o, " kB, VmHWM ");
	mv_out_i64(&o, r->mem.vm_hwm_kb);
	mv_out_str(&o, " kB, VmPTE ");
	mv_out_i64(&o, r->mem.vm_pte_kb);
	mv_out_str(&o, " kB, VmSize ");
	mv_out_i64(&o, r->mem.vm_size_kb);
	mv_out_str(&o, " kB\n");
	if (!mv_allocator_purges_visible(r->allocator->kind))
		mv_out_str(&o, "madvisor: note: glibc malloc purges through libc-internal calls that no preload"
			       " library can see; only the program's own calls are counted\n");
	return mv_out_flush(&o);
}
