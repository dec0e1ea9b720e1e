#include "variants.h"

#include <math.h>
#include <string.h>

// Single-precision atan2: reduction to [0, tan(pi/8)] and the Cephes atanf polynomial
// (relative error about 2e-7, like the C library's atan2f), with selects only.
static inline float fast_atan2f(float y, float x) {
    const float pi = (float)M_PI, half_pi = (float)(M_PI / 2), quarter_pi = (float)(M_PI / 4);
    float ax = fabsf(x), ay = fabsf(y);
    float hi = ax > ay ? ax : ay, lo = ax > ay ? ay : ax;
    float t = hi == 0.0f ? 0.0f : lo / hi;
    int reduce = t > 0.41421356f;
    float v = reduce ? (t - 1.0f) / (t + 1.0f) : t;
    float z = v * v;
    float p = 8.0537445e-2f;
    p = p * z - 1.3877686e-1f;
    p = p * z + 1.9977711e-1f;
    p = p * z - 3.333295e-1f;
    float a = p * z * v + v;
    a = reduce ? a + quarter_pi : a;
    a = ay > ax ? half_pi - a : a;
    a = x < 0.0f ? pi - a : a;
    return y < 0.0f ? -a : a;
}

// floor(v) for 0 <= v < 2^22 without a float-to-int conversion call: adding 2^23 leaves the
// nearest integer in the low mantissa bits; one less where that rounded up.
static inline int32_t floor_small(float v) {
    const float magic = 8388608.0f;
    float nearest = (v + magic) - magic;
    float floored = nearest > v ? nearest - 1.0f : nearest;
    float shifted = floored + magic;
    int32_t bits;
    memcpy(&bits, &shifted, sizeof bits);
    return bits - 0x4B000000;
}

// Compiled twice, for AVX2 (8 lanes) and for the x86-64 baseline (4 lanes), by the wrappers
// below; `rs_place_points` (dispatch.c) calls the one the processor runs.
RS_KERNEL_BODY void place_points(const float *restrict xyzr, int64_t n, int32_t height, int32_t width,
                                 double fov_up_rad, double fov_down_rad,
                                 int32_t *restrict rows, int32_t *restrict columns, float *restrict ranges) {
    // Constants rounded to float32 as NumPy does with Python floats next to float32 arrays.
    const float pi = (float)M_PI;
    const float fov_down_abs = (float)fabs(fov_down_rad);
    const float fov = (float)(fabs(fov_down_rad) + fabs(fov_up_rad));
    const float w = (float)width, h = (float)height;
    const float last_column = w - 1.0f, last_row = h - 1.0f;
    for (int64_t i = 0; i < n; i++) {
        float x = xyzr[4 * i], y = xyzr[4 * i + 1], z = xyzr[4 * i + 2];
        float horizontal2 = x * x + y * y;
        float r = sqrtf(horizontal2 + z * z);
        float yaw = -fast_atan2f(y, x);
        float pitch = fast_atan2f(z, sqrtf(horizontal2)); // = asin(z / r)
        float u = 0.5f * (yaw / pi + 1.0f) * w;
        float v = (1.0f - (pitch + fov_down_abs) / fov) * h;
        // r > 0 is false for NaN; r < infinity rules out infinite coordinates.
        int placed = (r > 0.0f) & (r < INFINITY);
        // clamp(floor(u)) == floor(clamp(u)) for whole-number bounds; NaN clamps to 0.
        u = u > 0.0f ? u : 0.0f;
        u = u < last_column ? u : last_column;
        v = v > 0.0f ? v : 0.0f;
        v = v < last_row ? v : last_row;
        ranges[i] = r;
        columns[i] = placed ? floor_small(u) : -1;
        rows[i] = placed ? floor_small(v) : -1;
    }
}

void rs_place_points_baseline(const float *restrict xyzr, int64_t n, int32_t height, int32_t width,
                              double fov_up_rad, double fov_down_rad,
                              int32_t *restrict rows, int32_t *restrict columns, float *restrict ranges) {
    place_points(xyzr, n, height, width, fov_up_rad, fov_down_rad, rows, columns, ranges);
}

#if RS_HAVE_AVX2_VARIANT
RS_TARGET_AVX2
void rs_place_points_avx2(const float *restrict xyzr, int64_t n, int32_t height, int32_t width,
                          double fov_up_rad, double fov_down_rad,
                          int32_t *restrict rows, int32_t *restrict columns, float *restrict ranges) {
    place_points(xyzr, n, height, width, fov_up_rad, fov_down_rad, rows, columns, ranges);
}
#endif

struct fill_job {
    const float *xyzr;
    int64_t n;
    const int32_t *rows, *columns;
    const float *ranges;
    int32_t width;
    int32_t *index;
    float *range, *xyz, *remission;
    int64_t unplaced; // counted by the share that owns row 0
};

