/* ONNX model loader: our own protobuf wire-format reader over an mmap of the file.
 *
 * Why not protobuf-c or nanopb: onnx.proto is small (we read ~12 message types), and
 *  - weights must stay zero-copy: an initializer's raw_data is a view into the mapping
 *    (protobuf-c would copy every initializer into malloc'ed memory, 63+ MB per voice);
 *  - every count and length comes from an untrusted file, so each one is checked
 *    against the bytes that remain before anything is allocated;
 *  - no generated code and no extra dependency.
 *
 * The wire format: a message is a sequence of (tag varint = field << 3 | wire type,
 * payload); payloads are a varint (0), 8 bytes (1), a length-prefixed blob (2) or
 * 4 bytes (5). Groups (3, 4) are obsolete and refused. Repeated scalars may be packed
 * (one blob) or not (one tag per value); both are accepted everywhere.
 *
 * Arrays are sized by a counting pass over a message before a filling pass, so every
 * allocation is exactly what the file describes (and bounded by its size). The reader
 * only recurses into the message types it knows, so nesting is bounded by the schema
 * (checked against VX_MODEL_MAX_NESTING anyway); unknown fields are skipped unparsed.
 *
 * Assumes a little-endian host (raw_data is little-endian and is used in place).
 *
 * This file holds the entry points (vx_model_load*, vx_model_free, deferred initializers);
 * pb.c reads the wire format, load_graph.c the model's structure, load_tensor.c tensors
 * and attributes (load_internal.h). */
#include "onnx/load_internal.h"
#include "vox.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- public API */

void vx_model_free(vx_model *m) {
    if (!m) return;
    for (int i = 0; i < m->n_inits; i++) vx_tensor_release(&m->inits[i]);
    for (int i = 0; i < m->n_nodes; i++) {
        vx_node *n = &m->nodes[i];
        for (int j = 0; j < n->n_attrs; j++) {
            vx_attr *a = &n->attrs[j];
            if (a->t && (a->type == VX_ATTR_TENSOR || a->type == VX_ATTR_TENSORS))
                for (int64_t k = 0; k < a->n; k++) vx_tensor_release(&a->t[k]);
        }
    }
    if (m->arena) {
        vx_arena_free(m->arena);
        free(m->arena);
    }
    if (m->map_base) munmap(m->map_base, m->map_size);
    free(m);
}

int vx_model_load_buffer(const void *buf, size_t len, vx_model **out, char *err, size_t errlen) {
    return vx_model_load_buffer_flags(buf, len, 0, out, err, errlen);
}

int vx_model_load_buffer_flags(const void *buf, size_t len, unsigned flags, vx_model **out,
                               char *err, size_t errlen) {
    if (err && errlen) err[0] = 0;
    if (!out) return VOX_ERR_ARG;
    *out = NULL;
    if (!buf && len) return VOX_ERR_ARG;
    vx_model *md = calloc(1, sizeof *md);
    vx_arena *arena = malloc(sizeof *arena);
    if (!md || !arena) {
        free(md);
        free(arena);
        if (err && errlen) snprintf(err, errlen, "onnx: out of memory");
        return VOX_ERR_NOMEM;
    }
    vx_arena_init(arena, (size_t)256 << 10, VX_MODEL_MAX_META_BYTES);
    md->arena = arena;
    loader L = {.arena = arena, .base = buf, .err = err, .errlen = errlen, .flags = flags};
    int rc;
    if (len > VX_MODEL_MAX_BYTES)
        rc = vx_pb_fail(&L, VOX_ERR_MODEL, NULL, "model is %zu bytes, over the %zu MiB limit", len,
                        VX_MODEL_MAX_BYTES >> 20);
    else
        rc = vx_onnx_parse_model(
            &L, (pb){buf ? buf : (const uint8_t *)"", (const uint8_t *)(buf ? buf : "") + len}, md);
    if (rc) {
        vx_model_free(md);
        return rc;
    }
    *out = md;
    return 0;
}

int vx_model_load(const char *path, vx_model **out, char *err, size_t errlen) {
    return vx_model_load_flags(path, 0, out, err, errlen);
}

int vx_model_load_flags(const char *path, unsigned flags, vx_model **out, char *err,
                        size_t errlen) {
    if (err && errlen) err[0] = 0;
    if (!out || !path) return VOX_ERR_ARG;
    *out = NULL;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below) */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        if (err && errlen) snprintf(err, errlen, "onnx: cannot open '%s': %s", path, strerror(e));
        return e == ENOENT ? VOX_ERR_NOT_FOUND : VOX_ERR_IO;
    }
    struct stat st;
    const char *why = NULL;
    if (fstat(fd, &st))
        why = strerror(errno);
    else if (S_ISDIR(st.st_mode))
        why = "is a directory, not an ONNX model";
    else if (!S_ISREG(st.st_mode))
        why = "not a regular file";
    else if (st.st_size == 0)
        why = "empty file, not an ONNX model";
    else if ((uint64_t)st.st_size > VX_MODEL_MAX_BYTES)
        why = "file larger than the 2 GiB model limit";
    if (why) {
        close(fd);
        if (err && errlen) snprintf(err, errlen, "onnx: '%s': %s", path, why);
        return VOX_ERR_MODEL;
    }
    size_t size = (size_t)st.st_size;
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED) {
        if (err && errlen) snprintf(err, errlen, "onnx: cannot map '%s': %s", path, strerror(e));
        return VOX_ERR_IO;
    }
    vx_model *md;
    int rc = vx_model_load_buffer_flags(map, size, flags, &md, err, errlen);
    if (rc) {
        munmap(map, size);
        /* name the file: prepend "path: " if there is room */
        if (err && errlen > 1) {
            size_t pl = strlen(path), el = strlen(err);
            if (pl + 2 + el < errlen && pl < 200) {
                memmove(err + pl + 2, err, el + 1);
                memcpy(err, path, pl);
                err[pl] = ':';
                err[pl + 1] = ' ';
            }
        }
        return rc;
    }
    md->map_base = map;
    md->map_size = size;
    md->has_file_id = 1;
    md->file_id[0] = (uint64_t)st.st_dev;
    md->file_id[1] = (uint64_t)st.st_ino;
    md->file_id[2] = (uint64_t)st.st_size;
    md->file_id[3] = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
    md->file_id[4] = (uint64_t)st.st_ctim.tv_sec * 1000000000u + (uint64_t)st.st_ctim.tv_nsec;
    *out = md;
    return 0;
}

const void *vx_model_init_source(const vx_model *m, int i) {
    return m && m->init_src && i >= 0 && i < m->n_inits ? m->init_src[i] : NULL;
}

int vx_model_init_deferred(const vx_model *m, int i) {
    return m && m->inits && i >= 0 && i < m->n_inits && !m->inits[i].data &&
           m->inits[i].numel > 0 && vx_model_init_source(m, i);
}

int vx_model_init_materialize(vx_model *m, int i) {
    if (!vx_model_init_deferred(m, i)) return 0;
    vx_tensor *t = &m->inits[i];
    size_t bytes = vx_tensor_bytes(t);
    void *d = vx_aligned_alloc_raw(bytes);
    if (!d) return VOX_ERR_NOMEM;
    memcpy(d, m->init_src[i], bytes);
    t->data = d;
    t->owned = 1;
    return 0;
}
