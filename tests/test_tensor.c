/*
 * test_tensor.c - src/tensor.c: dtypes, external tensors and their errors,
 * views (relative offsets, views of views, bounds), data addresses and
 * strides, reshape, transpose, contiguity, create-infos, and the region
 * overlap test the dependency tracker relies on (exact per-dimension path
 * and conservative byte-range path).
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "pto/errors.h"
#include "tensor.h"

/* Backing store for the 4x8 float32 tensors most tests use. */
static float buf[4 * 8];

static pto_tensor_t make_4x8(void)
{
    const uint32_t shape[2] = {4, 8};
    return pto_tensor_external(buf, shape, 2, PTO_FLOAT32);
}

static pto_tensor_t view2(const pto_tensor_t *t, uint32_t r, uint32_t c,
                          uint32_t nr, uint32_t nc)
{
    const uint32_t off[2] = {r, c}, shp[2] = {nr, nc};
    pto_tensor_t v;
    int rc = pto_tensor_view(t, off, shp, &v);
    REQUIRE(rc == 0);
    return v;
}

static void test_dtypes(void)
{
    CHECK_EQ(pto_dtype_size(PTO_FLOAT32), 4);
    CHECK_EQ(pto_dtype_size(PTO_FLOAT16), 2);
    CHECK_EQ(pto_dtype_size(PTO_BFLOAT16), 2);
    CHECK_EQ(pto_dtype_size(PTO_INT8), 1);
    CHECK_EQ(pto_dtype_size(PTO_INT16), 2);
    CHECK_EQ(pto_dtype_size(PTO_INT32), 4);
    CHECK_EQ(pto_dtype_size(PTO_INT64), 8);
    CHECK_EQ(pto_dtype_size(PTO_UINT8), 1);
    CHECK_EQ(pto_dtype_size(PTO_UINT16), 2);
    CHECK_EQ(pto_dtype_size(PTO_UINT32), 4);
    CHECK_EQ(pto_dtype_size(PTO_UINT64), 8);
    CHECK_EQ(pto_dtype_size(PTO_FLOAT64), 8);
    CHECK_EQ(pto_dtype_size(PTO_DTYPE_COUNT), 0);
    CHECK_EQ(pto_dtype_size((pto_dtype_t)-1), 0);

    CHECK(strcmp(pto_dtype_name(PTO_FLOAT32), "float32") == 0);
    CHECK(strcmp(pto_dtype_name(PTO_FLOAT16), "float16") == 0);
    CHECK(strcmp(pto_dtype_name(PTO_BFLOAT16), "bfloat16") == 0);
    CHECK(strcmp(pto_dtype_name(PTO_INT8), "int8") == 0);
    CHECK(strcmp(pto_dtype_name(PTO_INT64), "int64") == 0);
    CHECK(strcmp(pto_dtype_name(PTO_UINT8), "uint8") == 0);
    CHECK(strcmp(pto_dtype_name(PTO_FLOAT64), "float64") == 0);
    CHECK(strcmp(pto_dtype_name(PTO_DTYPE_COUNT), "?") == 0);
    CHECK(strcmp(pto_dtype_name((pto_dtype_t)1000), "?") == 0);
    /* Every known dtype has a size and a real name. */
    for (int d = 0; d < PTO_DTYPE_COUNT; d++) {
        CHECK(pto_dtype_size((pto_dtype_t)d) != 0);
        CHECK(strcmp(pto_dtype_name((pto_dtype_t)d), "?") != 0);
    }
}

static void test_external_ok(void)
{
    pto_tensor_t t = make_4x8();
    CHECK_EQ(t.status, 0);
    CHECK(t.base == buf);
    CHECK_EQ(t.buffer_bytes, sizeof(buf));
    CHECK_EQ(t.owner, PTO_TASK_ID_NONE);
    CHECK_EQ(t.flags, 0);
    CHECK_EQ(pto_tensor_ndim(&t), 2);
    CHECK_EQ(pto_tensor_shape(&t, 0), 4);
    CHECK_EQ(pto_tensor_shape(&t, 1), 8);
    CHECK_EQ(pto_tensor_shape(&t, 2), 0);
    CHECK_EQ(pto_tensor_dtype(&t), PTO_FLOAT32);
    CHECK_EQ(pto_tensor_numel(&t), 32);
    CHECK(pto_tensor_data(&t) == buf);
    CHECK(pto_tensor_is_contiguous(&t));

    /* Five dimensions are allowed; a bf16 buffer counts 2 bytes each. */
    static uint16_t b16[2 * 3 * 1 * 2 * 5];
    const uint32_t s5[5] = {2, 3, 1, 2, 5};
    pto_tensor_t t5 = pto_tensor_external(b16, s5, 5, PTO_BFLOAT16);
    CHECK_EQ(t5.status, 0);
    CHECK_EQ(t5.buffer_bytes, sizeof(b16));
    CHECK_EQ(pto_tensor_ndim(&t5), 5);
    CHECK_EQ(pto_tensor_numel(&t5), 60);
    CHECK_EQ(pto_tensor_stride(&t5, 0), 30);
    CHECK_EQ(pto_tensor_stride(&t5, 1), 10);
    CHECK_EQ(pto_tensor_stride(&t5, 2), 10);
    CHECK_EQ(pto_tensor_stride(&t5, 3), 5);
    CHECK_EQ(pto_tensor_stride(&t5, 4), 1);
    CHECK_EQ(pto_tensor_stride(&t5, 5), 0);

    /* The shape array is copied, not referenced. */
    uint32_t s[1] = {7};
    pto_tensor_t t1 = pto_tensor_external(buf, s, 1, PTO_FLOAT16);
    s[0] = 99;
    CHECK_EQ(pto_tensor_shape(&t1, 0), 7);
    CHECK_EQ(t1.buffer_bytes, 14);
}

