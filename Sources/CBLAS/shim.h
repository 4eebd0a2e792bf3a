#ifndef COLONY_CBLAS_SHIM_H
#define COLONY_CBLAS_SHIM_H
#include <cblas.h>
#endif
