// Times MPI_Allreduce (sum, in place) of one RangeNet-lite gradient: 1,226,036 floats, 4.9 MB,
// the flat buffer `rangeseg train` sums once per step (its one extra value, the loss, aside).
//
//   mpicc -O2 tools/allreduce.c -o /tmp/allreduce
//   mpirun --allow-run-as-root --oversubscribe -np 2 /tmp/allreduce [floats] [repetitions]
//
// Every repetition starts after a barrier, so the time is the all-reduce alone, not the
// wait for a slower rank that a training step also sees. Rank 0 prints the median and range.
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int count = argc > 1 ? atoi(argv[1]) : 1226036;
    int repetitions = argc > 2 ? atoi(argv[2]) : 50;
    float *buffer = malloc(sizeof(float) * count);
    double *times = malloc(sizeof(double) * repetitions);
    for (int i = 0; i < count; i++) buffer[i] = 1e-3f * (float)(i % 1000);
    for (int r = -5; r < repetitions; r++) {  // five untimed
        MPI_Barrier(MPI_COMM_WORLD);
        double start = MPI_Wtime();
        MPI_Allreduce(MPI_IN_PLACE, buffer, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        double elapsed = MPI_Wtime() - start;
        for (int i = 0; i < count; i++) buffer[i] /= (float)size;  // keep the values finite
        if (r >= 0) times[r] = elapsed * 1e3;
    }
    qsort(times, repetitions, sizeof(double), compare);
    if (rank == 0) {
        printf("all-reduce of %d floats (%.1f MB) on %d ranks: median %.2f ms, range %.2f-%.2f ms (%d runs)\n",
               count, count * 4.0 / 1e6, size, times[repetitions / 2], times[0], times[repetitions - 1], repetitions);
    }
    free(buffer);
    free(times);
    MPI_Finalize();
    return 0;
}
