/*
 * test_args.c - src/args.c: the initial state, tensors recorded by value in
 * add order with their tags, the tensor / scalar / dependency capacities and
 * their sticky errors (status, err_detail, err_index), NONE and repeated
 * deps, all-or-nothing pto_args_deps, invalid tensors and create-infos, NULL
 * pointers, SPMD settings and pto_args_result before and after a (simulated)
 * submit.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "pto/args.h"
#include "pto/errors.h"
#include "tensor.h"

static float buf[8 * 8];

static pto_tensor_t tile(uint32_t row)
{
    const uint32_t shape[2] = {8, 8}, off[2] = {row, 0}, len[2] = {1, 8};
    pto_tensor_t t = pto_tensor_external(buf, shape, 2, PTO_FLOAT32), v;
    REQUIRE(pto_tensor_view(&t, off, len, &v) == 0);
    return v;
}

/* Fresh args on memory full of garbage, so init must really clear it. */
static void init_dirty(pto_args_t *a)
{
    memset(a, 0xA5, sizeof(*a));
    pto_args_init(a);
}

static void check_clean(const pto_args_t *a)
{
    CHECK_EQ(pto_args_status(a), 0);
    CHECK_EQ(a->err_detail, PTO_ARGS_ERR_NONE);
}

static void check_error(const pto_args_t *a, int status, pto_args_err_t detail,
                        uint32_t index)
{
    CHECK_EQ(pto_args_status(a), status);
    CHECK_EQ(a->status, status);
    CHECK_EQ(a->err_detail, detail);
    CHECK_EQ(a->err_index, index);
}

static void test_init(void)
{
    pto_args_t a;
    init_dirty(&a);
    CHECK_EQ(a.ntensors, 0);
    CHECK_EQ(a.nscalars, 0);
    CHECK_EQ(a.ndeps, 0);
    CHECK_EQ(a.noutputs, 0);
    CHECK_EQ(a.status, 0);
    CHECK_EQ(a.err_detail, PTO_ARGS_ERR_NONE);
    CHECK_EQ(a.err_index, 0);
    CHECK_EQ(a.block_num, 1);
    CHECK_EQ(a.spmd_flags, 0);
    CHECK_EQ(a.result_valid, 0);
    CHECK_EQ(pto_args_status(&a), 0);
    CHECK(pto_args_result(&a, 0) == NULL);

    /* Re-init clears a recorded error and all counts. */
    pto_args_scalar(&a, 1);
    pto_args_spmd(&a, 0, 0);
    CHECK(pto_args_status(&a) != 0);
    pto_args_init(&a);
    check_clean(&a);
    CHECK_EQ(a.nscalars, 0);
    CHECK_EQ(a.block_num, 1);
}

