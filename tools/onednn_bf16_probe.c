// Does this CPU run bf16 convolutions in Intel's current oneDNN (3.x, the PyPI package
// onednn-devel), and how fast against f32? Issue 12's question "is onednn-devel worth it?" starts
// here: Debian's oneDNN 2.6 is what RangeSeg links; this probe needs the 3.x API. Not part of the
// build or of tools/setup.sh (the package and its SYCL runtime are about 2 GB):
//
//   python3 -m venv /tmp/venv-onednn && /tmp/venv-onednn/bin/pip install onednn-devel
//   V=/tmp/venv-onednn
//   gcc -O2 tools/onednn_bf16_probe.c -I$V/include -L$V/lib -ldnnl -Wl,--allow-shlib-undefined -o /tmp/probe
//   LD_LIBRARY_PATH=$V/lib OCL_ICD_FILENAMES=$V/lib/libintelocl.so /tmp/probe [channels]
//   # ONEDNN_VERBOSE=dispatch before it says why each implementation declined
//
// The PyPI build runs its CPU engine through SYCL, hence the OpenCL CPU runtime in
// OCL_ICD_FILENAMES. It times a 3x3 convolution, batch 2, 64 x 512, stride 1, forward, layouts
// chosen by oneDNN, 5 runs after one warm-up.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "oneapi/dnnl/dnnl.h"
#define CHECK(x) do { dnnl_status_t st_ = (x); if (st_ != dnnl_success) { printf("%s: status %d\n", #x, st_); return 1; } } while (0)
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int run(dnnl_engine_t eng, dnnl_stream_t st, dnnl_data_type_t dt, const char *name, long c) {
    dnnl_dims_t src = {2, c, 64, 512}, wei = {c, c, 3, 3}, dst = {2, c, 64, 512};
    dnnl_dims_t strides = {1, 1}, dil = {0, 0}, pad = {1, 1};
    dnnl_memory_desc_t s, w, d;
    CHECK(dnnl_memory_desc_create_with_tag(&s, 4, src, dt, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_create_with_tag(&w, 4, wei, dt, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_create_with_tag(&d, 4, dst, dt, dnnl_format_tag_any));
    dnnl_primitive_desc_t pd;
    dnnl_status_t status = dnnl_convolution_forward_primitive_desc_create(&pd, eng, dnnl_forward_training,
        dnnl_convolution_direct, s, w, NULL, d, strides, dil, pad, pad, NULL);
    if (status != dnnl_success) { printf("%s forward: no implementation (status %d)\n", name, status); return 0; }
    const char *impl; dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    dnnl_primitive_t p; CHECK(dnnl_primitive_create(&p, pd));
    const_dnnl_memory_desc_t qs = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    const_dnnl_memory_desc_t qw = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const_dnnl_memory_desc_t qd = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    dnnl_memory_t ms, mw, md;
    CHECK(dnnl_memory_create(&ms, qs, eng, DNNL_MEMORY_ALLOCATE));
    CHECK(dnnl_memory_create(&mw, qw, eng, DNNL_MEMORY_ALLOCATE));
    CHECK(dnnl_memory_create(&md, qd, eng, DNNL_MEMORY_ALLOCATE));
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, md}};
    CHECK(dnnl_primitive_execute(p, st, 3, args)); dnnl_stream_wait(st);
    int n = 5; double t0 = now();
    for (int i = 0; i < n; i++) CHECK(dnnl_primitive_execute(p, st, 3, args));
    dnnl_stream_wait(st);
    double ms_per = (now() - t0) / n * 1e3;
    double gflop = 2.0 * 2 * c * 64 * 512 * c * 9 / 1e9;
    printf("%s forward, %ld channels: %s, %.1f ms, %.0f GFLOP/s\n", name, c, impl, ms_per, gflop / ms_per * 1e3);
    return 0;
}
int main(int argc, char **argv) {
    long c = argc > 1 ? atol(argv[1]) : 64;
    const dnnl_version_t *v = dnnl_version();
    printf("oneDNN %d.%d.%d, max ISA %d\n", v->major, v->minor, v->patch, dnnl_get_effective_cpu_isa());
    dnnl_engine_t eng; dnnl_stream_t st;
    CHECK(dnnl_engine_create(&eng, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&st, eng, dnnl_stream_default_flags));
    run(eng, st, dnnl_f32, "f32", c);
    run(eng, st, dnnl_bf16, "bf16", c);
    return 0;
}
