/* feature.h - what the library knows about each of its features.
 *
 * One row per feature in route/features.c, in the one order that start-up,
 * the fork handlers and the report follow. The type is here, below the
 * features, so that the report (observe/) can walk the rows start-up left in
 * mv_rt.features without depending on the router. */
#ifndef MADVISOR_FEATURE_H
#define MADVISOR_FEATURE_H

struct mv_options;
struct mv_task;
struct mv_outbuf;
struct mv_emit;

struct mv_feature {
	const char *name;
	unsigned route;  /* bits of mv_hot.route (hot.h) it sets while on */
	/* Turn on as the options say: 1 on, 0 off (after one line on fd when it
	 * was asked for and cannot be). NULL: always on. */
	int (*start)(const struct mv_options *o, int fd);
	/* fork, while on: prepare in table order, parent and child in reverse. */
	void (*prepare)(void);
	void (*parent)(void);
	void (*child)(void);
	/* Periodic work on the worker thread, added when the feature starts. */
	struct mv_task *tick;
	int tick_in_child;  /* a fork child starts the worker again for it */
	/* The feature's part of the report (JSON members through the emitter,
	 * text lines); nothing when it has nothing to say. */
	void (*emit_json)(struct mv_emit *e);
	void (*emit_text)(struct mv_outbuf *o);
};

#endif
