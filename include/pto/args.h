/*
 * pto/args.h - task arguments, built by the caller on the stack.
 *
 * An args value holds up to PTO_MAX_TENSOR_ARGS tensors (each tagged with how
 * the task accesses it), PTO_MAX_SCALAR_ARGS 64-bit scalars and
 * PTO_MAX_EXPLICIT_DEPS explicit producer task ids. Everything is *copied in*
 * when added, so the tensors passed may be temporaries or reused at once.
 * Nothing allocates.
 *
 * Errors are sticky: adding past a capacity (or adding an invalid tensor or
 * create-info) records the first error in the args and ignores the rest;
 * pto_args_status() reports it, and submitting such args fails the submit
 * (and the run) with a message naming the limit.
 *
 * Kernels see the tensors in the order they were added (every tag counts) and
 * the scalars likewise.
 *
 * Thread: args are plain caller-owned values; use one args from one thread
 * at a time. None of these functions blocks.
 */
#ifndef PTO_ARGS_H
#define PTO_ARGS_H

#include "pto/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PTO_MAX_TENSOR_ARGS 16
#define PTO_MAX_SCALAR_ARGS 32
#define PTO_MAX_EXPLICIT_DEPS 16

/* SPMD flags for pto_args_spmd(). */
#define PTO_SPMD_SYNC_START 0x1u

typedef enum pto_arg_tag {
    PTO_ARG_INPUT = 0,       /* read */
    PTO_ARG_OUTPUT,          /* written; runtime allocates it (create-info) */
    PTO_ARG_OUTPUT_EXISTING, /* written (whole view); existing tensor */
    PTO_ARG_INOUT,           /* read and written */
    PTO_ARG_NO_DEP           /* passed to the kernel; not tracked */
} pto_arg_tag_t;

/* Which capacity an args error refers to (pto_args_t.err_detail). */
typedef enum pto_args_err {
    PTO_ARGS_ERR_NONE = 0,
    PTO_ARGS_ERR_TENSORS,  /* more than PTO_MAX_TENSOR_ARGS tensors */
    PTO_ARGS_ERR_SCALARS,  /* more than PTO_MAX_SCALAR_ARGS scalars */
    PTO_ARGS_ERR_DEPS,     /* more than PTO_MAX_EXPLICIT_DEPS deps */
    PTO_ARGS_ERR_TENSOR,   /* an invalid tensor was added */
    PTO_ARGS_ERR_CREATE,   /* an invalid create-info was added */
    PTO_ARGS_ERR_NULL,     /* a NULL tensor / create-info / id array */
    PTO_ARGS_ERR_SPMD      /* block_num 0 or unknown flags */
} pto_args_err_t;

typedef struct pto_args {
    uint32_t ntensors;
    uint32_t nscalars;
    uint32_t ndeps;
    uint32_t noutputs;       /* OUTPUT-tagged slots among the tensors */
    int32_t status;          /* sticky first error, 0 if none */
    uint32_t err_detail;     /* pto_args_err_t of that error */
    uint32_t err_index;      /* the 0-based add that failed */
    uint32_t block_num;      /* SPMD blocks, 1 by default */
    uint32_t spmd_flags;
    uint32_t result_valid;   /* set by a successful submit */
    uint8_t tag[PTO_MAX_TENSOR_ARGS];
    uint8_t out_slot[PTO_MAX_TENSOR_ARGS]; /* i-th OUTPUT -> tensor slot */
    pto_task_id_t deps[PTO_MAX_EXPLICIT_DEPS];
    uint64_t scalars[PTO_MAX_SCALAR_ARGS];
    /* OUTPUT slots hold the create-info's shape and dtype (base NULL) until
     * a successful submit materialises them. */
    pto_tensor_t tensors[PTO_MAX_TENSOR_ARGS];
} pto_args_t;

/* Empty args: no tensors, scalars or deps; block_num 1. */
PTO_API void pto_args_init(pto_args_t *a);
PTO_API void pto_args_input(pto_args_t *a, const pto_tensor_t *t);
/* A runtime-created output described by `ci`; after a successful submit,
 * pto_args_result() returns the materialised tensor. */
PTO_API void pto_args_output(pto_args_t *a, const pto_create_info_t *ci);
PTO_API void pto_args_output_existing(pto_args_t *a, const pto_tensor_t *t);
PTO_API void pto_args_inout(pto_args_t *a, const pto_tensor_t *t);
PTO_API void pto_args_no_dep(pto_args_t *a, const pto_tensor_t *t);
PTO_API void pto_args_scalar(pto_args_t *a, uint64_t v);
/* Order the task after `producer`. NONE adds nothing (so a chain can start
 * from NONE); a repeated id is harmless but counts toward the capacity. */
PTO_API void pto_args_dep(pto_args_t *a, pto_task_id_t producer);
/* Add n deps at once, all or nothing: if they do not all fit, none is added
 * and the capacity error is recorded. NONE entries are skipped. */
PTO_API void pto_args_deps(pto_args_t *a, const pto_task_id_t *ids, uint32_t n);
/* SPMD launch: run the task as block_num (>= 1) blocks. flags: 0 or
 * PTO_SPMD_SYNC_START. */
PTO_API void pto_args_spmd(pto_args_t *a, uint32_t block_num, uint32_t flags);
/* First recorded error (PTO_ECAPACITY, PTO_ETENSOR, PTO_EINVAL) or 0. */
PTO_API int pto_args_status(const pto_args_t *a);
/* The i-th OUTPUT-tagged slot (counting OUTPUTs only) after a successful
 * submit; NULL otherwise. Valid while the args value is. */
PTO_API const pto_tensor_t *pto_args_result(const pto_args_t *a, uint32_t i);

#ifdef __cplusplus
}
#endif

#endif /* PTO_ARGS_H */