static void test_tags_in_order(void)
{
    pto_args_t a;
    init_dirty(&a);
    pto_tensor_t t0 = tile(0), t1 = tile(1), t2 = tile(2), t3 = tile(3);
    const uint32_t cs[3] = {2, 3, 4};
    pto_create_info_t ci = pto_create_info(cs, 3, PTO_FLOAT16);
    const uint32_t cs2[1] = {5};
    pto_create_info_t ci2 = pto_create_info(cs2, 1, PTO_INT64);

    pto_args_input(&a, &t0);
    pto_args_output(&a, &ci);
    pto_args_output_existing(&a, &t1);
    pto_args_inout(&a, &t2);
    pto_args_no_dep(&a, &t3);
    pto_args_output(&a, &ci2);
    check_clean(&a);
    CHECK_EQ(a.ntensors, 6);
    CHECK_EQ(a.noutputs, 2);
    CHECK_EQ(a.tag[0], PTO_ARG_INPUT);
    CHECK_EQ(a.tag[1], PTO_ARG_OUTPUT);
    CHECK_EQ(a.tag[2], PTO_ARG_OUTPUT_EXISTING);
    CHECK_EQ(a.tag[3], PTO_ARG_INOUT);
    CHECK_EQ(a.tag[4], PTO_ARG_NO_DEP);
    CHECK_EQ(a.tag[5], PTO_ARG_OUTPUT);
    CHECK_EQ(a.out_slot[0], 1);
    CHECK_EQ(a.out_slot[1], 5);

    /* Kernels see the tensors in add order: the slots hold copies. */
    CHECK(pto_tensor_data(&a.tensors[0]) == &buf[0]);
    CHECK(pto_tensor_data(&a.tensors[2]) == &buf[8]);
    CHECK(pto_tensor_data(&a.tensors[3]) == &buf[16]);
    CHECK(pto_tensor_data(&a.tensors[4]) == &buf[24]);
    t0 = tile(7); /* reusing the source does not change the slot */
    CHECK(pto_tensor_data(&a.tensors[0]) == &buf[0]);

    /* OUTPUT slots carry the create-info's shape and dtype, no buffer. */
    const pto_tensor_t *o = &a.tensors[1];
    CHECK_EQ(o->status, 0);
    CHECK(o->base == NULL);
    CHECK_EQ(o->owner, PTO_TASK_ID_NONE);
    CHECK_EQ(o->ndim, 3);
    CHECK_EQ(o->dtype, PTO_FLOAT16);
    CHECK_EQ(pto_tensor_shape(o, 0), 2);
    CHECK_EQ(pto_tensor_shape(o, 1), 3);
    CHECK_EQ(pto_tensor_shape(o, 2), 4);
    CHECK_EQ(pto_tensor_numel(o), 24);
    CHECK_EQ(pto_tensor_stride(o, 0), 12);
    CHECK_EQ(a.tensors[5].dtype, PTO_INT64);
    CHECK_EQ(pto_tensor_numel(&a.tensors[5]), 5);

    /* Scalars and deps likewise in order. */
    pto_args_scalar(&a, 7);
    pto_args_scalar(&a, UINT64_MAX);
    pto_args_scalar(&a, 0);
    pto_args_dep(&a, 42);
    pto_args_dep(&a, ((uint64_t)3 << 32) | 9);
    CHECK_EQ(a.nscalars, 3);
    CHECK(a.scalars[0] == 7);
    CHECK(a.scalars[1] == UINT64_MAX);
    CHECK(a.scalars[2] == 0);
    CHECK_EQ(a.ndeps, 2);
    CHECK(a.deps[0] == 42);
    CHECK(a.deps[1] == (((uint64_t)3 << 32) | 9));
    check_clean(&a);
}

static void test_tensor_capacity(void)
{
    pto_args_t a;
    init_dirty(&a);
    pto_tensor_t t = tile(0);
    const uint32_t cs[1] = {4};
    pto_create_info_t ci = pto_create_info(cs, 1, PTO_FLOAT32);
    for (uint32_t i = 0; i < PTO_MAX_TENSOR_ARGS; i++) {
        if (i % 2)
            pto_args_output(&a, &ci);
        else
            pto_args_input(&a, &t);
    }
    check_clean(&a);
    CHECK_EQ(a.ntensors, PTO_MAX_TENSOR_ARGS);

    pto_args_inout(&a, &t); /* the 17th */
    check_error(&a, PTO_ECAPACITY, PTO_ARGS_ERR_TENSORS, 16);
    CHECK_EQ(a.ntensors, PTO_MAX_TENSOR_ARGS);

    /* Sticky: later adds of every kind are ignored, the error unchanged. */
    pto_args_scalar(&a, 1);
    pto_args_dep(&a, 5);
    const pto_task_id_t ids[2] = {1, 2};
    pto_args_deps(&a, ids, 2);
    pto_args_input(&a, NULL);
    pto_args_output(&a, &ci);
    pto_args_spmd(&a, 0, 0);
    check_error(&a, PTO_ECAPACITY, PTO_ARGS_ERR_TENSORS, 16);
    CHECK_EQ(a.ntensors, PTO_MAX_TENSOR_ARGS);
    CHECK_EQ(a.nscalars, 0);
    CHECK_EQ(a.ndeps, 0);
    CHECK_EQ(a.noutputs, 8);
    CHECK_EQ(a.block_num, 1);

    /* An OUTPUT as the 17th fails the same way. */
    init_dirty(&a);
    for (uint32_t i = 0; i < PTO_MAX_TENSOR_ARGS; i++)
        pto_args_no_dep(&a, &t);
    pto_args_output(&a, &ci);
    check_error(&a, PTO_ECAPACITY, PTO_ARGS_ERR_TENSORS, 16);
    CHECK_EQ(a.noutputs, 0);
}