static void check_invalid(pto_tensor_t t, int status)
{
    CHECK_EQ(t.status, status);
    CHECK_EQ(t.ndim, 0);
    CHECK(t.base == NULL);
    CHECK(pto_tensor_data(&t) == NULL);
    CHECK_EQ(pto_tensor_ndim(&t), 0);
    CHECK_EQ(pto_tensor_numel(&t), 0);
    CHECK_EQ(pto_tensor_stride(&t, 0), 0);
    CHECK_EQ(pto_tensor_shape(&t, 0), 0);
    CHECK(!pto_tensor_is_contiguous(&t));
}

static void test_external_errors(void)
{
    const uint32_t shape[6] = {4, 8, 1, 1, 1, 1};
    check_invalid(pto_tensor_external(NULL, shape, 2, PTO_FLOAT32),
                  PTO_EINVAL);
    check_invalid(pto_tensor_external(buf, NULL, 2, PTO_FLOAT32), PTO_EINVAL);
    check_invalid(pto_tensor_external(buf, shape, 0, PTO_FLOAT32), PTO_EINVAL);
    check_invalid(pto_tensor_external(buf, shape, 6, PTO_FLOAT32), PTO_EINVAL);
    check_invalid(pto_tensor_external(buf, shape, 2, PTO_DTYPE_COUNT),
                  PTO_EINVAL);
    check_invalid(pto_tensor_external(buf, shape, 2, (pto_dtype_t)-1),
                  PTO_EINVAL);

    const uint32_t zero_last[3] = {4, 8, 0}, zero_first[2] = {0, 8};
    check_invalid(pto_tensor_external(buf, zero_last, 3, PTO_FLOAT32),
                  PTO_EINVAL);
    check_invalid(pto_tensor_external(buf, zero_first, 2, PTO_FLOAT32),
                  PTO_EINVAL);

    /* Element count overflows 64 bits. */
    const uint32_t huge[3] = {UINT32_MAX, UINT32_MAX, 2};
    check_invalid(pto_tensor_external(buf, huge, 3, PTO_INT8), PTO_EINVAL);
    /* Element count fits, byte count does not. */
    const uint32_t big[2] = {UINT32_MAX, UINT32_MAX};
    check_invalid(pto_tensor_external(buf, big, 2, PTO_FLOAT32), PTO_EINVAL);
    /* ...but as bytes it is representable: accepted (never dereferenced). */
    pto_tensor_t ok = pto_tensor_external(buf, big, 2, PTO_INT8);
    CHECK_EQ(ok.status, 0);
    CHECK(ok.buffer_bytes == (uint64_t)UINT32_MAX * UINT32_MAX);
}

static void test_view_basic(void)
{
    pto_tensor_t t = make_4x8();
    pto_tensor_t v = view2(&t, 1, 2, 2, 3);
    CHECK_EQ(v.status, 0);
    CHECK(v.base == buf);
    CHECK_EQ(v.buffer_bytes, t.buffer_bytes);
    CHECK_EQ(pto_tensor_shape(&v, 0), 2);
    CHECK_EQ(pto_tensor_shape(&v, 1), 3);
    CHECK_EQ(pto_tensor_numel(&v), 6);
    CHECK(pto_tensor_data(&v) == &buf[1 * 8 + 2]);
    CHECK_EQ(pto_tensor_stride(&v, 0), 8);
    CHECK_EQ(pto_tensor_stride(&v, 1), 1);

    /* View of a view: offsets relative to the given view. */
    pto_tensor_t w = view2(&v, 1, 1, 1, 2);
    CHECK(pto_tensor_data(&w) == &buf[2 * 8 + 3]);
    CHECK_EQ(w.off[0], 2);
    CHECK_EQ(w.off[1], 3);
    CHECK_EQ(pto_tensor_shape(&w, 0), 1);
    CHECK_EQ(pto_tensor_shape(&w, 1), 2);
    CHECK_EQ(pto_tensor_stride(&w, 0), 8);

    /* The whole view of a view is itself. */
    pto_tensor_t same = view2(&v, 0, 0, 2, 3);
    CHECK(pto_tensor_data(&same) == pto_tensor_data(&v));
    CHECK_EQ(pto_tensor_numel(&same), 6);

    /* Third level: a single element. */
    pto_tensor_t e = view2(&w, 0, 1, 1, 1);
    CHECK(pto_tensor_data(&e) == &buf[2 * 8 + 4]);
    CHECK_EQ(pto_tensor_numel(&e), 1);
}

