/* What the pieces of the ONNX loader share (internal to onnx/). The loader is three files
 * over the protobuf wire reader (pb.h):
 *   load.c         the entry points: map a file or take a buffer, free, deferred initializers;
 *   load_graph.c   ModelProto, GraphProto, NodeProto, ValueInfoProto (the model's structure);
 *   load_tensor.c  TensorProto and AttributeProto (values: initializers, attribute tensors).
 * Messages are parsed top down: load.c -> vx_onnx_parse_model -> graph, nodes ->
 * vx_onnx_parse_attr / vx_onnx_parse_tensor. */
#ifndef VX_ONNX_LOAD_INTERNAL_H
#define VX_ONNX_LOAD_INTERNAL_H
#include "onnx/pb.h"

/* Parse a TensorProto into t (zeroed by the caller). On failure t owns nothing.
 * *name_out (optional) gets the tensor's name. */
int vx_onnx_parse_tensor(loader *L, pb m, vx_tensor *t, const char **name_out);
/* Parse an AttributeProto of a node whose op type is node_op (for messages) into a. */
int vx_onnx_parse_attr(loader *L, pb m, vx_attr *a, const char *node_op);
/* Parse a ModelProto (the whole file) into md: header fields, opset, metadata, graph. */
int vx_onnx_parse_model(loader *L, pb m, vx_model *md);
#endif
