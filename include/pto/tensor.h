/*
 * pto/tensor.h - tensors: typed N-d views (N <= 5) onto byte buffers.
 *
 * A tensor names a *buffer* (identified by its base pointer; that is what the
 * dependency tracker keys on) and a *view box* inside it. The box lives in a
 * row-major coordinate system, the *layout* (`layout[]`, starting
 * `layout_start` elements into the buffer): `off[d]`/`len[d]` give the box per
 * layout dimension. A transpose permutes only which layout dimension each view
 * dimension maps to (`perm`), so two transposed views of one layout are still
 * compared exactly, box against box. A reshape of a contiguous view starts a
 * new layout on the same buffer; views in different layouts are compared by
 * byte range (conservative: may order, never misses an overlap).
 *
 * Tensors are small values: copy them freely. Every field is read-only to
 * users; use the accessors. A constructor that fails returns a tensor whose
 * `status` is a PTO_E* code; passing it to a submit fails that submit with a
 * message naming the argument.
 *
 * Memory that two tasks share must be reached through one external tensor
 * (views of it): two external tensors made from different base pointers are
 * different buffers to the tracker even if their memory overlaps (StarPU
 * forbids overlapping registrations for the same reason).
 *
 * Thread: every function here is pure and may be called from any thread.
 */
#ifndef PTO_TENSOR_H
#define PTO_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pto/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PTO_MAX_DIMS 5

typedef enum pto_dtype {
    PTO_FLOAT32 = 0,
    PTO_FLOAT16,
    PTO_BFLOAT16,
    PTO_INT8,
    PTO_INT16,
    PTO_INT32,
    PTO_INT64,
    PTO_UINT8,
    PTO_UINT16,
    PTO_UINT32,
    PTO_UINT64,
    PTO_FLOAT64,
    PTO_DTYPE_COUNT
} pto_dtype_t;

/* 64-bit task id: ring index in the high 32 bits, per-ring sequence number in
 * the low 32 bits. PTO_TASK_ID_NONE (all ones) names no task. */
typedef uint64_t pto_task_id_t;
#define PTO_TASK_ID_NONE UINT64_MAX

/* Tensor flags (pto_tensor_t.flags). */
#define PTO_TENSOR_F_RUNTIME 0x1u /* carved from a heap ring by a task */

typedef struct pto_tensor {
    void *base;             /* buffer base: the tracker's identity */
    uint64_t buffer_bytes;  /* size of the whole buffer */
    uint64_t layout_start;  /* element offset of the layout origin */
    pto_task_id_t owner;    /* creating task; NONE for external tensors */
    uint32_t layout[PTO_MAX_DIMS]; /* row-major extents of the layout */
    uint32_t off[PTO_MAX_DIMS];    /* box origin, per layout dim */
    uint32_t len[PTO_MAX_DIMS];    /* box extent, per layout dim */
    uint32_t scope_serial;  /* runtime tensors: instance of creating scope */
    int32_t status;         /* 0, or the PTO_E* code of a failed constructor */
    uint8_t ndim;           /* 1..PTO_MAX_DIMS (0 only when status != 0) */
    uint8_t dtype;          /* pto_dtype_t */
    uint8_t flags;          /* PTO_TENSOR_F_* */
    uint8_t scope_depth;    /* runtime tensors: depth of creating scope */
    uint8_t perm[PTO_MAX_DIMS]; /* view dim i is layout dim perm[i] */
} pto_tensor_t;

/* What a runtime-created OUTPUT looks like: its shape and dtype. */
typedef struct pto_create_info {
    uint32_t shape[PTO_MAX_DIMS];
    uint32_t ndim;
    pto_dtype_t dtype;
    int32_t status; /* 0, or PTO_EINVAL for a bad shape/ndim/dtype */
} pto_create_info_t;

/* Bytes per element of dt (bf16/fp16: 2); 0 for an unknown dtype. */
PTO_API size_t pto_dtype_size(pto_dtype_t dt);
/* "float32", "bfloat16", ...; "?" for an unknown dtype. */
PTO_API const char *pto_dtype_name(pto_dtype_t dt);

/* Wrap user memory `ptr` as a dense row-major tensor of `shape[0..ndim)`.
 * Errors (in the result's status): PTO_EINVAL for NULL ptr/shape, ndim 0 or
 * above PTO_MAX_DIMS, a zero extent, an unknown dtype or a size overflow. */
PTO_API pto_tensor_t pto_tensor_external(void *ptr, const uint32_t *shape,
                                         uint32_t ndim, pto_dtype_t dt);

/* A view of `t`: `offset` and `shape` (t's ndim entries each) are relative to
 * t's own view. Returns 0, or PTO_EBOUNDS when the box leaves t (out is then
 * an invalid tensor), PTO_EINVAL for NULL pointers / zero extents,
 * PTO_ETENSOR when t itself is invalid. */
PTO_API int pto_tensor_view(const pto_tensor_t *t, const uint32_t *offset,
                            const uint32_t *shape, pto_tensor_t *out);

/* Reshape a contiguous, untransposed view to `shape[0..ndim)` with the same
 * element count. PTO_ESHAPE if t is not contiguous or the counts differ. */
PTO_API int pto_tensor_reshape(const pto_tensor_t *t, const uint32_t *shape,
                               uint32_t ndim, pto_tensor_t *out);

/* Swap view dimensions d0 and d1 (a real transposed view: strides swap). */
PTO_API int pto_tensor_transpose(const pto_tensor_t *t, uint32_t d0,
                                 uint32_t d1, pto_tensor_t *out);

/* Describe a runtime-created output; check .status (PTO_EINVAL on bad input). */
PTO_API pto_create_info_t pto_create_info(const uint32_t *shape, uint32_t ndim,
                                          pto_dtype_t dt);

/* Address of the view's first element (NULL for an invalid tensor). */
PTO_API void *pto_tensor_data(const pto_tensor_t *t);
/* Element stride of view dimension `dim` in the row-major buffer; 0 when dim
 * is out of range. */
PTO_API size_t pto_tensor_stride(const pto_tensor_t *t, uint32_t dim);
/* Extent of view dimension `dim`; 0 when out of range. */
PTO_API uint32_t pto_tensor_shape(const pto_tensor_t *t, uint32_t dim);
PTO_API uint32_t pto_tensor_ndim(const pto_tensor_t *t);
PTO_API pto_dtype_t pto_tensor_dtype(const pto_tensor_t *t);
/* Number of elements in the view. */
PTO_API uint64_t pto_tensor_numel(const pto_tensor_t *t);
/* True when the view's elements are one dense run in memory, in view order. */
PTO_API bool pto_tensor_is_contiguous(const pto_tensor_t *t);

#ifdef __cplusplus
}
#endif

#endif /* PTO_TENSOR_H */