static void test_view_errors(void)
{
    pto_tensor_t t = make_4x8();
    pto_tensor_t v = view2(&t, 1, 2, 2, 3);
    pto_tensor_t out;
    const uint32_t off0[2] = {0, 0};

    /* Relative to v (2x3), not to t (4x8): 0+3 columns fit, 1+3 do not. */
    const uint32_t off01[2] = {0, 1}, s23[2] = {2, 3};
    CHECK_EQ(pto_tensor_view(&v, off01, s23, &out), PTO_EBOUNDS);
    CHECK_EQ(out.status, PTO_EBOUNDS);
    CHECK(pto_tensor_data(&out) == NULL);
    const uint32_t s33[2] = {3, 3};
    CHECK_EQ(pto_tensor_view(&v, off0, s33, &out), PTO_EBOUNDS);
    /* Fits in t, not in v. */
    const uint32_t off20[2] = {2, 0}, s11[2] = {1, 1};
    CHECK_EQ(pto_tensor_view(&v, off20, s11, &out), PTO_EBOUNDS);
    CHECK_EQ(pto_tensor_view(&t, off20, s11, &out), 0);

    /* Offsets that would wrap a 32-bit sum back into range. */
    const uint32_t hugeoff[2] = {UINT32_MAX, 0}, s18[2] = {1, 8};
    CHECK_EQ(pto_tensor_view(&t, hugeoff, s18, &out), PTO_EBOUNDS);
    const uint32_t wrapoff[2] = {0, UINT32_MAX - 1}, s14[2] = {1, 4};
    CHECK_EQ(pto_tensor_view(&t, wrapoff, s14, &out), PTO_EBOUNDS);
    const uint32_t hugeshape[2] = {1, UINT32_MAX};
    const uint32_t off01b[2] = {0, 1};
    CHECK_EQ(pto_tensor_view(&t, off01b, hugeshape, &out), PTO_EBOUNDS);
    /* In v, a wrap through v's own origin offset. */
    const uint32_t vwrap[2] = {0, UINT32_MAX - 1};
    const uint32_t s12[2] = {1, 2};
    CHECK_EQ(pto_tensor_view(&v, vwrap, s12, &out), PTO_EBOUNDS);

    /* Zero extent. */
    const uint32_t s02[2] = {0, 2}, s20[2] = {2, 0};
    CHECK_EQ(pto_tensor_view(&t, off0, s02, &out), PTO_EINVAL);
    CHECK_EQ(out.status, PTO_EINVAL);
    CHECK_EQ(pto_tensor_view(&t, off0, s20, &out), PTO_EINVAL);

    /* NULL pointers. */
    CHECK_EQ(pto_tensor_view(NULL, off0, s11, &out), PTO_EINVAL);
    CHECK_EQ(out.status, PTO_EINVAL);
    CHECK_EQ(pto_tensor_view(&t, NULL, s11, &out), PTO_EINVAL);
    CHECK_EQ(pto_tensor_view(&t, off0, NULL, &out), PTO_EINVAL);
    CHECK_EQ(pto_tensor_view(&t, off0, s11, NULL), PTO_EINVAL);

    /* Invalid input tensor: PTO_ETENSOR, also for a failed view. */
    const uint32_t bad_shape[2] = {0, 8};
    pto_tensor_t bad = pto_tensor_external(buf, bad_shape, 2, PTO_FLOAT32);
    CHECK_EQ(pto_tensor_view(&bad, off0, s11, &out), PTO_ETENSOR);
    CHECK_EQ(out.status, PTO_ETENSOR);
    pto_tensor_t failed;
    CHECK_EQ(pto_tensor_view(&t, hugeoff, s18, &failed), PTO_EBOUNDS);
    CHECK_EQ(pto_tensor_view(&failed, off0, s11, &out), PTO_ETENSOR);
}

