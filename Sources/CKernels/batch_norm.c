#include "variants.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// Training-mode batch norm followed by leaky ReLU, in one pass each way, on oneDNN's
// channel-blocked layout `[N][C / B][H W][B]` (B = 8 or 16 channels; C padded up to a multiple of
// B with zeros), in float32 or bfloat16 (arithmetic in float either way).
//
// Separately, oneDNN writes batch norm's output z and the leaky ReLU reads it back and writes y;
// backward, the leaky ReLU writes dz and batch norm reads it twice. Here z and dz exist only in
// registers: forward reads x twice (statistics, then y) and writes y; backward reads x and dy
// twice (sums, then dx) and writes dx, recomputing z = a x + b for the leaky ReLU's mask.
//
// Forward, per channel c over M = N H W values, with a pivot K_c (the channel's first value) so
// that one pass gives the statistics without the cancellation of E[x^2] - E[x]^2:
//     mean = K + S1 / M,  var = S2 / M - (S1 / M)^2,  S1 = sum(x - K),  S2 = sum((x - K)^2)
//     a = scale / sqrt(var + eps),  b = shift - mean a,  y = leaky(a x + b)
// Backward, with dz = dy (a x + b > 0 ? 1 : slope):
//     d shift = sum(dz),  d scale = rstd sum(dz (x - mean)),
//     dx = a dz - a (d shift) / M - a rstd^2 (x - mean) sum(dz (x - mean)) / M
// Partial sums are taken per task in float over short runs of pixels, then in double, and the
// tasks are added in a fixed order, so results do not depend on the number of threads.

/// Pixels summed in float before the run's sum is added in double.
enum { SUM_RUN = 256 };

// Activations are float32, or bfloat16 (the bf16 precision's, which oneDNN's bf16 convolutions
// read and write): read as float, written rounded to nearest even (`load_bf16`, `round_bf16`).
#define LOAD(p, i) (E ? load_bf16((const uint16_t *)(p), (i)) : ((const float *)(p))[(i)])
#define STORE(p, i, v)                                          \
    do {                                                        \
        if (E) ((uint16_t *)(p))[(i)] = round_bf16(v);          \
        else ((float *)(p))[(i)] = (v);                         \
    } while (0)

// MARK: Per-chunk bodies, written for a compile-time block so the lane loops vectorise

RS_KERNEL_BODY void sums_block(const void *restrict x, int64_t pixels, const int B, const int E,
                               const float *restrict pivot, double *restrict sum, double *restrict squares) {
    for (int l = 0; l < B; l++) sum[l] = squares[l] = 0.0;
    for (int64_t start = 0; start < pixels; start += SUM_RUN) {
        const int64_t end = start + SUM_RUN < pixels ? start + SUM_RUN : pixels;
        float s[16] = {0}, q[16] = {0};
        for (int64_t p = start; p < end; p++) {
            for (int l = 0; l < B; l++) {
                const float d = LOAD(x, p * B + l) - pivot[l];
                s[l] += d;
                q[l] += d * d;
            }
        }
        for (int l = 0; l < B; l++) {
            sum[l] += s[l];
            squares[l] += q[l];
        }
    }
}

RS_KERNEL_BODY void apply_block(const void *restrict x, const void *restrict r, int64_t pixels, const int B,
                                const int E, const float *restrict a, const float *restrict b, float slope,
                                void *restrict y) {
    if (r) {
        for (int64_t p = 0; p < pixels; p++) {
            for (int l = 0; l < B; l++) {
                const float z = a[l] * LOAD(x, p * B + l) + b[l];
                STORE(y, p * B + l, (z > 0.0f ? z : slope * z) + LOAD(r, p * B + l));
            }
        }
        return;
    }
    for (int64_t p = 0; p < pixels; p++) {
        for (int l = 0; l < B; l++) {
            const float z = a[l] * LOAD(x, p * B + l) + b[l];
            STORE(y, p * B + l, z > 0.0f ? z : slope * z);
        }
    }
}

