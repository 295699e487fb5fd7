/*
 * tensor.h - internal tensor helpers: region overlap for the tracker.
 *
 * Overlap contract (DESIGN.md §1): two tensors touch when they share a buffer
 * (same base pointer) and their element regions intersect. When both views
 * live in the same layout (same layout extents, layout_start and element size)
 * the answer is exact, per dimension on the boxes. Otherwise (a reshape
 * against a transpose, different dtypes) the byte ranges from first to last
 * element are compared: that may report an overlap that is not there (an
 * extra edge), never miss one. COVERED is only ever reported by the exact
 * path.
 */
#ifndef PTO_SRC_TENSOR_H
#define PTO_SRC_TENSOR_H

#include "pto/tensor.h"

typedef enum pto_overlap {
    PTO_OVERLAP_NONE = 0,  /* disjoint (or different buffers) */
    PTO_OVERLAP_PARTIAL,   /* intersect, and `a` does not contain `b` */
    PTO_OVERLAP_COVERED    /* `a` contains all of `b` */
} pto_overlap_t;

/* How region `a` (a new access) relates to region `b` (an older one). */
pto_overlap_t pto__tensor_overlap(const pto_tensor_t *a, const pto_tensor_t *b);

/* True when a and b describe boxes in one coordinate system, so they can be
 * compared exactly dimension by dimension. */
bool pto__tensor_same_layout(const pto_tensor_t *a, const pto_tensor_t *b);

/* Byte range [*lo, *hi) from the view's first to just past its last element,
 * relative to the buffer base. */
void pto__tensor_byte_range(const pto_tensor_t *t, uint64_t *lo, uint64_t *hi);

/* Element offset of the box origin from the buffer base. */
uint64_t pto__tensor_start_elem(const pto_tensor_t *t);

/* An invalid tensor carrying `status`. */
pto_tensor_t pto__tensor_invalid(int status);

#endif /* PTO_SRC_TENSOR_H */
