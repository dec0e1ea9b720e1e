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

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define RS_HAVE_AVX2_VARIANT 1
#define RS_TARGET_AVX2 __attribute__((target("avx2")))
#else
#define RS_HAVE_AVX2_VARIANT 0
#endif

/// A kernel body, inlined into each variant's wrapper so that it is vectorised for that
/// wrapper's instruction set.
#define RS_KERNEL_BODY static inline __attribute__((always_inline))

void rs_place_points_baseline(const float *restrict xyzr, int64_t n, int32_t height, int32_t width,
                              double fov_up_rad, double fov_down_rad,
                              int32_t *restrict rows, int32_t *restrict columns, float *restrict ranges);
int64_t rs_count_similar_baseline(const float *restrict dots, const float *restrict reference_norms, int64_t n,
                                  float query_norm, float tau);
double rs_softmax_cross_entropy_baseline(const float *restrict logits, const int32_t *restrict labels,
                                         const float *restrict factors, int64_t classes, int64_t pixels,
                                         float scale, float *restrict gradient, float *restrict pixel_loss);

#if RS_HAVE_AVX2_VARIANT
void rs_place_points_avx2(const float *restrict xyzr, int64_t n, int32_t height, int32_t width,
                          double fov_up_rad, double fov_down_rad,
                          int32_t *restrict rows, int32_t *restrict columns, float *restrict ranges);
int64_t rs_count_similar_avx2(const float *restrict dots, const float *restrict reference_norms, int64_t n,
                              float query_norm, float tau);
double rs_softmax_cross_entropy_avx2(const float *restrict logits, const int32_t *restrict labels,
                                     const float *restrict factors, int64_t classes, int64_t pixels,
                                     float scale, float *restrict gradient, float *restrict pixel_loss);
#endif

/// The table the public kernels call through: chosen once per process (thread-safe).
const rs_kernel_table *rs_active_kernels(void);

#endif
