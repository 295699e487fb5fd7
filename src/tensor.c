/*
 * tensor.c - tensor construction, views, reshape, transpose, and the region
 * overlap test the dependency tracker is built on.
 *
 * Representation (see pto/tensor.h): a box `off[d] .. off[d]+len[d]` per
 * layout dimension of a row-major layout `layout[]` that starts
 * `layout_start` elements into the buffer. View dimension i is layout
 * dimension perm[i]. Invariants of every valid tensor:
 *   - 1 <= ndim <= PTO_MAX_DIMS, every len[d] >= 1, off[d] + len[d] <=
 *     layout[d];
 *   - perm is a permutation of 0..ndim-1;
 *   - the layout's last element lies inside the buffer:
 *     (layout_start + prod(layout)) * elem_size <= buffer_bytes.
 * Every constructor checks its inputs against these and returns a tensor
 * carrying an error status instead of breaking them.
 */
#include "tensor.h"

#include <string.h>

#include "pto/errors.h"

static const struct {
    uint8_t size;
    const char *name;
} dtype_info[PTO_DTYPE_COUNT] = {
    [PTO_FLOAT32] = {4, "float32"}, [PTO_FLOAT16] = {2, "float16"},
    [PTO_BFLOAT16] = {2, "bfloat16"}, [PTO_INT8] = {1, "int8"},
    [PTO_INT16] = {2, "int16"},     [PTO_INT32] = {4, "int32"},
    [PTO_INT64] = {8, "int64"},     [PTO_UINT8] = {1, "uint8"},
    [PTO_UINT16] = {2, "uint16"},   [PTO_UINT32] = {4, "uint32"},
    [PTO_UINT64] = {8, "uint64"},   [PTO_FLOAT64] = {8, "float64"},
};

size_t pto_dtype_size(pto_dtype_t dt)
{
    if ((unsigned)dt >= PTO_DTYPE_COUNT)
        return 0;
    return dtype_info[dt].size;
}

const char *pto_dtype_name(pto_dtype_t dt)
{
    if ((unsigned)dt >= PTO_DTYPE_COUNT)
        return "?";
    return dtype_info[dt].name;
}

pto_tensor_t pto__tensor_invalid(int status)
{
    pto_tensor_t t;
    memset(&t, 0, sizeof(t));
    t.owner = PTO_TASK_ID_NONE;
    t.status = status;
    return t;
}

/* Product of extents[0..n), or 0 on 64-bit overflow. */
static uint64_t extent_product(const uint32_t *extents, uint32_t n)
{
    uint64_t p = 1;
    for (uint32_t d = 0; d < n; d++) {
        if (extents[d] == 0 || p > UINT64_MAX / extents[d])
            return 0;
        p *= extents[d];
    }
    return p;
}

pto_tensor_t pto_tensor_external(void *ptr, const uint32_t *shape,
                                 uint32_t ndim, pto_dtype_t dt)
{
    size_t es = pto_dtype_size(dt);
    if (!ptr || !shape || ndim == 0 || ndim > PTO_MAX_DIMS || es == 0)
        return pto__tensor_invalid(PTO_EINVAL);
    uint64_t n = extent_product(shape, ndim);
    if (n == 0 || n > UINT64_MAX / es)
        return pto__tensor_invalid(PTO_EINVAL);

    pto_tensor_t t = pto__tensor_invalid(0);
    t.base = ptr;
    t.buffer_bytes = n * es;
    t.ndim = (uint8_t)ndim;
    t.dtype = (uint8_t)dt;
    for (uint32_t d = 0; d < ndim; d++) {
        t.layout[d] = shape[d];
        t.len[d] = shape[d];
        t.perm[d] = (uint8_t)d;
    }
    return t;
}

pto_create_info_t pto_create_info(const uint32_t *shape, uint32_t ndim,
                                  pto_dtype_t dt)
{
    pto_create_info_t ci;
    memset(&ci, 0, sizeof(ci));
    ci.dtype = dt;
    ci.status = PTO_EINVAL;
    if (!shape || ndim == 0 || ndim > PTO_MAX_DIMS || pto_dtype_size(dt) == 0)
        return ci;
    uint64_t n = extent_product(shape, ndim);
    if (n == 0 || n > (UINT64_MAX >> 8))
        return ci;
    memcpy(ci.shape, shape, ndim * sizeof(uint32_t));
    ci.ndim = ndim;
    ci.status = 0;
    return ci;
}

