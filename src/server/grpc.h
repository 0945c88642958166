/*
 * grpc.h — voxd's gRPC front end (grpc.c) as http2.c sees it: an HTTP/2 stream whose
 * request content-type is application/grpc[+proto] is handed here from its headers on
 * (one small hook in http2.c), and answered with length-prefixed messages and trailers.
 */
#ifndef VX_GRPC_H
#define VX_GRPC_H

#include <stddef.h>
#include <stdint.h>

typedef struct vx_req vx_req;
typedef struct vx_grpc_call vx_grpc_call;
typedef struct vx_server vx_server;

/* A request header of the stream (not a pseudo-header, not authorization): grpc.c keeps
 * content-type, grpc-timeout and grpc-encoding. */
void vx_grpc_header(vx_req *r, const uint8_t *name, size_t nl, const uint8_t *value, size_t vl);
/* 1: the stream is a gRPC call (its content-type said so); the hooks below take it. */
int vx_grpc_is(const vx_req *r);
void vx_grpc_headers_done(vx_req *r); /* request HEADERS complete */
void vx_grpc_data(vx_req *r, const uint8_t *p, size_t n);
void vx_grpc_end_stream(vx_req *r); /* the client half-closed */
void vx_grpc_free(vx_req *r);       /* the stream is gone (vx_req_free) */

/* server.c: readiness changed (the start-up voices are loaded; a drain began). Open
 * Health/Watch calls get the new status. */
void vx_grpc_health_changed(vx_server *s);

#endif
