#include "variants.h"

#include <pthread.h>
#include <stddef.h>

static const rs_kernel_table baseline_kernels = RS_KERNEL_TABLE(RS_KERNELS_BASELINE, baseline);

#if RS_HAVE_AVX2_VARIANT
static const rs_kernel_table avx2_kernels = RS_KERNEL_TABLE(RS_KERNELS_AVX2, avx2);
#endif

/// Whether this processor and its operating system run AVX2 code (the CPUID feature and the
/// OS saving the YMM registers, both of which `__builtin_cpu_supports` checks). The feature
/// bits are filled in by a start-up constructor of the compiler's runtime, which has run by
/// the time any kernel is called (only code running before constructors, such as an ifunc
/// resolver, would need `__builtin_cpu_init()`).
static int processor_has_avx2(void) {
#if RS_HAVE_AVX2_VARIANT
    return __builtin_cpu_supports("avx2") != 0;
#else
    return 0;
#endif
}

const rs_kernel_table *rs_kernel_table_for(rs_kernel_variant variant) {
    switch (variant) {
    case RS_KERNELS_BASELINE:
        return &baseline_kernels;
    case RS_KERNELS_AVX2:
#if RS_HAVE_AVX2_VARIANT
        return processor_has_avx2() ? &avx2_kernels : NULL;
#else
        return NULL;
#endif
    }
    return NULL;
}

// The choice is made once, under pthread_once, so that concurrent first calls agree and every
// later call sees the finished choice (pthread_once orders the write before their reads).
static pthread_once_t choice_once = PTHREAD_ONCE_INIT;
static const rs_kernel_table *active_kernels;

static void choose_kernels(void) {
    const rs_kernel_table *avx2 = rs_kernel_table_for(RS_KERNELS_AVX2);
    active_kernels = avx2 ? avx2 : &baseline_kernels;
}

const rs_kernel_table *rs_active_kernels(void) {
    pthread_once(&choice_once, choose_kernels);
    return active_kernels;
}

rs_kernel_variant rs_active_kernel_variant(void) { return rs_active_kernels()->variant; }

struct place_points_job {
    const float *xyzr;
    int32_t height, width;
    double fov_up_rad, fov_down_rad;
    int32_t *rows, *columns;
    float *ranges;
};

static void place_points_share(void *context, int64_t begin, int64_t end) {
    const struct place_points_job *job = context;
    rs_active_kernels()->place_points(job->xyzr + 4 * begin, end - begin, job->height, job->width, job->fov_up_rad,
                                      job->fov_down_rad, job->rows + begin, job->columns + begin, job->ranges + begin);
}

void rs_place_points(const float *restrict xyzr, int64_t n, int32_t height, int32_t width,
                     double fov_up_rad, double fov_down_rad,
                     int32_t *restrict rows, int32_t *restrict columns, float *restrict ranges) {
    struct place_points_job job = {.xyzr = xyzr, .height = height, .width = width, .fov_up_rad = fov_up_rad,
                                   .fov_down_rad = fov_down_rad, .rows = rows, .columns = columns, .ranges = ranges};
    rs_parallel_for(n, 16384, place_points_share, &job);
}

int64_t rs_count_similar(const float *restrict dots, const float *restrict reference_norms, int64_t n,
                         float query_norm, float tau) {
    return rs_active_kernels()->count_similar(dots, reference_norms, n, query_norm, tau);
}

double rs_softmax_cross_entropy(const float *restrict logits, const int32_t *restrict labels,
                                const float *restrict factors, int64_t classes, int64_t pixels,
                                float scale, float *restrict gradient, float *restrict pixel_loss) {
    return rs_active_kernels()->softmax_cross_entropy(logits, labels, factors, classes, pixels, scale, gradient,
                                                      pixel_loss);
}
