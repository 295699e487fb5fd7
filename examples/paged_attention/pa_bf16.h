/*
 * pa_bf16.h - bfloat16 stored as uint16_t: conversions and scalar bits.
 *
 * bf16 is the top half of an IEEE float32, so float -> bf16 is a rounding
 * of the low 16 bits (round to nearest, ties to even) and bf16 -> float is
 * a shift. Header-only: the kernels, the input generator and the golden use
 * the same rounding rule.
 */
#ifndef PA_BF16_H
#define PA_BF16_H

#include <stdint.h>
#include <string.h>

/* float -> bfloat16, round to nearest, ties to even. A NaN stays a quiet
 * NaN (plain rounding could carry a NaN payload into infinity). */
static inline uint16_t pa_bf16_from_float(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline float pa_float_from_bf16(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Scalars travel as uint64_t; a double goes through its bit pattern so no
 * value is lost on the way. */
static inline uint64_t pa_f64_bits(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

static inline double pa_f64_from_bits(uint64_t u)
{
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

#endif /* PA_BF16_H */