static void test_transpose(void)
{
    pto_tensor_t t = make_4x8();
    pto_tensor_t tt;
    CHECK_EQ(pto_tensor_transpose(&t, 0, 1, &tt), 0);
    CHECK_EQ(tt.status, 0);
    CHECK_EQ(pto_tensor_shape(&tt, 0), 8);
    CHECK_EQ(pto_tensor_shape(&tt, 1), 4);
    CHECK_EQ(pto_tensor_stride(&tt, 0), 1);
    CHECK_EQ(pto_tensor_stride(&tt, 1), 8);
    CHECK(pto_tensor_data(&tt) == buf);
    CHECK_EQ(pto_tensor_numel(&tt), 32);
    CHECK(!pto_tensor_is_contiguous(&tt));

    /* Transposing twice is the identity; d0 == d1 changes nothing. */
    pto_tensor_t back;
    CHECK_EQ(pto_tensor_transpose(&tt, 1, 0, &back), 0);
    CHECK_EQ(pto_tensor_shape(&back, 0), 4);
    CHECK_EQ(pto_tensor_stride(&back, 0), 8);
    CHECK(pto_tensor_is_contiguous(&back));
    pto_tensor_t same;
    CHECK_EQ(pto_tensor_transpose(&t, 1, 1, &same), 0);
    CHECK_EQ(pto_tensor_stride(&same, 0), 8);
    CHECK_EQ(pto_tensor_stride(&same, 1), 1);

    /* A view of a transposed tensor: offsets and bounds in view order. */
    pto_tensor_t tv;
    const uint32_t off[2] = {5, 1}, shp[2] = {3, 2};
    CHECK_EQ(pto_tensor_view(&tt, off, shp, &tv), 0);
    CHECK(pto_tensor_data(&tv) == &buf[1 * 8 + 5]);
    CHECK_EQ(pto_tensor_shape(&tv, 0), 3);
    CHECK_EQ(pto_tensor_shape(&tv, 1), 2);
    CHECK_EQ(pto_tensor_stride(&tv, 0), 1);
    CHECK_EQ(pto_tensor_stride(&tv, 1), 8);
    const uint32_t off_bad[2] = {6, 0}, shp_bad[2] = {3, 1};
    pto_tensor_t out;
    CHECK_EQ(pto_tensor_view(&tt, off_bad, shp_bad, &out), PTO_EBOUNDS);
    const uint32_t shp_rows[2] = {8, 4};
    CHECK_EQ(pto_tensor_view(&tt, (const uint32_t[2]){0, 0}, shp_rows, &out),
             0);

    /* Transposing a view keeps the data pointer of the view. */
    pto_tensor_t v = view2(&t, 1, 2, 2, 3), vt;
    CHECK_EQ(pto_tensor_transpose(&v, 0, 1, &vt), 0);
    CHECK(pto_tensor_data(&vt) == pto_tensor_data(&v));
    CHECK_EQ(pto_tensor_shape(&vt, 0), 3);
    CHECK_EQ(pto_tensor_shape(&vt, 1), 2);

    /* 3-D: swap the outer two of three. */
    static int32_t b3[2 * 3 * 4];
    const uint32_t s3[3] = {2, 3, 4};
    pto_tensor_t t3 = pto_tensor_external(b3, s3, 3, PTO_INT32), t3t;
    CHECK_EQ(pto_tensor_transpose(&t3, 0, 2, &t3t), 0);
    CHECK_EQ(pto_tensor_shape(&t3t, 0), 4);
    CHECK_EQ(pto_tensor_shape(&t3t, 1), 3);
    CHECK_EQ(pto_tensor_shape(&t3t, 2), 2);
    CHECK_EQ(pto_tensor_stride(&t3t, 0), 1);
    CHECK_EQ(pto_tensor_stride(&t3t, 1), 4);
    CHECK_EQ(pto_tensor_stride(&t3t, 2), 12);

    /* Errors. */
    CHECK_EQ(pto_tensor_transpose(&t, 0, 2, &out), PTO_EINVAL);
    CHECK_EQ(out.status, PTO_EINVAL);
    CHECK_EQ(pto_tensor_transpose(&t, 2, 0, &out), PTO_EINVAL);
    CHECK_EQ(pto_tensor_transpose(&t, UINT32_MAX, 0, &out), PTO_EINVAL);
    CHECK_EQ(pto_tensor_transpose(NULL, 0, 1, &out), PTO_EINVAL);
    CHECK_EQ(pto_tensor_transpose(&t, 0, 1, NULL), PTO_EINVAL);
    pto_tensor_t bad = pto__tensor_invalid(PTO_EBOUNDS);
    CHECK_EQ(pto_tensor_transpose(&bad, 0, 0, &out), PTO_ETENSOR);
    CHECK_EQ(out.status, PTO_ETENSOR);
}

static void test_contiguous(void)
{
    pto_tensor_t t = make_4x8();
    CHECK(pto_tensor_is_contiguous(&t));
    /* Row blocks (full rows) and partial single rows are dense. */
    pto_tensor_t rows = view2(&t, 1, 0, 2, 8);
    CHECK(pto_tensor_is_contiguous(&rows));
    pto_tensor_t part = view2(&t, 2, 3, 1, 4);
    CHECK(pto_tensor_is_contiguous(&part));
    pto_tensor_t one = view2(&t, 3, 7, 1, 1);
    CHECK(pto_tensor_is_contiguous(&one));
    /* Column blocks and sub-boxes are not. */
    pto_tensor_t cols = view2(&t, 0, 2, 4, 2);
    CHECK(!pto_tensor_is_contiguous(&cols));
    pto_tensor_t col = view2(&t, 0, 2, 4, 1);
    CHECK(!pto_tensor_is_contiguous(&col));
    pto_tensor_t box = view2(&t, 1, 0, 2, 7);
    CHECK(!pto_tensor_is_contiguous(&box));

    /* A transposed 1xN or Nx1 view is still one dense run. */
    pto_tensor_t row = view2(&t, 1, 0, 1, 8), rowt;
    CHECK_EQ(pto_tensor_transpose(&row, 0, 1, &rowt), 0);
    CHECK(pto_tensor_is_contiguous(&rowt));
    pto_tensor_t colt;
    CHECK_EQ(pto_tensor_transpose(&col, 0, 1, &colt), 0);
    CHECK(!pto_tensor_is_contiguous(&colt));

    /* 3-D: middle-dimension slabs. */
    static int8_t b3[2 * 3 * 4];
    const uint32_t s3[3] = {2, 3, 4};
    pto_tensor_t t3 = pto_tensor_external(b3, s3, 3, PTO_INT8), v;
    const uint32_t o1[3] = {1, 1, 0}, l1[3] = {1, 2, 4};
    CHECK_EQ(pto_tensor_view(&t3, o1, l1, &v), 0);
    CHECK(pto_tensor_is_contiguous(&v)); /* rows 1..2 of slab 1 */
    const uint32_t o2[3] = {0, 1, 0}, l2[3] = {2, 1, 4};
    CHECK_EQ(pto_tensor_view(&t3, o2, l2, &v), 0);
    CHECK(!pto_tensor_is_contiguous(&v)); /* row 1 of both slabs */

    CHECK(!pto_tensor_is_contiguous(NULL));
}

