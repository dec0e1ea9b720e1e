#include "kernels.h"

// The running best value per pixel is kept in a small block on the stack, so each plane is read
// once; the class is chosen with a mask rather than a select, which the baseline x86-64 target
// (SSE2, no blend instruction) vectorises too.
void rs_argmax_classes(const float *restrict logits, int64_t classes, int64_t pixels, int32_t *restrict out) {
    enum { chunk = 1024 };
    float best[chunk];
    for (int64_t start = 0; start < pixels; start += chunk) {
        int64_t count = pixels - start < chunk ? pixels - start : chunk;
        int32_t *restrict winner = out + start;
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
