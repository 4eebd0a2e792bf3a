#ifndef COLONY_CZEROMQ_SHIM_H
#define COLONY_CZEROMQ_SHIM_H
#include <zmq.h>
#endif