RS_KERNEL_BODY void gradient_sums_block(const void *restrict x, const void *restrict dy, int64_t pixels, const int B,
                                        const int E, const float *restrict a, const float *restrict b, const float *restrict mean,
                                        float slope, double *restrict sum_dz, double *restrict sum_dz_centred) {
    for (int l = 0; l < B; l++) sum_dz[l] = sum_dz_centred[l] = 0.0;
    for (int64_t start = 0; start < pixels; start += SUM_RUN) {
        const int64_t end = start + SUM_RUN < pixels ? start + SUM_RUN : pixels;
        float s[16] = {0}, c[16] = {0};
        for (int64_t p = start; p < end; p++) {
            for (int l = 0; l < B; l++) {
                const float v = LOAD(x, p * B + l);
                const float g = LOAD(dy, p * B + l);
                const float dz = a[l] * v + b[l] > 0.0f ? g : slope * g;
                s[l] += dz;
                c[l] += dz * (v - mean[l]);
            }
        }
        for (int l = 0; l < B; l++) {
            sum_dz[l] += s[l];
            sum_dz_centred[l] += c[l];
        }
    }
}

RS_KERNEL_BODY void input_gradient_block(const void *restrict x, const void *restrict dy, int64_t pixels, const int B,
                                         const int E, const float *restrict a, const float *restrict b, const float *restrict mean,
                                         float slope, const float *restrict centred_factor,
                                         const float *restrict offset, void *restrict dx) {
    for (int64_t p = 0; p < pixels; p++) {
        for (int l = 0; l < B; l++) {
            const float v = LOAD(x, p * B + l);
            const float g = LOAD(dy, p * B + l);
            const float dz = a[l] * v + b[l] > 0.0f ? g : slope * g;
            STORE(dx, p * B + l, a[l] * dz + centred_factor[l] * (v - mean[l]) + offset[l]);
        }
    }
}

// The variant wrappers: block and element type are constants inside each branch, so each loop is
// unrolled over its lanes and vectorised for the wrapper's instruction set.
#define RS_SPECIALISE(call_16f, call_8f, call_16h, call_8h) \
    if (bf16) {                                           \
        if (block == 16) call_16h;                        \
        else call_8h;                                     \
    } else {                                              \
        if (block == 16) call_16f;                        \
        else call_8f;                                     \
    }