static void test_reshape(void)
{
    pto_tensor_t t = make_4x8(), r;
    const uint32_t s2x16[2] = {2, 16};
    CHECK_EQ(pto_tensor_reshape(&t, s2x16, 2, &r), 0);
    CHECK_EQ(r.status, 0);
    CHECK(r.base == buf);
    CHECK(pto_tensor_data(&r) == buf);
    CHECK_EQ(pto_tensor_shape(&r, 0), 2);
    CHECK_EQ(pto_tensor_shape(&r, 1), 16);
    CHECK_EQ(pto_tensor_stride(&r, 0), 16);
    CHECK_EQ(pto_tensor_stride(&r, 1), 1);
    CHECK_EQ(pto_tensor_numel(&r), 32);

    /* A row block reshapes; its data pointer stays on the block. */
    pto_tensor_t rows = view2(&t, 1, 0, 2, 8);
    const uint32_t s4x2x2[3] = {4, 2, 2};
    CHECK_EQ(pto_tensor_reshape(&rows, s4x2x2, 3, &r), 0);
    CHECK(pto_tensor_data(&r) == &buf[8]);
    CHECK_EQ(pto_tensor_ndim(&r), 3);
    CHECK_EQ(pto_tensor_stride(&r, 0), 4);
    CHECK_EQ(pto_tensor_stride(&r, 1), 2);
    CHECK_EQ(pto_tensor_stride(&r, 2), 1);
    CHECK_EQ(r.layout_start, 8);
    CHECK(pto_tensor_is_contiguous(&r));
    /* ...and views of the reshape land on the right elements. */
    pto_tensor_t rv;
    const uint32_t o[3] = {3, 1, 0}, l[3] = {1, 1, 2};
    CHECK_EQ(pto_tensor_view(&r, o, l, &rv), 0);
    CHECK(pto_tensor_data(&rv) == &buf[8 + 3 * 4 + 1 * 2]);
    const uint32_t lbad[3] = {2, 1, 2};
    CHECK_EQ(pto_tensor_view(&r, o, lbad, &rv), PTO_EBOUNDS);

    /* Partial single row: contiguous, starts mid-row. */
    pto_tensor_t part = view2(&t, 2, 4, 1, 4);
    const uint32_t s2x2[2] = {2, 2};
    CHECK_EQ(pto_tensor_reshape(&part, s2x2, 2, &r), 0);
    CHECK(pto_tensor_data(&r) == &buf[2 * 8 + 4]);
    CHECK_EQ(pto_tensor_stride(&r, 0), 2);

    /* Reshape of a reshape. */
    pto_tensor_t r2;
    const uint32_t s4[1] = {4};
    CHECK_EQ(pto_tensor_reshape(&r, s4, 1, &r2), 0);
    CHECK(pto_tensor_data(&r2) == &buf[2 * 8 + 4]);
    CHECK_EQ(pto_tensor_stride(&r2, 0), 1);

    /* Non-contiguous column block. */
    pto_tensor_t cols = view2(&t, 0, 2, 4, 2);
    const uint32_t s8[1] = {8};
    CHECK_EQ(pto_tensor_reshape(&cols, s8, 1, &r), PTO_ESHAPE);
    CHECK_EQ(r.status, PTO_ESHAPE);
    /* Transposed full tensor is not contiguous in view order. */
    pto_tensor_t tt;
    CHECK_EQ(pto_tensor_transpose(&t, 0, 1, &tt), 0);
    const uint32_t s32[1] = {32};
    CHECK_EQ(pto_tensor_reshape(&tt, s32, 1, &r), PTO_ESHAPE);
    /* Count mismatch. */
    const uint32_t s3x8[2] = {3, 8};
    CHECK_EQ(pto_tensor_reshape(&t, s3x8, 2, &r), PTO_ESHAPE);
    const uint32_t s33[1] = {33};
    CHECK_EQ(pto_tensor_reshape(&t, s33, 1, &r), PTO_ESHAPE);
    const uint32_t s0[2] = {0, 32};
    CHECK(pto_tensor_reshape(&t, s0, 2, &r) != 0);
    CHECK(r.status != 0);
    /* Bad arguments and invalid input. */
    CHECK_EQ(pto_tensor_reshape(&t, s32, 0, &r), PTO_EINVAL);
    CHECK_EQ(pto_tensor_reshape(&t, s32, 6, &r), PTO_EINVAL);
    CHECK_EQ(pto_tensor_reshape(&t, NULL, 1, &r), PTO_EINVAL);
    CHECK_EQ(pto_tensor_reshape(NULL, s32, 1, &r), PTO_EINVAL);
    CHECK_EQ(pto_tensor_reshape(&t, s32, 1, NULL), PTO_EINVAL);
    pto_tensor_t bad = pto__tensor_invalid(PTO_EINVAL);
    CHECK_EQ(pto_tensor_reshape(&bad, s32, 1, &r), PTO_ETENSOR);
    CHECK_EQ(r.status, PTO_ETENSOR);
}

