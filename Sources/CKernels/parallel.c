#define _GNU_SOURCE
#include "kernels.h"

#include <dlfcn.h>
#include <pthread.h>

// The kernels share their work among the OpenMP threads that oneDNN already runs (GNU libgomp,
// which libdnnl links), found at run time with dlsym: a kernel called right after a network pass
// finds those threads still spinning for the next parallel region, so it starts at once and
// takes no core from anyone. No second thread pool exists to compete with oneDNN's.
//
// The calls are libgomp's public ABI, the one GCC compiles `#pragma omp parallel` into:
// GOMP_parallel(fn, data, threads, flags) runs fn(data) on a team of `threads` (0: the default)
// and returns when all are done. Clang only emits calls to LLVM's libomp, whose threads would
// compete with libgomp's, so the call is made by hand. Without libgomp in the process every
// kernel runs on the calling thread, with the same results: each share of the work writes its
// own part of the output.

typedef void (*gomp_parallel_function)(void (*fn)(void *), void *data, unsigned threads, unsigned flags);
typedef int (*omp_query_function)(void);

static pthread_once_t lookup_once = PTHREAD_ONCE_INIT;
static gomp_parallel_function gomp_parallel;
static omp_query_function thread_number, team_size, maximum_threads;

static void look_up_libgomp(void) {
    gomp_parallel_function parallel = (gomp_parallel_function)dlsym(RTLD_DEFAULT, "GOMP_parallel");
    thread_number = (omp_query_function)dlsym(RTLD_DEFAULT, "omp_get_thread_num");
    team_size = (omp_query_function)dlsym(RTLD_DEFAULT, "omp_get_num_threads");
    maximum_threads = (omp_query_function)dlsym(RTLD_DEFAULT, "omp_get_max_threads");
    gomp_parallel = thread_number && team_size && maximum_threads ? parallel : NULL;
}

static int thread_limit; // 0: none; read and written atomically

// Whether kernels called on this thread share their work. Only the thread that runs the network
// opts in: its OpenMP team is oneDNN's. From any other thread (a training data loader, the
// writer of a labelling pipeline) GOMP_parallel would start a second team, whose threads spin
// after each kernel beside the network's and slowed a training epoch by 6% (0.48-0.50 against
// 0.51-0.53 s per step of `rangeseg train`, alternating, AVX512-BF16 EPYC).
static _Thread_local int share_here;

int rs_parallel_share_here(int share) {
    const int previous = share_here;
    share_here = share != 0;
    return previous;
}

void rs_parallel_limit_threads(int threads) { __atomic_store_n(&thread_limit, threads > 0 ? threads : 0, __ATOMIC_RELAXED); }

int rs_parallel_threads(void) {
    pthread_once(&lookup_once, look_up_libgomp);
    if (!gomp_parallel) return 1;
    int threads = maximum_threads();
    const int limit = __atomic_load_n(&thread_limit, __ATOMIC_RELAXED);
    if (limit > 0 && threads > limit) threads = limit;
    return threads > 1 ? threads : 1;
}

struct parallel_job {
    rs_parallel_body body;
    void *context;
    int64_t count;
};

/// One team member's share: the `t`-th of `n` contiguous, near-equal parts of 0..<count.
static void run_share(void *data) {
    const struct parallel_job *job = data;
    const int64_t t = thread_number(), n = team_size();
    const int64_t begin = job->count * t / n, end = job->count * (t + 1) / n;
    if (begin < end) job->body(job->context, begin, end);
}

void rs_parallel_for(int64_t count, int64_t minimum_share, rs_parallel_body body, void *context) {
    if (count <= 0) return;
    int64_t threads = share_here ? rs_parallel_threads() : 1;
    const int64_t most = count / (minimum_share > 0 ? minimum_share : 1);
    if (threads > most) threads = most;
    if (threads <= 1) {
        body(context, 0, count);
        return;
    }
    struct parallel_job job = {.body = body, .context = context, .count = count};
    gomp_parallel(run_share, &job, (unsigned)threads, 0);
}
