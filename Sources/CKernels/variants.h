#ifndef RANGESEG_KERNEL_VARIANTS_H
#define RANGESEG_KERNEL_VARIANTS_H

// How the vectorised kernels are compiled twice and chosen once (private to CKernels).
//
// Each kernel's loop is written once, as an always-inlined body; two thin wrappers compile it
// for AVX2 (8 float lanes) and for the x86-64 baseline (SSE2, 4 lanes), and dispatch.c picks
// one table of wrappers per process at the first call (`rs_active_kernels`).
//
// This replaces `__attribute__((target_clones(...)))`, whose GNU ifunc resolvers the dynamic
// loader runs while relocating the program, before a sanitizer runtime is initialised: under
// `-fsanitize=thread` (or address, fuzzer) the instrumented resolvers crashed every test binary
// before `main`. Here the choice is an ordinary call made after start-up.

#include "kernels.h"

#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define RS_HAVE_AVX2_VARIANT 1
#define RS_TARGET_AVX2 __attribute__((target("avx2")))
#else
#define RS_HAVE_AVX2_VARIANT 0
#endif

/// A kernel body, inlined into each variant's wrapper so that it is vectorised for that
/// wrapper's instruction set.
#define RS_KERNEL_BODY static inline __attribute__((always_inline))

/// Element `i` of a bfloat16 array (the bf16 precision's activations) as float, exactly.
RS_KERNEL_BODY float load_bf16(const uint16_t *p, int64_t i) {
    const uint32_t u = (uint32_t)p[i] << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/// `f` rounded to bfloat16, to nearest even (finite values only).
RS_KERNEL_BODY uint16_t round_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

/// Declares one variant's wrappers, `rs_<kernel>_<suffix>`, one for each kernel of
/// `rs_kernel_table` (with its signature).
#define RS_DECLARE_KERNEL_VARIANT(suffix)                                                                    \
    void rs_place_points_##suffix(const float *restrict xyzr, int64_t n, int32_t height, int32_t width,        \
                                  double fov_up_rad, double fov_down_rad, int32_t *restrict rows,            \
                                  int32_t *restrict columns, float *restrict ranges);                        \
    int64_t rs_count_similar_##suffix(const float *restrict dots, const float *restrict reference_norms,      \
                                      int64_t n, float query_norm, float tau);                               \
    double rs_softmax_cross_entropy_##suffix(const float *restrict logits, const int32_t *restrict labels,    \
                                             const float *restrict factors, int64_t classes, int64_t pixels, \
                                             float scale, float *restrict gradient, float *restrict pixel_loss);    \
    void rs_bn_sums_##suffix(const void *restrict x, int64_t pixels, int32_t block, int32_t bf16,                \
                             const float *restrict pivot, double *restrict sum, double *restrict squares);       \
    void rs_bn_leaky_apply_##suffix(const void *restrict x, const void *restrict r, int64_t pixels,              \
                                    int32_t block, int32_t bf16, const float *restrict a,                         \
                                    const float *restrict b, float slope, void *restrict y);                      \
    void rs_bn_leaky_gradient_sums_##suffix(const void *restrict x, const void *restrict dy, int64_t pixels,     \
                                            int32_t block, int32_t bf16, const float *restrict a,                 \
                                            const float *restrict b, const float *restrict mean, float slope,     \
                                            double *restrict sum_dz, double *restrict sum_dz_centred);            \
    void rs_bn_leaky_input_gradient_##suffix(const void *restrict x, const void *restrict dy, int64_t pixels,    \
                                             int32_t block, int32_t bf16, const float *restrict a,                \
                                             const float *restrict b, const float *restrict mean, float slope,    \
                                             const float *restrict centred_factor, const float *restrict offset,  \
                                             void *restrict dx);                                                  \
    void rs_wino_input_row_##suffix(const float *restrict x, int64_t width, int64_t tiles, int32_t block,         \
                                    float *restrict v, int64_t component);                                        \
    void rs_wino_output_row_##suffix(const float *restrict m, int64_t tiles, int64_t width, int32_t block,        \
                                     int64_t component, const struct rs_winograd_epilogue *restrict after,        \
                                     float *restrict y);                                                          \
    void rs_wino_output_gradient_row_##suffix(const float *restrict dy, int64_t width, int64_t tiles,             \
                                              int32_t block, float *restrict dm, int64_t component);              \
    void rs_wino_input_gradient_row_##suffix(const float *restrict dv, int64_t tiles, int64_t width,              \
                                             int32_t block, int64_t component, float *restrict dx);               \
    void rs_wino_up2_output_row_##suffix(const float *restrict m0, const float *restrict m1, int64_t tiles,      \
                                         int64_t width, int32_t block, int64_t component,                         \
                                         const struct rs_winograd_epilogue *restrict after, float *restrict y);   \
    void rs_wino_widen_##suffix(const uint16_t *restrict from, int64_t n, float *restrict to);                   \
    void rs_wino_narrow_##suffix(const float *restrict from, const uint16_t *restrict addend0,                   \
                                 const uint16_t *restrict addend1, int64_t n, uint16_t *restrict to);

/// One variant's table of wrappers, as dispatch.c hands them out.
#define RS_KERNEL_TABLE(variant_id, suffix)                         \
    {                                                               \
        .variant = variant_id,                                      \
        .name = #suffix,                                            \
        .place_points = rs_place_points_##suffix,                   \
        .count_similar = rs_count_similar_##suffix,                 \
        .softmax_cross_entropy = rs_softmax_cross_entropy_##suffix, \
        .bn_sums = rs_bn_sums_##suffix,                             \
        .bn_leaky_apply = rs_bn_leaky_apply_##suffix,               \
        .bn_leaky_gradient_sums = rs_bn_leaky_gradient_sums_##suffix, \
        .bn_leaky_input_gradient = rs_bn_leaky_input_gradient_##suffix, \
        .wino_input_row = rs_wino_input_row_##suffix,               \
        .wino_output_row = rs_wino_output_row_##suffix,             \
        .wino_output_gradient_row = rs_wino_output_gradient_row_##suffix, \
        .wino_input_gradient_row = rs_wino_input_gradient_row_##suffix, \
        .wino_up2_output_row = rs_wino_up2_output_row_##suffix,     \
        .wino_widen = rs_wino_widen_##suffix,                       \
        .wino_narrow = rs_wino_narrow_##suffix,                     \
    }

RS_DECLARE_KERNEL_VARIANT(baseline)
#if RS_HAVE_AVX2_VARIANT
RS_DECLARE_KERNEL_VARIANT(avx2)
#endif

/// The table the public kernels call through: chosen once per process (thread-safe).
const rs_kernel_table *rs_active_kernels(void);

#endif