/// Image rows begin..<end: each share owns a band of rows, reads every point and keeps those
/// that fall in its band, in ascending order with a strict comparison, so that on equal ranges
/// the lower index stays, whatever the split.
static void fill_rows(void *context, int64_t begin, int64_t end) {
    struct fill_job *job = context;
    const int32_t width = job->width;
    const int32_t *restrict rows = job->rows, *restrict columns = job->columns;
    const float *restrict ranges = job->ranges, *restrict xyzr = job->xyzr;
    int32_t *restrict index = job->index;
    float *restrict range = job->range, *restrict xyz = job->xyz, *restrict remission = job->remission;
    for (int64_t p = begin * width; p < end * width; p++) {
        index[p] = -1;
        range[p] = INFINITY;
    }
    int64_t unplaced = 0;
    for (int64_t i = 0; i < job->n; i++) {
        const int32_t row = rows[i];
        if (row < 0) { unplaced++; continue; }
        if (row < begin || row >= end) continue;
        const int64_t p = (int64_t)row * width + columns[i];
        if (ranges[i] < range[p]) {
            range[p] = ranges[i];
            index[p] = (int32_t)i;
        }
    }
    if (begin == 0) job->unplaced = unplaced;
    for (int64_t p = begin * width; p < end * width; p++) {
        const int64_t i = index[p];
        if (i < 0) {
            range[p] = -1.0f;
            xyz[3 * p] = xyz[3 * p + 1] = xyz[3 * p + 2] = -1.0f;
            remission[p] = -1.0f;
            continue;
        }
        xyz[3 * p] = xyzr[4 * i];
        xyz[3 * p + 1] = xyzr[4 * i + 1];
        xyz[3 * p + 2] = xyzr[4 * i + 2];
        remission[p] = xyzr[4 * i + 3];
    }
}

int64_t rs_fill_pixels(const float *restrict xyzr, int64_t n, const int32_t *restrict rows,
                       const int32_t *restrict columns, const float *restrict ranges,
                       int32_t width, int64_t pixels,
                       int32_t *restrict index, float *restrict range, float *restrict xyz,
                       float *restrict remission) {
    struct fill_job job = {.xyzr = xyzr, .n = n, .rows = rows, .columns = columns, .ranges = ranges, .width = width,
                           .index = index, .range = range, .xyz = xyz, .remission = remission};
    const int64_t height = width > 0 ? pixels / width : 0;
    rs_parallel_for(height, 16, fill_rows, &job);
    return job.unplaced;
}

struct normalise_job {
    const int32_t *index;
    const float *range, *xyz, *remission;
    int64_t pixels;
    const float *means, *inverse;
    float *out;
};

static void normalise_pixels(void *context, int64_t begin, int64_t end) {
    const struct normalise_job *job = context;
    const int64_t n = job->pixels;
    const float *restrict m = job->means, *restrict s = job->inverse;
    float *restrict out = job->out;
    for (int64_t p = begin; p < end; p++) {
        const int empty = job->index[p] < 0;
        out[p] = empty ? 0.0f : (job->range[p] - m[0]) * s[0];
        out[n + p] = empty ? 0.0f : (job->xyz[3 * p] - m[1]) * s[1];
        out[2 * n + p] = empty ? 0.0f : (job->xyz[3 * p + 1] - m[2]) * s[2];
        out[3 * n + p] = empty ? 0.0f : (job->xyz[3 * p + 2] - m[3]) * s[3];
        out[4 * n + p] = empty ? 0.0f : (job->remission[p] - m[4]) * s[4];
    }
}

void rs_normalise_channels(const int32_t *restrict index, const float *restrict range, const float *restrict xyz,
                           const float *restrict remission, int64_t pixels, const float *restrict means,
                           const float *restrict inverse_stds, float *restrict out) {
    struct normalise_job job = {.index = index, .range = range, .xyz = xyz, .remission = remission, .pixels = pixels,
                                .means = means, .inverse = inverse_stds, .out = out};
    rs_parallel_for(pixels, 16384, normalise_pixels, &job);
}

struct unplaceable_job {
    const float *xyzr;
    int64_t found; // set (atomically) by a share that finds one
};

// No early exit, so that the compiler vectorises the loop.
static void find_unplaceable(void *context, int64_t begin, int64_t end) {
    struct unplaceable_job *job = context;
    const float *restrict v = job->xyzr;
    int bad = 0;
    for (int64_t i = begin; i < end; i++) {
        const float x = v[4 * i], y = v[4 * i + 1], z = v[4 * i + 2];
        // x - x is 0 for finite x and NaN for NaN or infinity, and NaN == 0 is false.
        const int finite = (x - x == 0.0f) & (y - y == 0.0f) & (z - z == 0.0f);
        const int zero = (x == 0.0f) & (y == 0.0f) & (z == 0.0f);
        bad |= !finite | zero;
    }
    if (bad) __atomic_store_n(&job->found, 1, __ATOMIC_RELAXED);
}

int rs_any_unplaceable(const float *restrict xyzr, int64_t n) {
    struct unplaceable_job job = {.xyzr = xyzr};
    rs_parallel_for(n, 32768, find_unplaceable, &job);
    return job.found != 0;
}