#define RS_BATCH_NORM_VARIANT(suffix, target)                                                                       \
    target void rs_bn_sums_##suffix(const void *restrict x, int64_t pixels, int32_t block, int32_t bf16,           \
                                    const float *restrict pivot, double *restrict sum, double *restrict squares) { \
        RS_SPECIALISE(sums_block(x, pixels, 16, 0, pivot, sum, squares), sums_block(x, pixels, 8, 0, pivot, sum, squares), \
                      sums_block(x, pixels, 16, 1, pivot, sum, squares), sums_block(x, pixels, 8, 1, pivot, sum, squares)) \
    }                                                                                                                 \
    target void rs_bn_leaky_apply_##suffix(const void *restrict x, const void *restrict r, int64_t pixels,          \
                                           int32_t block, int32_t bf16, const float *restrict a,                     \
                                           const float *restrict b, float slope, void *restrict y) {                 \
        RS_SPECIALISE(apply_block(x, r, pixels, 16, 0, a, b, slope, y), apply_block(x, r, pixels, 8, 0, a, b, slope, y), \
                      apply_block(x, r, pixels, 16, 1, a, b, slope, y), apply_block(x, r, pixels, 8, 1, a, b, slope, y)) \
    }                                                                                                                 \
    target void rs_bn_leaky_gradient_sums_##suffix(const void *restrict x, const void *restrict dy, int64_t pixels,   \
                                                   int32_t block, int32_t bf16, const float *restrict a,              \
                                                   const float *restrict b, const float *restrict mean, float slope,  \
                                                   double *restrict sum_dz, double *restrict sum_dz_centred) {        \
        RS_SPECIALISE(gradient_sums_block(x, dy, pixels, 16, 0, a, b, mean, slope, sum_dz, sum_dz_centred),           \
                      gradient_sums_block(x, dy, pixels, 8, 0, a, b, mean, slope, sum_dz, sum_dz_centred),            \
                      gradient_sums_block(x, dy, pixels, 16, 1, a, b, mean, slope, sum_dz, sum_dz_centred),           \
                      gradient_sums_block(x, dy, pixels, 8, 1, a, b, mean, slope, sum_dz, sum_dz_centred))            \
    }                                                                                                                 \
    target void rs_bn_leaky_input_gradient_##suffix(                                                                  \
        const void *restrict x, const void *restrict dy, int64_t pixels, int32_t block, int32_t bf16,                 \
        const float *restrict a, const float *restrict b, const float *restrict mean, float slope,                    \
        const float *restrict centred_factor, const float *restrict offset, void *restrict dx) {                      \
        RS_SPECIALISE(input_gradient_block(x, dy, pixels, 16, 0, a, b, mean, slope, centred_factor, offset, dx),      \
                      input_gradient_block(x, dy, pixels, 8, 0, a, b, mean, slope, centred_factor, offset, dx),       \
                      input_gradient_block(x, dy, pixels, 16, 1, a, b, mean, slope, centred_factor, offset, dx),      \
                      input_gradient_block(x, dy, pixels, 8, 1, a, b, mean, slope, centred_factor, offset, dx))       \
    }

RS_BATCH_NORM_VARIANT(baseline, )
#if RS_HAVE_AVX2_VARIANT
RS_BATCH_NORM_VARIANT(avx2, RS_TARGET_AVX2)
#endif

// MARK: The drivers: tasks over (sample, channel block, run of pixels), shared among threads

/// Pixels per task: 4096 x 16 floats is 256 KB, enough to amortise a task, small enough that two
/// threads get even shares of the smallest activations.
enum { TASK_PIXELS = 4096 };

/// The four passes over the tasks: forward statistics and output, backward sums and input gradient.
enum bn_pass { PASS_SUMS, PASS_APPLY, PASS_GRADIENT_SUMS, PASS_INPUT_GRADIENT };

struct bn_job {
    const rs_kernel_table *kernels;
    enum bn_pass pass;
    const char *x, *dy, *residual; // bytes: float32 or bfloat16 elements; dy, residual may be NULL
    char *out;
    int64_t blocks, pixels, chunks;
    int32_t block, bf16;
    float slope;
    // Per padded channel (blocks x block values).
    const float *pivot, *a, *b, *mean, *centred_factor, *offset;
    // Per task: block values each.
    double *first, *second;
};

static inline void task_place(const struct bn_job *job, int64_t task, int64_t *offset, int64_t *pixels,
                              int64_t *channel) {
    const int64_t chunk = task % job->chunks;
    const int64_t plane = task / job->chunks; // sample * blocks + channel block
    const int64_t begin = chunk * TASK_PIXELS;
    const int64_t end = begin + TASK_PIXELS < job->pixels ? begin + TASK_PIXELS : job->pixels;
    *offset = (plane * job->pixels + begin) * job->block * (job->bf16 ? 2 : 4);
    *pixels = end - begin;
    *channel = (plane % job->blocks) * job->block;
}