static void test_create_info(void)
{
    const uint32_t s[5] = {2, 3, 4, 5, 6};
    pto_create_info_t ci = pto_create_info(s, 3, PTO_FLOAT16);
    CHECK_EQ(ci.status, 0);
    CHECK_EQ(ci.ndim, 3);
    CHECK_EQ(ci.dtype, PTO_FLOAT16);
    CHECK_EQ(ci.shape[0], 2);
    CHECK_EQ(ci.shape[1], 3);
    CHECK_EQ(ci.shape[2], 4);
    ci = pto_create_info(s, 5, PTO_UINT8);
    CHECK_EQ(ci.status, 0);
    CHECK_EQ(ci.shape[4], 6);

    CHECK_EQ(pto_create_info(NULL, 2, PTO_FLOAT32).status, PTO_EINVAL);
    CHECK_EQ(pto_create_info(s, 0, PTO_FLOAT32).status, PTO_EINVAL);
    const uint32_t s6[6] = {1, 1, 1, 1, 1, 1};
    CHECK_EQ(pto_create_info(s6, 6, PTO_FLOAT32).status, PTO_EINVAL);
    CHECK_EQ(pto_create_info(s, 2, PTO_DTYPE_COUNT).status, PTO_EINVAL);
    const uint32_t z[2] = {4, 0};
    CHECK_EQ(pto_create_info(z, 2, PTO_FLOAT32).status, PTO_EINVAL);
    const uint32_t huge[3] = {UINT32_MAX, UINT32_MAX, UINT32_MAX};
    CHECK_EQ(pto_create_info(huge, 3, PTO_INT8).status, PTO_EINVAL);
}

static void test_overlap_exact(void)
{
    pto_tensor_t t = make_4x8();
    pto_tensor_t tl = view2(&t, 0, 0, 2, 4), tr = view2(&t, 0, 4, 2, 4);
    pto_tensor_t bl = view2(&t, 2, 0, 2, 4);
    pto_tensor_t mid = view2(&t, 1, 2, 2, 4);

    /* Different buffers never overlap, even with identical boxes. */
    static float other[32];
    const uint32_t shape[2] = {4, 8};
    pto_tensor_t o = pto_tensor_external(other, shape, 2, PTO_FLOAT32);
    CHECK_EQ(pto__tensor_overlap(&t, &o), PTO_OVERLAP_NONE);
    CHECK_EQ(pto__tensor_overlap(&o, &t), PTO_OVERLAP_NONE);

    /* Disjoint tiles of one buffer: no overlap (no false edge). */
    CHECK_EQ(pto__tensor_overlap(&tl, &tr), PTO_OVERLAP_NONE);
    CHECK_EQ(pto__tensor_overlap(&tr, &tl), PTO_OVERLAP_NONE);
    CHECK_EQ(pto__tensor_overlap(&tl, &bl), PTO_OVERLAP_NONE);
    /* Touching edges only (column 4 starts where tl ends). */
    pto_tensor_t edge = view2(&t, 0, 3, 1, 1);
    CHECK_EQ(pto__tensor_overlap(&edge, &tr), PTO_OVERLAP_NONE);

    /* Covered: a contains b; the reverse is partial. */
    CHECK_EQ(pto__tensor_overlap(&t, &tl), PTO_OVERLAP_COVERED);
    CHECK_EQ(pto__tensor_overlap(&tl, &t), PTO_OVERLAP_PARTIAL);
    CHECK_EQ(pto__tensor_overlap(&tl, &edge), PTO_OVERLAP_COVERED);

    /* Partial both ways. */
    CHECK_EQ(pto__tensor_overlap(&mid, &tl), PTO_OVERLAP_PARTIAL);
    CHECK_EQ(pto__tensor_overlap(&tl, &mid), PTO_OVERLAP_PARTIAL);
    CHECK_EQ(pto__tensor_overlap(&mid, &tr), PTO_OVERLAP_PARTIAL);
    CHECK_EQ(pto__tensor_overlap(&mid, &bl), PTO_OVERLAP_PARTIAL);

    /* Same region: covered both ways. */
    pto_tensor_t tl2 = view2(&t, 0, 0, 2, 4);
    CHECK_EQ(pto__tensor_overlap(&tl, &tl2), PTO_OVERLAP_COVERED);
    CHECK_EQ(pto__tensor_overlap(&tl2, &tl), PTO_OVERLAP_COVERED);
    CHECK_EQ(pto__tensor_overlap(&t, &t), PTO_OVERLAP_COVERED);

    /* Views of views compare in buffer coordinates. */
    pto_tensor_t rows = view2(&t, 1, 0, 2, 8);
    pto_tensor_t inner = view2(&rows, 1, 2, 1, 4); /* (2,2)..(2,5) */
    pto_tensor_t row3 = view2(&t, 3, 0, 1, 8);
    pto_tensor_t row2 = view2(&t, 2, 0, 1, 8);
    CHECK_EQ(pto__tensor_overlap(&rows, &inner), PTO_OVERLAP_COVERED);
    CHECK_EQ(pto__tensor_overlap(&inner, &rows), PTO_OVERLAP_PARTIAL);
    CHECK_EQ(pto__tensor_overlap(&row3, &inner), PTO_OVERLAP_NONE);
    CHECK_EQ(pto__tensor_overlap(&row2, &inner), PTO_OVERLAP_COVERED);
    CHECK_EQ(pto__tensor_overlap(&inner, &tl), PTO_OVERLAP_NONE);
    CHECK_EQ(pto__tensor_overlap(&inner, &bl), PTO_OVERLAP_PARTIAL);
}