int pto_tensor_view(const pto_tensor_t *t, const uint32_t *offset,
                    const uint32_t *shape, pto_tensor_t *out)
{
    if (!out)
        return PTO_EINVAL;
    if (!t || !offset || !shape) {
        *out = pto__tensor_invalid(PTO_EINVAL);
        return PTO_EINVAL;
    }
    if (t->status != 0 || t->ndim == 0) {
        *out = pto__tensor_invalid(PTO_ETENSOR);
        return PTO_ETENSOR;
    }
    pto_tensor_t v = *t;
    for (uint32_t i = 0; i < t->ndim; i++) {
        uint32_t d = t->perm[i];
        /* 64-bit sum so a huge offset cannot wrap past the check. */
        if (shape[i] == 0) {
            *out = pto__tensor_invalid(PTO_EINVAL);
            return PTO_EINVAL;
        }
        if ((uint64_t)offset[i] + shape[i] > t->len[d]) {
            *out = pto__tensor_invalid(PTO_EBOUNDS);
            return PTO_EBOUNDS;
        }
        v.off[d] = t->off[d] + offset[i];
        v.len[d] = shape[i];
    }
    *out = v;
    return 0;
}

bool pto_tensor_is_contiguous(const pto_tensor_t *t)
{
    if (!t || t->status != 0 || t->ndim == 0)
        return false;
    uint32_t n = t->ndim;
    /* Transposed dimensions of extent > 1 break view-order density. */
    uint32_t prev = 0;
    bool first = true;
    for (uint32_t i = 0; i < n; i++) {
        if (t->len[t->perm[i]] == 1)
            continue;
        if (!first && t->perm[i] < prev)
            return false;
        prev = t->perm[i];
        first = false;
    }
    /* Dense iff: past the first dimension with extent > 1, every dimension
     * spans its whole layout extent. */
    uint32_t d = 0;
    while (d < n && t->len[d] == 1)
        d++;
    for (uint32_t e = d + 1; e < n; e++)
        if (t->off[e] != 0 || t->len[e] != t->layout[e])
            return false;
    return true;
}

uint64_t pto__tensor_start_elem(const pto_tensor_t *t)
{
    uint64_t start = 0;
    for (uint32_t d = 0; d < t->ndim; d++)
        start = start * t->layout[d] + t->off[d];
    return t->layout_start + start;
}

int pto_tensor_reshape(const pto_tensor_t *t, const uint32_t *shape,
                       uint32_t ndim, pto_tensor_t *out)
{
    if (!out)
        return PTO_EINVAL;
    if (!t || !shape || ndim == 0 || ndim > PTO_MAX_DIMS) {
        *out = pto__tensor_invalid(PTO_EINVAL);
        return PTO_EINVAL;
    }
    if (t->status != 0 || t->ndim == 0) {
        *out = pto__tensor_invalid(PTO_ETENSOR);
        return PTO_ETENSOR;
    }
    uint64_t n = extent_product(shape, ndim);
    if (!pto_tensor_is_contiguous(t) || n != pto_tensor_numel(t)) {
        *out = pto__tensor_invalid(PTO_ESHAPE);
        return PTO_ESHAPE;
    }
    pto_tensor_t r = *t;
    r.layout_start = pto__tensor_start_elem(t);
    r.ndim = (uint8_t)ndim;
    for (uint32_t d = 0; d < PTO_MAX_DIMS; d++) {
        bool used = d < ndim;
        r.layout[d] = used ? shape[d] : 0;
        r.len[d] = used ? shape[d] : 0;
        r.off[d] = 0;
        r.perm[d] = used ? (uint8_t)d : 0;
    }
    *out = r;
    return 0;
}

