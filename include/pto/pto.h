/*
 * pto/pto.h - the umbrella header of pto-runtime, a dynamic task-graph
 * runtime for heterogeneous many-core devices (and a CPU platform that runs
 * it for real).
 *
 *   errors.h   status codes, pto_strerror
 *   tensor.h   tensors, views, reshape, transpose, dtypes
 *   args.h     task arguments built on the caller's stack
 *   runtime.h  config, create/destroy, kernels, pto_run
 *   orch.h     scopes and submits (orchestrator thread)
 *   kernel.h   what a running kernel sees
 *   trace.h    traces, task graphs and printed statistics of a run
 */
#ifndef PTO_PTO_H
#define PTO_PTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pto/errors.h"
#include "pto/tensor.h"
#include "pto/args.h"
#include "pto/runtime.h"
#include "pto/orch.h"
#include "pto/kernel.h"
#include "pto/trace.h"

#define PTO_VERSION_MAJOR 0
#define PTO_VERSION_MINOR 1
#define PTO_VERSION_PATCH 0

#endif /* PTO_PTO_H */