/// Runs the job's pass on tasks begin..<end (one share of `rs_parallel_for`).
static void run_tasks(void *context, int64_t begin, int64_t end) {
    const struct bn_job *job = context;
    const rs_kernel_table *k = job->kernels;
    for (int64_t t = begin; t < end; t++) {
        int64_t offset, pixels, c;
        task_place(job, t, &offset, &pixels, &c);
        const char *x = job->x + offset, *dy = job->dy ? job->dy + offset : NULL;
        double *first = job->first + t * job->block, *second = job->second + t * job->block;
        switch (job->pass) {
        case PASS_SUMS:
            k->bn_sums(x, pixels, job->block, job->bf16, job->pivot + c, first, second);
            break;
        case PASS_APPLY:
            k->bn_leaky_apply(x, job->residual ? job->residual + offset : NULL, pixels, job->block, job->bf16, job->a + c,
                              job->b + c, job->slope, job->out + offset);
            break;
        case PASS_GRADIENT_SUMS:
            k->bn_leaky_gradient_sums(x, dy, pixels, job->block, job->bf16, job->a + c, job->b + c, job->mean + c,
                                      job->slope, first, second);
            break;
        case PASS_INPUT_GRADIENT:
            k->bn_leaky_input_gradient(x, dy, pixels, job->block, job->bf16, job->a + c, job->b + c, job->mean + c,
                                       job->slope, job->centred_factor + c, job->offset + c, job->out + offset);
            break;
        }
    }
}

/// Runs `pass` over every task, shared among threads.
static void run(struct bn_job *job, enum bn_pass pass, int64_t tasks) {
    job->pass = pass;
    rs_parallel_for(tasks, 1, run_tasks, job);
}

/// Adds the tasks' partial sums channel by channel, in task order.
static void reduce(const struct bn_job *job, int64_t samples, const double *partial, double *total) {
    const int64_t padded = job->blocks * job->block;
    for (int64_t c = 0; c < padded; c++) total[c] = 0.0;
    for (int64_t n = 0; n < samples; n++)
        for (int64_t cb = 0; cb < job->blocks; cb++)
            for (int64_t chunk = 0; chunk < job->chunks; chunk++) {
                const int64_t task = (n * job->blocks + cb) * job->chunks + chunk;
                for (int l = 0; l < job->block; l++) total[cb * job->block + l] += partial[task * job->block + l];
            }
}

/// Everything the drivers allocate, in one block.
struct bn_scratch {
    float *per_channel; // 6 x padded floats
    double *partials;   // 2 x tasks x block doubles, then 2 x padded totals
    int64_t tasks, padded;
};

static int scratch_make(struct bn_scratch *s, int64_t samples, int64_t blocks, int64_t chunks, int32_t block) {
    s->padded = blocks * block;
    s->tasks = samples * blocks * chunks;
    s->per_channel = calloc((size_t)(6 * s->padded), sizeof(float));
    s->partials = calloc((size_t)(2 * s->tasks * block + 2 * s->padded), sizeof(double));
    if (s->per_channel && s->partials) return 1;
    free(s->per_channel);
    free(s->partials);
    return 0;
}

static void scratch_free(struct bn_scratch *s) {
    free(s->per_channel);
    free(s->partials);
}