int pto_tensor_transpose(const pto_tensor_t *t, uint32_t d0, uint32_t d1,
                         pto_tensor_t *out)
{
    if (!out)
        return PTO_EINVAL;
    if (!t) {
        *out = pto__tensor_invalid(PTO_EINVAL);
        return PTO_EINVAL;
    }
    if (t->status != 0 || t->ndim == 0) {
        *out = pto__tensor_invalid(PTO_ETENSOR);
        return PTO_ETENSOR;
    }
    if (d0 >= t->ndim || d1 >= t->ndim) {
        *out = pto__tensor_invalid(PTO_EINVAL);
        return PTO_EINVAL;
    }
    pto_tensor_t r = *t;
    r.perm[d0] = t->perm[d1];
    r.perm[d1] = t->perm[d0];
    *out = r;
    return 0;
}

void *pto_tensor_data(const pto_tensor_t *t)
{
    if (!t || t->status != 0 || !t->base)
        return NULL;
    return (char *)t->base +
           pto__tensor_start_elem(t) * pto_dtype_size((pto_dtype_t)t->dtype);
}

/* Element stride of layout dimension d. */
static uint64_t layout_stride(const pto_tensor_t *t, uint32_t d)
{
    uint64_t s = 1;
    for (uint32_t e = d + 1; e < t->ndim; e++)
        s *= t->layout[e];
    return s;
}

size_t pto_tensor_stride(const pto_tensor_t *t, uint32_t dim)
{
    if (!t || t->status != 0 || dim >= t->ndim)
        return 0;
    return (size_t)layout_stride(t, t->perm[dim]);
}

uint32_t pto_tensor_shape(const pto_tensor_t *t, uint32_t dim)
{
    if (!t || t->status != 0 || dim >= t->ndim)
        return 0;
    return t->len[t->perm[dim]];
}

uint32_t pto_tensor_ndim(const pto_tensor_t *t)
{
    return (t && t->status == 0) ? t->ndim : 0;
}

pto_dtype_t pto_tensor_dtype(const pto_tensor_t *t)
{
    return t ? (pto_dtype_t)t->dtype : PTO_DTYPE_COUNT;
}

uint64_t pto_tensor_numel(const pto_tensor_t *t)
{
    if (!t || t->status != 0 || t->ndim == 0)
        return 0;
    return extent_product(t->len, t->ndim);
}

bool pto__tensor_same_layout(const pto_tensor_t *a, const pto_tensor_t *b)
{
    if (a->ndim != b->ndim || a->layout_start != b->layout_start ||
        pto_dtype_size((pto_dtype_t)a->dtype) !=
            pto_dtype_size((pto_dtype_t)b->dtype))
        return false;
    for (uint32_t d = 0; d < a->ndim; d++)
        if (a->layout[d] != b->layout[d])
            return false;
    return true;
}

void pto__tensor_byte_range(const pto_tensor_t *t, uint64_t *lo, uint64_t *hi)
{
    uint64_t first = 0, last = 0;
    for (uint32_t d = 0; d < t->ndim; d++) {
        first = first * t->layout[d] + t->off[d];
        last = last * t->layout[d] + t->off[d] + t->len[d] - 1;
    }
    uint64_t es = pto_dtype_size((pto_dtype_t)t->dtype);
    *lo = (t->layout_start + first) * es;
    *hi = (t->layout_start + last + 1) * es;
}

pto_overlap_t pto__tensor_overlap(const pto_tensor_t *a, const pto_tensor_t *b)
{
    if (a->base != b->base)
        return PTO_OVERLAP_NONE;
    if (!pto__tensor_same_layout(a, b)) {
        uint64_t alo, ahi, blo, bhi;
        pto__tensor_byte_range(a, &alo, &ahi);
        pto__tensor_byte_range(b, &blo, &bhi);
        return (alo < bhi && blo < ahi) ? PTO_OVERLAP_PARTIAL
                                        : PTO_OVERLAP_NONE;
    }
    bool covered = true;
    for (uint32_t d = 0; d < a->ndim; d++) {
        uint64_t a0 = a->off[d], a1 = a0 + a->len[d];
        uint64_t b0 = b->off[d], b1 = b0 + b->len[d];
        if (a1 <= b0 || b1 <= a0)
            return PTO_OVERLAP_NONE;
        if (!(a0 <= b0 && b1 <= a1))
            covered = false;
    }
    return covered ? PTO_OVERLAP_COVERED : PTO_OVERLAP_PARTIAL;
}
