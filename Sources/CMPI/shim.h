// Open MPI's C interface for Swift.
//
// Open MPI's predefined handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, MPI_IN_PLACE, ...) are
// macros over the addresses of library globals, which Swift does not import; these
// functions return them.
#include <mpi.h>

static inline MPI_Comm rs_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype rs_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype rs_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype rs_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op rs_mpi_sum(void) { return MPI_SUM; }
static inline void *rs_mpi_in_place(void) { return MPI_IN_PLACE; }
