/*
 * atomics.h - the one thin layer over <stdatomic.h> used by the runtime.
 *
 * Every call names its memory order; there is no implicit seq_cst. Each
 * acquire/release site in the runtime says in a comment what it pairs with.
 */
#ifndef PTO_ATOMICS_H
#define PTO_ATOMICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define PTO_CACHELINE 64
#define PTO_ALIGNED_CL _Alignas(PTO_CACHELINE)

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "atomic int must be lock-free");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "atomic 64-bit must be lock-free");
_Static_assert(ATOMIC_POINTER_LOCK_FREE == 2, "atomic pointer must be lock-free");

#define pto_relaxed memory_order_relaxed
#define pto_acquire memory_order_acquire
#define pto_release memory_order_release
#define pto_acq_rel memory_order_acq_rel
#define pto_seq_cst memory_order_seq_cst

#define pto_load(p, mo) atomic_load_explicit((p), (mo))
#define pto_store(p, v, mo) atomic_store_explicit((p), (v), (mo))
#define pto_xchg(p, v, mo) atomic_exchange_explicit((p), (v), (mo))
#define pto_fetch_add(p, v, mo) atomic_fetch_add_explicit((p), (v), (mo))
#define pto_fetch_sub(p, v, mo) atomic_fetch_sub_explicit((p), (v), (mo))
#define pto_fetch_or(p, v, mo) atomic_fetch_or_explicit((p), (v), (mo))
#define pto_fetch_and(p, v, mo) atomic_fetch_and_explicit((p), (v), (mo))
#define pto_cas_weak(p, expp, v, mo_ok, mo_fail)                               \
    atomic_compare_exchange_weak_explicit((p), (expp), (v), (mo_ok), (mo_fail))
#define pto_cas(p, expp, v, mo_ok, mo_fail)                                    \
    atomic_compare_exchange_strong_explicit((p), (expp), (v), (mo_ok), (mo_fail))
/* No fence macro on purpose: ThreadSanitizer does not model fences, so
 * every Dekker pair here is written with seq_cst loads and stores. */

/* Polite busy-wait hint for spin loops. */
static inline void pto_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#else
    atomic_signal_fence(memory_order_seq_cst);
#endif
}

#define pto_likely(x) __builtin_expect(!!(x), 1)
#define pto_unlikely(x) __builtin_expect(!!(x), 0)
/* A rarely taken path kept out of line (recording hooks), so the hot
 * caller stays as compact as without it. */
#define PTO_COLD __attribute__((noinline, cold))

#endif /* PTO_ATOMICS_H */