static void test_overlap_transpose(void)
{
    pto_tensor_t t = make_4x8(), tt;
    CHECK_EQ(pto_tensor_transpose(&t, 0, 1, &tt), 0);
    CHECK(pto__tensor_same_layout(&t, &tt));
    /* Same region through a transpose: covered both ways. */
    CHECK_EQ(pto__tensor_overlap(&t, &tt), PTO_OVERLAP_COVERED);
    CHECK_EQ(pto__tensor_overlap(&tt, &t), PTO_OVERLAP_COVERED);

    /* Exact path: a transposed tile vs a disjoint untransposed tile. Their
     * byte ranges interleave, so only the per-box test can say NONE. */
    pto_tensor_t left = view2(&t, 0, 0, 4, 4), right = view2(&t, 0, 4, 4, 4);
    pto_tensor_t lt;
    CHECK_EQ(pto_tensor_transpose(&left, 0, 1, &lt), 0);
    uint64_t alo, ahi, blo, bhi;
    pto__tensor_byte_range(&lt, &alo, &ahi);
    pto__tensor_byte_range(&right, &blo, &bhi);
    CHECK(alo < bhi && blo < ahi);
    CHECK_EQ(pto__tensor_overlap(&lt, &right), PTO_OVERLAP_NONE);
    CHECK_EQ(pto__tensor_overlap(&right, &lt), PTO_OVERLAP_NONE);
    CHECK_EQ(pto__tensor_overlap(&lt, &left), PTO_OVERLAP_COVERED);

    /* View of the transpose addressing column 5 rows 1..2 = (1..2, 5). */
    pto_tensor_t sub;
    const uint32_t off[2] = {5, 1}, shp[2] = {1, 2};
    CHECK_EQ(pto_tensor_view(&tt, off, shp, &sub), 0);
    CHECK_EQ(pto__tensor_overlap(&sub, &left), PTO_OVERLAP_NONE);
    CHECK_EQ(pto__tensor_overlap(&right, &sub), PTO_OVERLAP_COVERED);
    pto_tensor_t r1 = view2(&t, 1, 0, 1, 8);
    CHECK_EQ(pto__tensor_overlap(&sub, &r1), PTO_OVERLAP_PARTIAL);
}