static void test_scalar_capacity(void)
{
    pto_args_t a;
    init_dirty(&a);
    for (uint64_t i = 0; i < PTO_MAX_SCALAR_ARGS; i++)
        pto_args_scalar(&a, i * 3);
    check_clean(&a);
    CHECK_EQ(a.nscalars, PTO_MAX_SCALAR_ARGS);
    CHECK(a.scalars[31] == 93);
    pto_args_scalar(&a, 1000); /* the 33rd */
    check_error(&a, PTO_ECAPACITY, PTO_ARGS_ERR_SCALARS, 32);
    CHECK_EQ(a.nscalars, PTO_MAX_SCALAR_ARGS);
    CHECK(a.scalars[31] == 93);
    /* The first error wins. */
    pto_tensor_t t = tile(0);
    pto_args_input(&a, &t);
    check_error(&a, PTO_ECAPACITY, PTO_ARGS_ERR_SCALARS, 32);
    CHECK_EQ(a.ntensors, 0);
}

static void test_dep_capacity(void)
{
    pto_args_t a;
    init_dirty(&a);
    for (uint64_t i = 0; i < PTO_MAX_EXPLICIT_DEPS; i++)
        pto_args_dep(&a, i + 100);
    check_clean(&a);
    CHECK_EQ(a.ndeps, PTO_MAX_EXPLICIT_DEPS);
    /* NONE adds nothing, so it does not overflow a full args either. */
    pto_args_dep(&a, PTO_TASK_ID_NONE);
    check_clean(&a);
    pto_args_dep(&a, 7); /* the 17th */
    check_error(&a, PTO_ECAPACITY, PTO_ARGS_ERR_DEPS, 16);
    CHECK_EQ(a.ndeps, PTO_MAX_EXPLICIT_DEPS);
    CHECK(a.deps[15] == 115);
}

static void test_dep_none_and_duplicates(void)
{
    pto_args_t a;
    init_dirty(&a);
    for (int i = 0; i < 100; i++)
        pto_args_dep(&a, PTO_TASK_ID_NONE);
    check_clean(&a);
    CHECK_EQ(a.ndeps, 0);

    /* A repeated id is kept and counts toward the capacity. */
    for (int i = 0; i < PTO_MAX_EXPLICIT_DEPS; i++)
        pto_args_dep(&a, 5);
    check_clean(&a);
    CHECK_EQ(a.ndeps, PTO_MAX_EXPLICIT_DEPS);
    CHECK(a.deps[0] == 5 && a.deps[15] == 5);
    pto_args_dep(&a, 5);
    check_error(&a, PTO_ECAPACITY, PTO_ARGS_ERR_DEPS, 16);
}

static void test_deps_batch(void)
{
    pto_args_t a;
    pto_task_id_t ids[PTO_MAX_EXPLICIT_DEPS + 4];
    for (uint32_t i = 0; i < PTO_MAX_EXPLICIT_DEPS + 4; i++)
        ids[i] = 1000 + i;

    /* Fits exactly: 10 singles + a batch of 6. */
    init_dirty(&a);
    for (uint64_t i = 0; i < 10; i++)
        pto_args_dep(&a, i);
    pto_args_deps(&a, ids, 6);
    check_clean(&a);
    CHECK_EQ(a.ndeps, 16);
    CHECK(a.deps[9] == 9);
    CHECK(a.deps[10] == 1000);
    CHECK(a.deps[15] == 1005);

    /* One too many: nothing is added, the error names the limit; err_index
     * is the slot the last dep would have taken (so +1 = count needed). */
    init_dirty(&a);
    for (uint64_t i = 0; i < 10; i++)
        pto_args_dep(&a, i);
    pto_args_deps(&a, ids, 7);
    check_error(&a, PTO_ECAPACITY, PTO_ARGS_ERR_DEPS, 16);
    CHECK_EQ(a.ndeps, 10);
    CHECK(a.deps[9] == 9);
    init_dirty(&a);
    pto_args_deps(&a, ids, PTO_MAX_EXPLICIT_DEPS + 4);
    check_error(&a, PTO_ECAPACITY, PTO_ARGS_ERR_DEPS, 19);
    CHECK_EQ(a.ndeps, 0);

    /* NONE entries are skipped, and not counted against the capacity. */
    init_dirty(&a);
    for (uint64_t i = 0; i < 10; i++)
        pto_args_dep(&a, i);
    pto_task_id_t mixed[9] = {PTO_TASK_ID_NONE, 1, 2, PTO_TASK_ID_NONE, 3,
                              4, 5, 6, PTO_TASK_ID_NONE};
    pto_args_deps(&a, mixed, 9);
    check_clean(&a);
    CHECK_EQ(a.ndeps, 16);
    CHECK(a.deps[10] == 1);
    CHECK(a.deps[12] == 3);
    CHECK(a.deps[15] == 6);
    pto_task_id_t nones[3] = {PTO_TASK_ID_NONE, PTO_TASK_ID_NONE,
                              PTO_TASK_ID_NONE};
    pto_args_deps(&a, nones, 3); /* full, but adds nothing: fine */
    check_clean(&a);

    /* n == 0 with NULL is a no-op; NULL with n > 0 is EINVAL. */
    init_dirty(&a);
    pto_args_deps(&a, NULL, 0);
    pto_args_deps(&a, ids, 0);
    check_clean(&a);
    CHECK_EQ(a.ndeps, 0);
    pto_args_dep(&a, 1);
    pto_args_deps(&a, NULL, 2);
    check_error(&a, PTO_EINVAL, PTO_ARGS_ERR_NULL, 1);
    CHECK_EQ(a.ndeps, 1);
    pto_args_deps(NULL, ids, 2); /* no crash */
}

