/*
 * args.c - building task arguments on the caller's stack.
 *
 * Invariants: ntensors <= PTO_MAX_TENSOR_ARGS, nscalars <= PTO_MAX_SCALAR_ARGS,
 * ndeps <= PTO_MAX_EXPLICIT_DEPS at all times; the first error is sticky
 * (status, err_detail, err_index keep describing it) and every later add is
 * ignored, so a submit can report exactly which add overflowed which limit.
 */
#include <string.h>

#include "pto/args.h"
#include "pto/errors.h"

void pto_args_init(pto_args_t *a)
{
    if (!a)
        return;
    /* Only the header needs clearing: the arrays are written before read. */
    memset(a, 0, offsetof(pto_args_t, deps));
    a->block_num = 1;
}

static void args_fail(pto_args_t *a, int status, pto_args_err_t detail,
                      uint32_t index)
{
    if (a->status != 0)
        return;
    a->status = status;
    a->err_detail = (uint32_t)detail;
    a->err_index = index;
}

static void args_add_tensor(pto_args_t *a, const pto_tensor_t *t,
                            pto_arg_tag_t tag)
{
    if (!a || a->status != 0)
        return;
    a->result_valid = 0;
    if (!t) {
        args_fail(a, PTO_EINVAL, PTO_ARGS_ERR_NULL, a->ntensors);
        return;
    }
    if (a->ntensors >= PTO_MAX_TENSOR_ARGS) {
        args_fail(a, PTO_ECAPACITY, PTO_ARGS_ERR_TENSORS, a->ntensors);
        return;
    }
    if (t->status != 0 || t->ndim == 0) {
        args_fail(a, PTO_ETENSOR, PTO_ARGS_ERR_TENSOR, a->ntensors);
        return;
    }
    a->tensors[a->ntensors] = *t;
    a->tag[a->ntensors] = (uint8_t)tag;
    a->ntensors++;
}

void pto_args_input(pto_args_t *a, const pto_tensor_t *t)
{
    args_add_tensor(a, t, PTO_ARG_INPUT);
}

void pto_args_output_existing(pto_args_t *a, const pto_tensor_t *t)
{
    args_add_tensor(a, t, PTO_ARG_OUTPUT_EXISTING);
}

void pto_args_inout(pto_args_t *a, const pto_tensor_t *t)
{
    args_add_tensor(a, t, PTO_ARG_INOUT);
}

void pto_args_no_dep(pto_args_t *a, const pto_tensor_t *t)
{
    args_add_tensor(a, t, PTO_ARG_NO_DEP);
}

void pto_args_output(pto_args_t *a, const pto_create_info_t *ci)
{
    if (!a || a->status != 0)
        return;
    a->result_valid = 0;
    if (!ci) {
        args_fail(a, PTO_EINVAL, PTO_ARGS_ERR_NULL, a->ntensors);
        return;
    }
    if (a->ntensors >= PTO_MAX_TENSOR_ARGS) {
        args_fail(a, PTO_ECAPACITY, PTO_ARGS_ERR_TENSORS, a->ntensors);
        return;
    }
    /* Re-check the fields (not just status): a create-info built by hand
     * has status 0 whatever its shape and dtype, and a zero extent or an
     * unknown dtype would break the tensor invariants (every extent >= 1,
     * known element size). The byte size is kept in buffer_bytes, so the
     * submit does not recompute it. */
    pto_tensor_t *t = &a->tensors[a->ntensors];
    uint64_t bytes = ci->status == 0 && ci->ndim >= 1 &&
                             ci->ndim <= PTO_MAX_DIMS
                         ? pto_dtype_size(ci->dtype)
                         : 0;
    memset(t, 0, sizeof(*t));
    for (uint32_t d = 0; d < ci->ndim && bytes != 0; d++) {
        uint32_t e = ci->shape[d];
        bytes = (e != 0 && bytes <= (UINT64_MAX >> 8) / e) ? bytes * e : 0;
        t->layout[d] = e;
        t->len[d] = e;
        t->perm[d] = (uint8_t)d;
    }
    if (bytes == 0) {
        args_fail(a, PTO_EINVAL, PTO_ARGS_ERR_CREATE, a->ntensors);
        return;
    }
    /* The slot holds the wanted shape; submit fills base/owner/scope. */
    t->owner = PTO_TASK_ID_NONE;
    t->ndim = (uint8_t)ci->ndim;
    t->dtype = (uint8_t)ci->dtype;
    t->buffer_bytes = bytes;
    a->tag[a->ntensors] = PTO_ARG_OUTPUT;
    a->out_slot[a->noutputs++] = (uint8_t)a->ntensors;
    a->ntensors++;
}

void pto_args_scalar(pto_args_t *a, uint64_t v)
{
    if (!a || a->status != 0)
        return;
    if (a->nscalars >= PTO_MAX_SCALAR_ARGS) {
        args_fail(a, PTO_ECAPACITY, PTO_ARGS_ERR_SCALARS, a->nscalars);
        return;
    }
    a->scalars[a->nscalars++] = v;
}

void pto_args_dep(pto_args_t *a, pto_task_id_t producer)
{
    if (!a || a->status != 0 || producer == PTO_TASK_ID_NONE)
        return;
    if (a->ndeps >= PTO_MAX_EXPLICIT_DEPS) {
        args_fail(a, PTO_ECAPACITY, PTO_ARGS_ERR_DEPS, a->ndeps);
        return;
    }
    a->deps[a->ndeps++] = producer;
}

void pto_args_deps(pto_args_t *a, const pto_task_id_t *ids, uint32_t n)
{
    if (!a || a->status != 0)
        return;
    if (!ids && n > 0) {
        args_fail(a, PTO_EINVAL, PTO_ARGS_ERR_NULL, a->ndeps);
        return;
    }
    uint32_t real = 0;
    for (uint32_t i = 0; i < n; i++)
        real += ids[i] != PTO_TASK_ID_NONE;
    if (real > PTO_MAX_EXPLICIT_DEPS - a->ndeps) {
        args_fail(a, PTO_ECAPACITY, PTO_ARGS_ERR_DEPS, a->ndeps + real - 1);
        return;
    }
    for (uint32_t i = 0; i < n; i++)
        if (ids[i] != PTO_TASK_ID_NONE)
            a->deps[a->ndeps++] = ids[i];
}

void pto_args_spmd(pto_args_t *a, uint32_t block_num, uint32_t flags)
{
    if (!a || a->status != 0)
        return;
    if (block_num == 0 || (flags & ~PTO_SPMD_SYNC_START) != 0) {
        args_fail(a, PTO_EINVAL, PTO_ARGS_ERR_SPMD, 0);
        return;
    }
    a->block_num = block_num;
    a->spmd_flags = flags;
}

int pto_args_status(const pto_args_t *a)
{
    return a ? a->status : PTO_EINVAL;
}

const pto_tensor_t *pto_args_result(const pto_args_t *a, uint32_t i)
{
    if (!a || !a->result_valid || i >= a->noutputs)
        return NULL;
    return &a->tensors[a->out_slot[i]];
}