static void test_overlap_byte_range(void)
{
    pto_tensor_t t = make_4x8();
    /* Rows 1..2 reshaped to 16 elements: a new layout, bytes [32, 96). */
    pto_tensor_t rows = view2(&t, 1, 0, 2, 8), r;
    const uint32_t s16[1] = {16};
    CHECK_EQ(pto_tensor_reshape(&rows, s16, 1, &r), 0);
    CHECK(!pto__tensor_same_layout(&r, &t));
    uint64_t lo, hi;
    pto__tensor_byte_range(&r, &lo, &hi);
    CHECK_EQ(lo, 32);
    CHECK_EQ(hi, 96);

    /* Overlapping byte ranges: PARTIAL (never COVERED) either way. */
    CHECK_EQ(pto__tensor_overlap(&r, &t), PTO_OVERLAP_PARTIAL);
    CHECK_EQ(pto__tensor_overlap(&t, &r), PTO_OVERLAP_PARTIAL);
    CHECK_EQ(pto__tensor_overlap(&r, &rows), PTO_OVERLAP_PARTIAL);
    /* Conservative: column 0 spans bytes [0, 100) and so "overlaps" even
     * though only elements 8 and 16 are shared. */
    pto_tensor_t col0 = view2(&t, 0, 0, 4, 1);
    CHECK_EQ(pto__tensor_overlap(&col0, &r), PTO_OVERLAP_PARTIAL);
    /* Disjoint byte ranges: NONE. */
    pto_tensor_t row0 = view2(&t, 0, 0, 1, 8), row3 = view2(&t, 3, 0, 1, 8);
    CHECK_EQ(pto__tensor_overlap(&row0, &r), PTO_OVERLAP_NONE);
    CHECK_EQ(pto__tensor_overlap(&r, &row3), PTO_OVERLAP_NONE);
    CHECK_EQ(pto__tensor_overlap(&row3, &r), PTO_OVERLAP_NONE);
    /* Adjacent: row 0 ends at byte 32 where r starts. */
    pto__tensor_byte_range(&row0, &lo, &hi);
    CHECK_EQ(hi, 32);

    /* A view of the reshape, against the original tile it came from. */
    pto_tensor_t rv;
    const uint32_t o[1] = {8}, l[1] = {8};
    CHECK_EQ(pto_tensor_view(&r, o, l, &rv), 0); /* == row 2 */
    pto_tensor_t row2 = view2(&t, 2, 0, 1, 8), row1 = view2(&t, 1, 0, 1, 8);
    CHECK(pto_tensor_data(&rv) == pto_tensor_data(&row2));
    CHECK_EQ(pto__tensor_overlap(&rv, &row2), PTO_OVERLAP_PARTIAL);
    CHECK_EQ(pto__tensor_overlap(&rv, &row1), PTO_OVERLAP_NONE);

    /* Reshape vs transpose of the same buffer: byte range. */
    pto_tensor_t tt;
    CHECK_EQ(pto_tensor_transpose(&t, 0, 1, &tt), 0);
    CHECK_EQ(pto__tensor_overlap(&r, &tt), PTO_OVERLAP_PARTIAL);
    CHECK_EQ(pto__tensor_overlap(&tt, &r), PTO_OVERLAP_PARTIAL);

    /* Two reshapes of equal shape from different rows: equal extents but a
     * different layout origin, so not one coordinate system. */
    pto_tensor_t r1, r2, r12;
    const uint32_t s8[1] = {8};
    CHECK_EQ(pto_tensor_reshape(&row1, s8, 1, &r1), 0);
    CHECK_EQ(pto_tensor_reshape(&row2, s8, 1, &r2), 0);
    CHECK(!pto__tensor_same_layout(&r1, &r2));
    CHECK_EQ(pto__tensor_overlap(&r1, &r2), PTO_OVERLAP_NONE);
    CHECK_EQ(pto__tensor_overlap(&r2, &r1), PTO_OVERLAP_NONE);
    CHECK_EQ(pto_tensor_reshape(&row2, s8, 1, &r12), 0);
    CHECK_EQ(pto__tensor_overlap(&r12, &r2), PTO_OVERLAP_COVERED);
    CHECK_EQ(pto__tensor_overlap(&r, &r2), PTO_OVERLAP_PARTIAL);

    /* A reshape to the same shape is the same layout: exact again. */
    pto_tensor_t same;
    const uint32_t s4x8[2] = {4, 8};
    CHECK_EQ(pto_tensor_reshape(&t, s4x8, 2, &same), 0);
    CHECK(pto__tensor_same_layout(&same, &t));
    CHECK_EQ(pto__tensor_overlap(&same, &t), PTO_OVERLAP_COVERED);
}

static void test_overlap_dtypes(void)
{
    /* One buffer seen as 4x8 float32 and as 4x16 int16. */
    const uint32_t sf[2] = {4, 8}, sh[2] = {4, 16};
    pto_tensor_t f = pto_tensor_external(buf, sf, 2, PTO_FLOAT32);
    pto_tensor_t h = pto_tensor_external(buf, sh, 2, PTO_INT16);
    CHECK(!pto__tensor_same_layout(&f, &h));
    pto_tensor_t f_row0 = view2(&f, 0, 0, 1, 8);    /* bytes [0, 32) */
    pto_tensor_t h_row1 = view2(&h, 1, 0, 1, 16);   /* bytes [32, 64) */
    pto_tensor_t h_r0hi = view2(&h, 0, 8, 1, 8);    /* bytes [16, 32) */
    pto_tensor_t f_r0lo = view2(&f, 0, 0, 1, 4);    /* bytes [0, 16) */
    CHECK_EQ(pto__tensor_overlap(&f_row0, &h_row1), PTO_OVERLAP_NONE);
    CHECK_EQ(pto__tensor_overlap(&h_row1, &f_row0), PTO_OVERLAP_NONE);
    CHECK_EQ(pto__tensor_overlap(&f_row0, &h_r0hi), PTO_OVERLAP_PARTIAL);
    CHECK_EQ(pto__tensor_overlap(&h_r0hi, &f_row0), PTO_OVERLAP_PARTIAL);
    CHECK_EQ(pto__tensor_overlap(&f_r0lo, &h_r0hi), PTO_OVERLAP_NONE);
    CHECK_EQ(pto__tensor_overlap(&f, &h), PTO_OVERLAP_PARTIAL);

    /* Same element size, different dtype: still reported as overlapping. */
    pto_tensor_t i = pto_tensor_external(buf, sf, 2, PTO_INT32);
    pto_tensor_t i_tile = view2(&i, 1, 1, 2, 2);
    CHECK(pto__tensor_overlap(&f, &i_tile) != PTO_OVERLAP_NONE);
    CHECK(pto__tensor_overlap(&i_tile, &f) != PTO_OVERLAP_NONE);
    CHECK_EQ(pto__tensor_overlap(&f_r0lo, &i_tile), PTO_OVERLAP_NONE);
}

int main(void)
{
    test_dtypes();
    test_external_ok();
    test_external_errors();
    test_view_basic();
    test_view_errors();
    test_transpose();
    test_contiguous();
    test_reshape();
    test_create_info();
    test_overlap_exact();
    test_overlap_transpose();
    test_overlap_byte_range();
    test_overlap_dtypes();
    return check_result();
}