int rs_batch_norm_leaky_relu_forward(const void *restrict x, const void *restrict residual, int64_t samples,
                                     int64_t channels, int64_t pixels, int32_t block, int32_t bf16,
                                     const float *restrict scale, const float *restrict shift, float epsilon,
                                     float slope, void *restrict y, float *restrict mean, float *restrict variance) {
    if (samples <= 0 || channels <= 0 || pixels <= 0 || (block != 8 && block != 16)) return 0;
    const int64_t blocks = (channels + block - 1) / block, chunks = (pixels + TASK_PIXELS - 1) / TASK_PIXELS;
    struct bn_scratch s;
    if (!scratch_make(&s, samples, blocks, chunks, block)) return 0;
    float *pivot = s.per_channel, *a = pivot + s.padded, *b = a + s.padded;
    double *first = s.partials, *second = first + s.tasks * block;
    double *sum = second + s.tasks * block, *squares = sum + s.padded;
    for (int64_t c = 0; c < channels; c++) {
        const int64_t i = (c / block) * pixels * block + c % block;
        pivot[c] = bf16 ? load_bf16(x, i) : ((const float *)x)[i];
    }

    struct bn_job job = {.kernels = rs_active_kernels(), .x = x, .residual = residual, .out = y, .blocks = blocks, .pixels = pixels,
                         .chunks = chunks, .block = block, .bf16 = bf16 != 0, .slope = slope, .pivot = pivot, .a = a, .b = b,
                         .first = first, .second = second};
    run(&job, PASS_SUMS, s.tasks);
    reduce(&job, samples, first, sum);
    reduce(&job, samples, second, squares);
    const double m = (double)(samples * pixels);
    for (int64_t c = 0; c < channels; c++) {
        const double centred = sum[c] / m;
        double var = squares[c] / m - centred * centred;
        if (var < 0.0) var = 0.0;
        const double mu = pivot[c] + centred;
        mean[c] = (float)mu;
        variance[c] = (float)var;
        const float rstd = (float)(1.0 / sqrt(var + (double)epsilon));
        a[c] = scale[c] * rstd;
        b[c] = shift[c] - mean[c] * a[c];
    }
    // Padded lanes keep a = b = 0, so their outputs are 0 as oneDNN expects.
    run(&job, PASS_APPLY, s.tasks);
    scratch_free(&s);
    return 1;
}

int rs_batch_norm_leaky_relu_backward(const void *restrict x, const void *restrict dy, int64_t samples,
                                      int64_t channels, int64_t pixels, int32_t block, int32_t bf16,
                                      const float *restrict scale, const float *restrict shift,
                                      const float *restrict mean, const float *restrict variance, float epsilon,
                                      float slope, void *restrict dx, float *restrict dscale, float *restrict dshift) {
    if (samples <= 0 || channels <= 0 || pixels <= 0 || (block != 8 && block != 16)) return 0;
    const int64_t blocks = (channels + block - 1) / block, chunks = (pixels + TASK_PIXELS - 1) / TASK_PIXELS;
    struct bn_scratch s;
    if (!scratch_make(&s, samples, blocks, chunks, block)) return 0;
    float *a = s.per_channel, *b = a + s.padded, *mu = b + s.padded;
    float *centred_factor = mu + s.padded, *offset = centred_factor + s.padded, *rstd = offset + s.padded;
    double *first = s.partials, *second = first + s.tasks * block;
    double *sum_dz = second + s.tasks * block, *sum_dz_centred = sum_dz + s.padded;
    for (int64_t c = 0; c < channels; c++) {
        rstd[c] = (float)(1.0 / sqrt((double)variance[c] + (double)epsilon));
        a[c] = scale[c] * rstd[c];
        b[c] = shift[c] - mean[c] * a[c];
        mu[c] = mean[c];
    }
    struct bn_job job = {.kernels = rs_active_kernels(), .x = x, .dy = dy, .out = dx, .blocks = blocks,
                         .pixels = pixels, .chunks = chunks, .block = block, .bf16 = bf16 != 0, .slope = slope, .a = a, .b = b,
                         .mean = mu, .centred_factor = centred_factor, .offset = offset, .first = first,
                         .second = second};
    run(&job, PASS_GRADIENT_SUMS, s.tasks);
    reduce(&job, samples, first, sum_dz);
    reduce(&job, samples, second, sum_dz_centred);
    const double m = (double)(samples * pixels);
    for (int64_t c = 0; c < channels; c++) {
        const double r = rstd[c];
        dshift[c] = (float)sum_dz[c];
        dscale[c] = (float)(r * sum_dz_centred[c]);
        centred_factor[c] = (float)(-(double)a[c] * r * r * sum_dz_centred[c] / m);
        offset[c] = (float)(-(double)a[c] * sum_dz[c] / m);
    }
    // Padded lanes keep every coefficient 0, so their gradients are 0.
    run(&job, PASS_INPUT_GRADIENT, s.tasks);
    scratch_free(&s);
    return 1;
}