static void test_invalid_tensor(void)
{
    pto_args_t a;
    init_dirty(&a);
    pto_tensor_t good = tile(0);
    const uint32_t bad_shape[2] = {0, 8};
    pto_tensor_t bad = pto_tensor_external(buf, bad_shape, 2, PTO_FLOAT32);
    pto_args_input(&a, &good);
    pto_args_input(&a, &good);
    pto_args_inout(&a, &bad);
    check_error(&a, PTO_ETENSOR, PTO_ARGS_ERR_TENSOR, 2);
    CHECK_EQ(a.ntensors, 2);

    /* Each tensor tag checks, a failed view too. */
    void (*adders[4])(pto_args_t *, const pto_tensor_t *) = {
        pto_args_input, pto_args_output_existing, pto_args_inout,
        pto_args_no_dep};
    pto_tensor_t failed;
    const uint32_t off[2] = {8, 0}, len[2] = {1, 8};
    const uint32_t shape[2] = {8, 8};
    pto_tensor_t t = pto_tensor_external(buf, shape, 2, PTO_FLOAT32);
    CHECK_EQ(pto_tensor_view(&t, off, len, &failed), PTO_EBOUNDS);
    for (int i = 0; i < 4; i++) {
        init_dirty(&a);
        adders[i](&a, &failed);
        check_error(&a, PTO_ETENSOR, PTO_ARGS_ERR_TENSOR, 0);
        CHECK_EQ(a.ntensors, 0);
    }
}

static void test_invalid_create_info(void)
{
    pto_args_t a;
    pto_tensor_t t = tile(0);

    init_dirty(&a);
    pto_args_input(&a, &t);
    pto_create_info_t bad = pto_create_info(NULL, 2, PTO_FLOAT32);
    pto_args_output(&a, &bad);
    check_error(&a, PTO_EINVAL, PTO_ARGS_ERR_CREATE, 1);
    CHECK_EQ(a.ntensors, 1);
    CHECK_EQ(a.noutputs, 0);

    const uint32_t z[2] = {4, 0};
    init_dirty(&a);
    bad = pto_create_info(z, 2, PTO_FLOAT32);
    pto_args_output(&a, &bad);
    check_error(&a, PTO_EINVAL, PTO_ARGS_ERR_CREATE, 0);

    /* Hand-built create-infos (status 0) are checked as well. */
    pto_create_info_t hand;
    memset(&hand, 0, sizeof(hand));
    init_dirty(&a);
    pto_args_output(&a, &hand); /* ndim 0 */
    check_error(&a, PTO_EINVAL, PTO_ARGS_ERR_CREATE, 0);
    hand.ndim = PTO_MAX_DIMS + 1;
    init_dirty(&a);
    pto_args_output(&a, &hand);
    check_error(&a, PTO_EINVAL, PTO_ARGS_ERR_CREATE, 0);
    hand.ndim = 2; /* shape {0, 0} */
    init_dirty(&a);
    pto_args_output(&a, &hand);
    check_error(&a, PTO_EINVAL, PTO_ARGS_ERR_CREATE, 0);
    hand.shape[0] = 4;
    hand.shape[1] = 4;
    hand.dtype = PTO_DTYPE_COUNT;
    init_dirty(&a);
    pto_args_output(&a, &hand);
    check_error(&a, PTO_EINVAL, PTO_ARGS_ERR_CREATE, 0);
    hand.dtype = PTO_INT8; /* now valid */
    init_dirty(&a);
    pto_args_output(&a, &hand);
    check_clean(&a);
    CHECK_EQ(a.noutputs, 1);
}

