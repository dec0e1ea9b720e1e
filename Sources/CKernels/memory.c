#include "kernels.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

void rs_keep_large_buffers(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 512 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}
