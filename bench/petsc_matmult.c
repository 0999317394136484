/* PETSc's MatMult on an MPIAIJ matrix read from a Matrix Market file: the yardstick of
 * `csr-mpi bench` (same matrix, same rank count, same x, same timing rule).
 *
 * Build:  mpicc -O2 -o target/petsc_matmult bench/petsc_matmult.c $(pkg-config --cflags --libs PETSc)
 * Run:    mpirun -n 2 --bind-to core target/petsc_matmult FILE.mtx [REPS]
 *
 * Every rank reads the file and keeps the entries of the rows PETSc gives it (PETSC_DECIDE:
 * contiguous, near-equal row blocks); symmetric files are expanded. x_j = 1 + (j mod 7)/8
 * as in `csr-mpi bench`. Each timed call: MPI_Barrier, MatMult, the time's MPI_MAX over
 * ranks; the median of REPS (default 21) calls after 3 untimed ones is printed. */
#include <ctype.h>
#include <petscmat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Reads the header and leaves `f` at the first entry line. */
static int read_header(FILE *f, PetscInt *m, PetscInt *n, long *nnz, int *symmetric, int *pattern) {
  char line[4096];
  if (!fgets(line, sizeof line, f)) return 1;
  for (char *p = line; *p; ++p) *p = (char)tolower((unsigned char)*p);
  if (!strstr(line, "coordinate")) return 2;
  *symmetric = strstr(line, "symmetric") != NULL;
  *pattern = strstr(line, "pattern") != NULL;
  do {
    if (!fgets(line, sizeof line, f)) return 1;
  } while (line[0] == '%');
  long mm, nn;
  if (sscanf(line, "%ld %ld %ld", &mm, &nn, nnz) != 3) return 1;
  *m = (PetscInt)mm;
  *n = (PetscInt)nn;
  return 0;
}

typedef struct {
  PetscInt i, j;
  PetscScalar v;
} Entry;

int main(int argc, char **argv) {
  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  if (argc < 2) {
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "usage: petsc_matmult FILE.mtx [REPS]\n"));
    PetscCall(PetscFinalize());
    return 2;
  }
  int reps = argc > 2 ? atoi(argv[2]) : 21;
  if (reps < 1) reps = 21;
  PetscMPIInt size;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));

  FILE *f = fopen(argv[1], "r");
  PetscInt m, n;
  long nnz;
  int symmetric, pattern;
  if (!f || read_header(f, &m, &n, &nnz, &symmetric, &pattern)) {
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "cannot read %s (coordinate files only)\n", argv[1]));
    PetscCall(PetscFinalize());
    return 1;
  }

  /* PETSc's default split of rows and columns, and this rank's ranges. */
  PetscInt mloc = PETSC_DECIDE, nloc = PETSC_DECIDE, r1, c1;
  PetscCall(PetscSplitOwnership(PETSC_COMM_WORLD, &mloc, &m));
  PetscCall(PetscSplitOwnership(PETSC_COMM_WORLD, &nloc, &n));
  PetscCallMPI(MPI_Scan(&mloc, &r1, 1, MPIU_INT, MPI_SUM, PETSC_COMM_WORLD));
  PetscCallMPI(MPI_Scan(&nloc, &c1, 1, MPIU_INT, MPI_SUM, PETSC_COMM_WORLD));
  PetscInt r0 = r1 - mloc, c0 = c1 - nloc;
  Mat A;
  PetscCall(MatCreate(PETSC_COMM_WORLD, &A));
  PetscCall(MatSetSizes(A, mloc, nloc, m, n));
  PetscCall(MatSetType(A, MATAIJ));

  /* This rank's entries (both triangles of a symmetric file). */
  size_t cap = 1024, len = 0;
  Entry *e = malloc(cap * sizeof *e);
  for (long k = 0; k < nnz; ++k) {
    long i, j;
    double v = 1.0;
    int got = pattern ? fscanf(f, "%ld %ld", &i, &j) : fscanf(f, "%ld %ld %lf", &i, &j, &v);
    if (got < 2) break;
    for (int mirror = 0; mirror < 1 + (symmetric && i != j); ++mirror) {
      PetscInt ii = (PetscInt)(mirror ? j : i) - 1, jj = (PetscInt)(mirror ? i : j) - 1;
      if (ii < r0 || ii >= r1) continue;
      if (len == cap) e = realloc(e, (cap *= 2) * sizeof *e);
      e[len++] = (Entry){ii, jj, (PetscScalar)v};
    }
  }
  fclose(f);

  PetscInt *d_nnz, *o_nnz;
  PetscCall(PetscCalloc2(r1 - r0, &d_nnz, r1 - r0, &o_nnz));
  for (size_t k = 0; k < len; ++k) {
    if (e[k].j >= c0 && e[k].j < c1) d_nnz[e[k].i - r0]++;
    else o_nnz[e[k].i - r0]++;
  }
  PetscCall(MatXAIJSetPreallocation(A, 1, d_nnz, o_nnz, NULL, NULL));
  PetscCall(MatSetOption(A, MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_FALSE));
  for (size_t k = 0; k < len; ++k) PetscCall(MatSetValues(A, 1, &e[k].i, 1, &e[k].j, &e[k].v, ADD_VALUES));
  free(e);
  PetscCall(PetscFree2(d_nnz, o_nnz));
  PetscCall(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));

  Vec x, y;
  PetscCall(MatCreateVecs(A, &x, &y));
  for (PetscInt j = c0; j < c1; ++j) PetscCall(VecSetValue(x, j, 1.0 + (double)(j % 7) / 8.0, INSERT_VALUES));
  PetscCall(VecAssemblyBegin(x));
  PetscCall(VecAssemblyEnd(x));

  for (int k = 0; k < 3; ++k) PetscCall(MatMult(A, x, y));
  double *t = malloc((size_t)reps * sizeof *t);
  for (int k = 0; k < reps; ++k) {
    PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
    double t0 = MPI_Wtime();
    PetscCall(MatMult(A, x, y));
    double mine = MPI_Wtime() - t0;
    PetscCallMPI(MPI_Allreduce(&mine, &t[k], 1, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD));
  }
  qsort(t, (size_t)reps, sizeof *t, cmp_double);
  MatInfo info;
  PetscCall(MatGetInfo(A, MAT_GLOBAL_SUM, &info));
  PetscReal norm;
  PetscCall(VecNorm(y, NORM_2, &norm));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "| petsc MatMult | %s | %d | %" PetscInt_FMT " | %.0f | %.3f | ‖y‖ = %.12e |\n",
                        argv[1], (int)size, m, info.nz_used, t[reps / 2] * 1e3, (double)norm));
  free(t);
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&y));
  PetscCall(MatDestroy(&A));
  PetscCall(PetscFinalize());
  return 0;
}