static void test_null_pointers(void)
{
    pto_args_t a;
    pto_tensor_t t = tile(0);
    const uint32_t cs[1] = {4};
    pto_create_info_t ci = pto_create_info(cs, 1, PTO_FLOAT32);

    void (*adders[4])(pto_args_t *, const pto_tensor_t *) = {
        pto_args_input, pto_args_output_existing, pto_args_inout,
        pto_args_no_dep};
    for (int i = 0; i < 4; i++) {
        init_dirty(&a);
        pto_args_input(&a, &t);
        adders[i](&a, NULL);
        check_error(&a, PTO_EINVAL, PTO_ARGS_ERR_NULL, 1);
        CHECK_EQ(a.ntensors, 1);
        adders[i](NULL, &t); /* no crash */
    }
    init_dirty(&a);
    pto_args_output(&a, NULL);
    check_error(&a, PTO_EINVAL, PTO_ARGS_ERR_NULL, 0);
    CHECK_EQ(a.noutputs, 0);

    /* A NULL args is ignored by every call; status/result report it. */
    pto_args_init(NULL);
    pto_args_output(NULL, &ci);
    pto_args_scalar(NULL, 1);
    pto_args_dep(NULL, 1);
    pto_args_spmd(NULL, 2, 0);
    CHECK_EQ(pto_args_status(NULL), PTO_EINVAL);
    CHECK(pto_args_result(NULL, 0) == NULL);
}

static void test_spmd(void)
{
    pto_args_t a;
    init_dirty(&a);
    pto_args_spmd(&a, 8, PTO_SPMD_SYNC_START);
    check_clean(&a);
    CHECK_EQ(a.block_num, 8);
    CHECK_EQ(a.spmd_flags, PTO_SPMD_SYNC_START);
    pto_args_spmd(&a, 1, 0);
    CHECK_EQ(a.block_num, 1);
    CHECK_EQ(a.spmd_flags, 0);

    init_dirty(&a);
    pto_args_spmd(&a, 0, 0);
    check_error(&a, PTO_EINVAL, PTO_ARGS_ERR_SPMD, 0);
    CHECK_EQ(a.block_num, 1);

    init_dirty(&a);
    pto_args_spmd(&a, 4, 0x2);
    check_error(&a, PTO_EINVAL, PTO_ARGS_ERR_SPMD, 0);
    CHECK_EQ(a.block_num, 1);
    CHECK_EQ(a.spmd_flags, 0);
    init_dirty(&a);
    pto_args_spmd(&a, 4, PTO_SPMD_SYNC_START | 0x80000000u);
    check_error(&a, PTO_EINVAL, PTO_ARGS_ERR_SPMD, 0);
}

static void test_result(void)
{
    pto_args_t a;
    init_dirty(&a);
    pto_tensor_t t = tile(3);
    const uint32_t s0[2] = {2, 2}, s1[1] = {9};
    pto_create_info_t c0 = pto_create_info(s0, 2, PTO_FLOAT32);
    pto_create_info_t c1 = pto_create_info(s1, 1, PTO_UINT8);
    pto_args_input(&a, &t);
    pto_args_output(&a, &c0);
    pto_args_inout(&a, &t);
    pto_args_output(&a, &c1);
    CHECK(pto_args_result(&a, 0) == NULL); /* before submit */
    CHECK(pto_args_result(&a, 1) == NULL);

    /* What a successful submit does: materialise, then mark valid. */
    a.result_valid = 1;
    const pto_tensor_t *r0 = pto_args_result(&a, 0);
    const pto_tensor_t *r1 = pto_args_result(&a, 1);
    CHECK(r0 == &a.tensors[1]);
    CHECK(r1 == &a.tensors[3]);
    CHECK(pto_args_result(&a, 2) == NULL);
    CHECK(pto_args_result(&a, UINT32_MAX) == NULL);
    if (r1)
        CHECK_EQ(pto_tensor_numel(r1), 9);

    /* Adding a tensor afterwards invalidates the results. */
    pto_args_no_dep(&a, &t);
    CHECK(pto_args_result(&a, 0) == NULL);

    /* No OUTPUT slots: nothing to return even when valid. */
    init_dirty(&a);
    pto_args_input(&a, &t);
    a.result_valid = 1;
    CHECK(pto_args_result(&a, 0) == NULL);
}

int main(void)
{
    test_init();
    test_tags_in_order();
    test_tensor_capacity();
    test_scalar_capacity();
    test_dep_capacity();
    test_dep_none_and_duplicates();
    test_deps_batch();
    test_invalid_tensor();
    test_invalid_create_info();
    test_null_pointers();
    test_spmd();
    test_result();
    return check_result();
}
