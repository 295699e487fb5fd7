/*
 * pa_kbench.h - the kernels without the runtime, on one thread: their
 * throughput (pto-pa --kernel-bench), and a whole case computed serially
 * (pto-pa --serial), the reference the runtime's overhead is measured
 * against.
 */
#ifndef PA_KBENCH_H
#define PA_KBENCH_H

#include <stdint.h>

#include "pa_case.h"
#include "pa_kernels.h"

/* Time the kernels on the tile sizes of case `d` (unroll: blocks per
 * call of the unrolled kernels) and print a table. 0, or -1 when out of
 * memory. */
int pa_kernel_bench(const pa_case_def_t *d, uint32_t unroll);

/* Compute in->out on the calling thread, calling the plain kernels tile by
 * tile and step by step like the orchestrations (blocks_per_step: 1 or
 * the unroll factor), without the runtime: the time a single core needs
 * for the whole case. 0, or -1 (out of memory or geometry over the
 * kernels' limits). */
int pa_serial_run(const pa_inputs_t *in, uint32_t blocks_per_step,
                  pa_isa_t isa);

#endif /* PA_KBENCH_H */
