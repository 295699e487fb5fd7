/*
 * bench/bench_peers.h - which runtimes pto-bench was built with.
 *
 * bench/CMakeLists.txt defines each knob as 0 or 1 and, for a peer it could
 * not build, PTO_BENCH_WHY_* as the reason pto-bench prints ("skipped:
 * WHY"). The defaults below are for a build that defines nothing.
 *   PTO_BENCH_HAVE_STARPU    starpu_implicit, starpu_explicit (in process)
 *   PTO_BENCH_HAVE_TBB       tbb_flow (in process, C++)
 *   PTO_BENCH_HAVE_OMP_GOMP  pto-bench-omp-gomp beside pto-bench (gcc)
 *   PTO_BENCH_HAVE_OMP_LLVM  pto-bench-omp-llvm beside pto-bench (clang)
 */
#ifndef PTO_BENCH_PEERS_H
#define PTO_BENCH_PEERS_H

#include "bench_shapes.h"

#ifndef PTO_BENCH_HAVE_STARPU
#define PTO_BENCH_HAVE_STARPU 0
#endif
#ifndef PTO_BENCH_HAVE_TBB
#define PTO_BENCH_HAVE_TBB 0
#endif
#ifndef PTO_BENCH_HAVE_OMP_GOMP
#define PTO_BENCH_HAVE_OMP_GOMP 0
#endif
#ifndef PTO_BENCH_HAVE_OMP_LLVM
#define PTO_BENCH_HAVE_OMP_LLVM 0
#endif
#ifndef PTO_BENCH_WHY_STARPU
#define PTO_BENCH_WHY_STARPU "not built (StarPU was not found at configure time)"
#endif
#ifndef PTO_BENCH_WHY_TBB
#define PTO_BENCH_WHY_TBB "not built (oneTBB was not found at configure time)"
#endif
#ifndef PTO_BENCH_WHY_OMP_GOMP
#define PTO_BENCH_WHY_OMP_GOMP "not built (gcc with -fopenmp was not found)"
#endif
#ifndef PTO_BENCH_WHY_OMP_LLVM
#define PTO_BENCH_WHY_OMP_LLVM "not built (clang with libomp was not found)"
#endif

#ifdef __cplusplus
extern "C" {
#endif

extern const bench_peer_t bench_peer_pto_auto;
extern const bench_peer_t bench_peer_pto_manual;

/* Each peer linked into pto-bench, or NULL. Peers built as their own
 * programs (the OpenMP ones) are found beside pto-bench at run time. */
#if PTO_BENCH_HAVE_STARPU
extern const bench_peer_t bench_peer_starpu_implicit;
extern const bench_peer_t bench_peer_starpu_explicit;
#define BENCH_PEER_STARPU_IMPLICIT (&bench_peer_starpu_implicit)
#define BENCH_PEER_STARPU_EXPLICIT (&bench_peer_starpu_explicit)
#define BENCH_PEERS_STARPU , &bench_peer_starpu_implicit, &bench_peer_starpu_explicit
#else
#define BENCH_PEER_STARPU_IMPLICIT NULL
#define BENCH_PEER_STARPU_EXPLICIT NULL
#define BENCH_PEERS_STARPU
#endif

#if PTO_BENCH_HAVE_TBB
extern const bench_peer_t bench_peer_tbb_flow;
#define BENCH_PEER_TBB_FLOW (&bench_peer_tbb_flow)
#define BENCH_PEERS_TBB , &bench_peer_tbb_flow
#else
#define BENCH_PEER_TBB_FLOW NULL
#define BENCH_PEERS_TBB
#endif

/* The initializer of pto-bench's in-process peer table (--child). */
#define BENCH_PEERS_IN_PROCESS                                                \
    {&bench_peer_pto_auto, &bench_peer_pto_manual BENCH_PEERS_STARPU         \
                                                  BENCH_PEERS_TBB}

#ifdef __cplusplus
}
#endif

#endif /* PTO_BENCH_PEERS_H */
