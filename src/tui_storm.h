/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tui_storm.h: the live view's storm screen (key e): the sub-second heat
 * map of eviction, the episodes newest first with one selected, and the
 * selected episode's figures, cycle and verdict. It fits 80x24 and uses
 * the room a larger terminal gives. tui.c decides when it is shown.
 */
#ifndef REDPROF_TUI_STORM_H
#define REDPROF_TUI_STORM_H

#include <stdbool.h>
#include <stddef.h>

#include "episode.h"
#include "heatmap.h"
#include "panel.h"
#include "session.h"

#define STORM_VIEW_SECONDS 300	/* heat-map columns kept for drawing: wider than a screen */
#define STORM_VIEW_EPISODES 64	/* episodes listed */

/* What the screen draws: a copy taken at each interval, so that pausing freezes it. */
struct storm_view {
	const char *why;			/* why there is no storm to show; NULL when there is */
	struct heat_column col[STORM_VIEW_SECONDS];	/* the newest seconds, oldest first */
	size_t ncol;
	struct episode ep[STORM_VIEW_EPISODES];	/* newest first, the one going on included */
	size_t nep;
	size_t older;				/* episodes found before those */
	unsigned selected;			/* the selected episode's id; 0: always the newest */
};

/* Takes the copy to draw from S's storm. */
void storm_view_show(struct storm_view *v, const struct session *s);

/* The storm screen in BODY; TITLE_ATTR for panel titles. */
void storm_view_draw(const struct storm_view *v, const struct session *s, struct rect body, int title_attr);

/* Acts on key CH (arrows, j/k, Home: the selection); false when it is not one of its keys. */
bool storm_view_key(struct storm_view *v, int ch);

/* The episode going on, as last shown; NULL when there is none. */
const struct episode *storm_view_ongoing(const struct storm_view *v);

#endif /* REDPROF_TUI_STORM_H */
