/*
 * pto/errors.h - the one table of pto-runtime status codes.
 *
 * Every fallible call returns 0 on success or one of the negative PTO_E*
 * codes below. The table is an X-macro so the enum, pto_strerror() and
 * pto_err_name() cannot drift apart. Codes are stable: new ones are only
 * ever appended.
 *
 * Thread: all functions here may be called from any thread; none blocks.
 */
#ifndef PTO_ERRORS_H
#define PTO_ERRORS_H

#include "pto/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, value, description) */
#define PTO_ERRNO_MAP(X)                                                        \
    X(OK, 0, "success")                                                         \
    X(EINVAL, -1, "invalid argument")                                           \
    X(ENOMEM, -2, "out of memory")                                              \
    X(ECAPACITY, -3, "argument capacity exceeded")                             \
    X(EBOUNDS, -4, "tensor view out of bounds")                                 \
    X(EDEADLOCK, -5, "flow-control deadlock: a ring can never drain")           \
    X(ETOOBIG, -6, "request larger than the ring or pool that must hold it")    \
    X(EDEP, -7, "invalid explicit dependency")                                  \
    X(ESCOPE, -8, "scope misuse")                                               \
    X(ELIFETIME, -9, "runtime-created tensor used after its scope ended")       \
    X(EKERNEL, -10, "unknown or duplicate kernel id")                           \
    X(EKERNELFAIL, -11, "a kernel reported failure")                            \
    X(ESTATE, -12, "call not allowed in the current state")                    \
    X(ESYNCSTART, -13, "SPMD sync-start block count exceeds the machine")       \
    X(ECONFIG, -14, "invalid configuration value")                              \
    X(ETENSOR, -15, "invalid tensor")                                           \
    X(ESHAPE, -16, "incompatible shape")                                        \
    X(ECOMPLETION, -17, "invalid or repeated completion handle")                \
    X(ESYS, -18, "operating-system resource failure")

typedef enum pto_status {
#define PTO__ERR_ENUM(name, value, text) PTO_##name = (value),
    PTO_ERRNO_MAP(PTO__ERR_ENUM)
#undef PTO__ERR_ENUM
} pto_status_t;

/* Short human description of a status code ("invalid argument"); a fixed
 * string for unknown codes. Never NULL. */
PTO_API const char *pto_strerror(int status);

/* Symbolic name of a status code ("PTO_EINVAL"); "PTO_E?" for unknown ones. */
PTO_API const char *pto_err_name(int status);

#ifdef __cplusplus
}
#endif

#endif /* PTO_ERRORS_H */
