#include "kernels.h"

struct argmax_job {
    const float *logits;
    int64_t classes, pixels;
    int32_t *out;
};

// The running best value per pixel is kept in a small block on the stack, so each plane is read
// once; the class is chosen with a mask rather than a select, which the baseline x86-64 target
// (SSE2, no blend instruction) vectorises too.
static void argmax_pixels(void *context, int64_t begin, int64_t end) {
    const struct argmax_job *job = context;
    const float *restrict logits = job->logits;
    const int64_t classes = job->classes, pixels = job->pixels;
    enum { chunk = 1024 };
    float best[chunk];
    for (int64_t start = begin; start < end; start += chunk) {
        int64_t count = end - start < chunk ? end - start : chunk;
        int32_t *restrict winner = job->out + start;
        for (int64_t p = 0; p < count; p++) {
            best[p] = logits[start + p];
            winner[p] = 0;
        }
        for (int64_t c = 1; c < classes; c++) {
            const float *restrict plane = logits + c * pixels + start;
            for (int64_t p = 0; p < count; p++) {
                int32_t larger = -(int32_t)(plane[p] > best[p]);  // all ones or all zeros
                best[p] = plane[p] > best[p] ? plane[p] : best[p];
                winner[p] = (winner[p] & ~larger) | ((int32_t)c & larger);
            }
        }
    }
}

void rs_argmax_classes(const float *restrict logits, int64_t classes, int64_t pixels, int32_t *restrict out) {
    struct argmax_job job = {.logits = logits, .classes = classes, .pixels = pixels, .out = out};
    rs_parallel_for(pixels, 16384, argmax_pixels, &job);
}

struct block_argmax_job {
    const float *data;
    int64_t classes, pixels, block;
    int32_t *out;
};

// Reading is the cost here: a 64 x 2048 image of 20 classes padded to 32 channels is 16.8 MB.
// In a one-thread harness on the AVX512-BF16 EPYC this loop took 1.7 times the plain kernel's
// time over the same logits in planes (10.5 MB), and so did a version that copied each chunk
// into planes first so as to vectorise; but it spares the reorder to planes, which reads the
// 16.8 MB and writes 10.5 MB.
static void argmax_block_pixels(void *context, int64_t begin, int64_t end) {
    const struct block_argmax_job *job = context;
    const int64_t classes = job->classes, pixels = job->pixels, block = job->block;
    for (int64_t p = begin; p < end; p++) {
        float best = job->data[p * block];
        int32_t winner = 0;
        for (int64_t first = 0; first < classes; first += block) {
            const float *restrict values = job->data + (first / block * pixels + p) * block;
            const int64_t count = classes - first < block ? classes - first : block;
            for (int64_t l = 0; l < count; l++) {
                if (values[l] > best) {
                    best = values[l];
                    winner = (int32_t)(first + l);
                }
            }
        }
        job->out[p] = winner;
    }
}

void rs_argmax_channel_blocks(const float *restrict data, int64_t classes, int64_t pixels, int64_t block,
                              int32_t *restrict out) {
    struct block_argmax_job job = {.data = data, .classes = classes, .pixels = pixels, .block = block, .out = out};
    rs_parallel_for(pixels, 16384, argmax_block_pixels, &job);
}
