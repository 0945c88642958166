/*
 * wyoming.h — voxd's Wyoming front end (Home Assistant's voice protocol), over job.h:
 * `voxd --wyoming tcp://HOST[:PORT]` (default port 10200) or `--wyoming unix:///path`,
 * beside the HTTP listener or instead of it (--no-http). Same voices, workers, scheduler
 * and limits as HTTP. wyoming.c says which events it answers and how.
 */
#ifndef VX_WYOMING_H
#define VX_WYOMING_H

#include <stddef.h>

typedef struct vx_server vx_server;
typedef struct vx_wyoming vx_wyoming;

#define VX_WY_DEFAULT_PORT 10200

/* Listen on uri (loop thread, after the loop exists). 0, or -1 with err set. */
int vx_wyoming_start(vx_server *s, const char *uri, char *err, size_t errlen);
/* Timeouts (write, idle, partial event) and the drain; from the server's sweep. */
void vx_wyoming_sweep(vx_server *s, double now);
/* Stop accepting; idle connections close, busy ones after their answer. */
void vx_wyoming_drain(vx_server *s);
/* Close everything (the loop is stopping). */
void vx_wyoming_stop(vx_server *s);
int vx_wyoming_conns(const vx_server *s);
/* After the loop ended: free the rest, remove the unix socket. */
void vx_wyoming_free(vx_server *s);

#endif
